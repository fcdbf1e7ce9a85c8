/*
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at
 *
 *     http://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */
package org.flinkros.connector.internal;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.api.common.typeutils.base.StringSerializer;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.runtime.checkpoint.CheckpointCoordinator;
import org.apache.flink.runtime.execution.Environment;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.jobgraph.tasks.TaskOperatorEventGateway;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.runtime.operators.coordination.CoordinationRequest;
import org.apache.flink.runtime.operators.coordination.CoordinationResponse;
import org.apache.flink.runtime.operators.coordination.OperatorCoordinator;
import org.apache.flink.runtime.taskmanager.Task;
import org.apache.flink.shaded.guava33.com.google.common.hash.Hashing;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.operators.StreamingRuntimeContext;
import org.apache.flink.streaming.api.operators.collect.CollectCoordinationResponse;
import org.apache.flink.streaming.runtime.tasks.StreamTask;
import org.apache.flink.table.functions.FunctionContext;
import org.apache.flink.util.InstantiationUtil;
import org.apache.flink.util.SerializedValue;

import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Every use of Flink's internal (non-public) API that is not a subclass of one of its operators or
 * coordinators, in one place: what to look at when a Flink release changes them. The connector is
 * tested with the Flink versions in {@link #TESTED_VERSIONS}; {@code FlinkInternalsTest} fails when
 * one of these calls no longer works and keeps other classes from using them directly.
 */
@Internal
public final class FlinkInternals {
    /** The Flink versions flink-ros is tested with. */
    public static final String TESTED_VERSIONS = "2.2 and 2.3";

    private FlinkInternals() {}

    /**
     * A reply from a coordinator to a task: a number and strings. Replies must be Flink classes,
     * since a TaskManager deserializes them without the job's class loader, so they travel as a
     * {@link CollectCoordinationResponse} tagged with {@code tag}.
     */
    public static CoordinationResponse coordinationReply(
            String tag, long number, List<String> strings) {
        List<byte[]> serialized = new ArrayList<>(strings.size());
        try {
            for (String string : strings) {
                serialized.add(
                        InstantiationUtil.serializeToByteArray(StringSerializer.INSTANCE, string));
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialize " + strings, e);
        }
        return new CollectCoordinationResponse(tag, number, serialized);
    }

    /** The number of a reply made by {@link #coordinationReply} with {@code tag}. */
    public static long replyNumber(CoordinationResponse reply, String tag) throws IOException {
        return tagged(reply, tag).getLastCheckpointedOffset();
    }

    /** The strings of a reply made by {@link #coordinationReply} with {@code tag}. */
    public static List<String> replyStrings(CoordinationResponse reply, String tag)
            throws IOException {
        return tagged(reply, tag).getResults(StringSerializer.INSTANCE);
    }

    private static CollectCoordinationResponse tagged(CoordinationResponse reply, String tag)
            throws IOException {
        if (!(reply instanceof CollectCoordinationResponse)
                || !tag.equals(((CollectCoordinationResponse) reply).getVersion())) {
            throw new IOException("unexpected coordinator reply " + reply + ", expected " + tag);
        }
        return (CollectCoordinationResponse) reply;
    }

    /**
     * Sends {@code request} from an operator of {@code task} to the operator's coordinator; the
     * reply arrives outside the task's mailbox.
     */
    public static CompletableFuture<CoordinationResponse> requestCoordinator(
            StreamTask<?, ?> task, OperatorID operator, CoordinationRequest request)
            throws IOException {
        return requests(task.getEnvironment()).send(operator, request);
    }

    private static CoordinatorRequests requests(Environment environment) {
        TaskOperatorEventGateway gateway = environment.getOperatorCoordinatorEventGateway();
        return (operator, request) ->
                gateway.sendRequestToCoordinator(operator, new SerializedValue<>(request));
    }

    /**
     * The operator id Flink gives an operator with the uid {@code uid}: the 128-bit murmur3 hash of
     * the uid, as Flink's stream graph hasher computes it for user-specified uids.
     */
    public static OperatorID operatorIdOfUid(String uid) {
        return new OperatorID(
                Hashing.murmur3_128(0)
                        .newHasher()
                        .putString(uid, StandardCharsets.UTF_8)
                        .hash()
                        .asBytes());
    }

    /**
     * Sends requests from a task of the job to the coordinators of its operators, for code that
     * runs in a task without being an operator (a SQL function): its task is reached through the
     * fields of Flink's {@link FunctionContext} and the streaming runtime context.
     *
     * @throws IllegalStateException naming the tested Flink versions if this Flink's classes differ
     */
    public static CoordinatorRequests coordinatorRequests(FunctionContext functionContext) {
        try {
            return requests(taskEnvironment(functionContext));
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw unsupported("reach this task's coordinator gateway", e);
        }
    }

    /** The unique id of the operator that runs a SQL function, as {@link #coordinatorRequests}. */
    public static String operatorUniqueId(FunctionContext functionContext) {
        try {
            return streamingContext(functionContext).getOperatorUniqueID();
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw unsupported("name this function's operator", e);
        }
    }

    /**
     * Whether the task of a SQL function that is being closed ends because its input ended (not
     * because it failed or was cancelled).
     *
     * @throws IllegalStateException naming the tested Flink versions if this cannot be told
     */
    public static boolean taskEndsNormally(FunctionContext functionContext) {
        try {
            Environment environment = taskEnvironment(functionContext);
            Field taskField = fieldOfType(environment.getClass(), Task.class);
            if (taskField == null) {
                throw new NoSuchFieldException("no task in " + environment.getClass());
            }
            Object invokable = field(Task.class, "invokable").get(taskField.get(environment));
            if (!(invokable instanceof StreamTask)) {
                throw new NoSuchFieldException("not a stream task: " + invokable);
            }
            StreamTask<?, ?> streamTask = (StreamTask<?, ?>) invokable;
            return !streamTask.isFailing() && !streamTask.isCanceled();
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw unsupported("tell whether this function's task finished", e);
        }
    }

    private static Environment taskEnvironment(FunctionContext functionContext)
            throws ReflectiveOperationException {
        return (Environment)
                field(StreamingRuntimeContext.class, "taskEnvironment")
                        .get(streamingContext(functionContext));
    }

    private static StreamingRuntimeContext streamingContext(FunctionContext functionContext)
            throws ReflectiveOperationException {
        Object context = field(FunctionContext.class, "context").get(functionContext);
        // Async functions see their task's context through a wrapper that holds it.
        for (int depth = 0; depth < 4 && context != null; depth++) {
            if (context instanceof StreamingRuntimeContext) {
                return (StreamingRuntimeContext) context;
            }
            Field inner = fieldOfType(context.getClass(), RuntimeContext.class);
            context = inner == null ? null : inner.get(context);
        }
        throw new NoSuchFieldException("no streaming runtime context in " + functionContext);
    }

    private static IllegalStateException unsupported(String what, Exception cause) {
        return new IllegalStateException(
                "flink-ros cannot "
                        + what
                        + " from a SQL function in this Flink version (tested with Flink "
                        + TESTED_VERSIONS
                        + "): "
                        + cause,
                cause);
    }

    /** Sends requests from a task to the coordinators of its job's operators. */
    @FunctionalInterface
    public interface CoordinatorRequests {
        /** Sends {@code request} to the coordinator of {@code operator}. */
        CompletableFuture<CoordinationResponse> send(
                OperatorID operator, CoordinationRequest request) throws IOException;
    }

    private static Field field(Class<?> owner, String name) throws NoSuchFieldException {
        Field field = owner.getDeclaredField(name);
        field.setAccessible(true);
        return field;
    }

    private static Field fieldOfType(Class<?> owner, Class<?> type) {
        for (Class<?> c = owner; c != null && c != Object.class; c = c.getSuperclass()) {
            for (Field field : c.getDeclaredFields()) {
                if (type.isAssignableFrom(field.getType())) {
                    field.setAccessible(true);
                    return field;
                }
            }
        }
        return null;
    }

    /** Whether the job of a coordinator checkpoints periodically. */
    public static boolean checkpointsPeriodically(OperatorCoordinator.Context context) {
        CheckpointCoordinator checkpoints = context.getCheckpointCoordinator();
        return checkpoints != null && checkpoints.isPeriodicCheckpointingConfigured();
    }

    /** A histogram over the last {@code window} values, as Flink's own metrics use. */
    public static Histogram histogram(int window) {
        return new DescriptiveStatisticsHistogram(window);
    }

    /**
     * Makes a source without consumers part of the job: a service's instances emit nothing, and a
     * transformation nobody consumes is otherwise left out of the job graph.
     */
    public static void addWithoutConsumer(StreamExecutionEnvironment env, DataStream<?> stream) {
        env.addOperator(stream.getTransformation());
    }

    /** A failure that fails the job without restarting it, whatever the restart strategy. */
    public static RuntimeException withoutRestart(Throwable cause) {
        return new SuppressRestartsException(cause);
    }
}
