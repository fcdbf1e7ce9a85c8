package org.flinkros.connector;

import org.flinkros.client.RosClientOptions;
import org.flinkros.connector.internal.LocalClusterSlots;
import org.flinkros.connector.internal.client.RosAsyncFunctionAdapter;
import org.flinkros.connector.internal.client.RosAsyncOperatorFactory;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.TypeExtractor;
import org.apache.flink.streaming.api.datastream.AsyncDataStream.OutputMode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.LocalStreamEnvironment;
import org.apache.flink.util.Utils;

import javax.annotation.Nullable;

import java.time.Duration;
import java.util.Objects;

/**
 * Calls an RpcOperator service from the data plane with Flink async I/O: like {@link
 * org.apache.flink.streaming.api.datastream.AsyncDataStream}, but the function gets a {@link
 * org.flinkros.client.RosClient} that the job keeps connected to the service's live instances.
 *
 * <p>Until the service has its first live instance (its model may take minutes to load), records
 * wait before the operator rather than in it, so their timeouts do not run. After that, a call with
 * no live instance fails at once with {@code UNAVAILABLE}.
 */
@PublicEvolving
public final class RosAsyncDataStream {
    /** How long the operator waits for the service's first live instance by default. */
    public static final Duration DEFAULT_STARTUP_TIMEOUT = Duration.ofMinutes(10);

    private RosAsyncDataStream() {}

    /**
     * Calls the service for each record; outputs are emitted as soon as they arrive.
     *
     * @param input the records
     * @param service the service, from {@link RpcOperatorServices#addRpcOperatorService}
     * @param function starts the call(s) for a record
     * @param timeout how long a record may wait for its result; also each call's deadline
     * @param capacity how many records may be in flight per subtask
     */
    public static <IN, OUT> SingleOutputStreamOperator<OUT> unorderedWait(
            DataStream<IN> input,
            RosServiceHandle service,
            RosAsyncFunction<IN, OUT> function,
            Duration timeout,
            int capacity) {
        return add(input, service, function, timeout, capacity, OutputMode.UNORDERED, null);
    }

    /** As {@link #unorderedWait}, with the output type given (needed for lambdas). */
    public static <IN, OUT> SingleOutputStreamOperator<OUT> unorderedWait(
            DataStream<IN> input,
            RosServiceHandle service,
            RosAsyncFunction<IN, OUT> function,
            Duration timeout,
            int capacity,
            TypeInformation<OUT> outputType) {
        return add(input, service, function, timeout, capacity, OutputMode.UNORDERED, outputType);
    }

    /**
     * As {@link #unorderedWait}, with the service client tuned by {@code clientOptions} (load
     * balancing, retries, in-flight limit, keepalive...). The job sets the client's identity, token
     * and deadline ({@code timeout}) itself.
     */
    public static <IN, OUT> SingleOutputStreamOperator<OUT> unorderedWait(
            DataStream<IN> input,
            RosServiceHandle service,
            RosAsyncFunction<IN, OUT> function,
            Duration timeout,
            int capacity,
            TypeInformation<OUT> outputType,
            RosClientOptions clientOptions) {
        return add(
                input,
                service,
                function,
                timeout,
                capacity,
                OutputMode.UNORDERED,
                outputType,
                clientOptions);
    }

    /**
     * Calls the service for each record; outputs are emitted in input order.
     *
     * @see #unorderedWait(DataStream, RosServiceHandle, RosAsyncFunction, Duration, int)
     */
    public static <IN, OUT> SingleOutputStreamOperator<OUT> orderedWait(
            DataStream<IN> input,
            RosServiceHandle service,
            RosAsyncFunction<IN, OUT> function,
            Duration timeout,
            int capacity) {
        return add(input, service, function, timeout, capacity, OutputMode.ORDERED, null);
    }

    /** As {@link #orderedWait}, with the output type given (needed for lambdas). */
    public static <IN, OUT> SingleOutputStreamOperator<OUT> orderedWait(
            DataStream<IN> input,
            RosServiceHandle service,
            RosAsyncFunction<IN, OUT> function,
            Duration timeout,
            int capacity,
            TypeInformation<OUT> outputType) {
        return add(input, service, function, timeout, capacity, OutputMode.ORDERED, outputType);
    }

    /** As {@link #orderedWait}, with the service client tuned by {@code clientOptions}. */
    public static <IN, OUT> SingleOutputStreamOperator<OUT> orderedWait(
            DataStream<IN> input,
            RosServiceHandle service,
            RosAsyncFunction<IN, OUT> function,
            Duration timeout,
            int capacity,
            TypeInformation<OUT> outputType,
            RosClientOptions clientOptions) {
        return add(
                input,
                service,
                function,
                timeout,
                capacity,
                OutputMode.ORDERED,
                outputType,
                clientOptions);
    }

    private static <IN, OUT> SingleOutputStreamOperator<OUT> add(
            DataStream<IN> input,
            RosServiceHandle service,
            RosAsyncFunction<IN, OUT> function,
            Duration timeout,
            int capacity,
            OutputMode mode,
            @Nullable TypeInformation<OUT> outputType) {
        return add(
                input,
                service,
                function,
                timeout,
                capacity,
                mode,
                outputType,
                RosClientOptions.defaults());
    }

    private static <IN, OUT> SingleOutputStreamOperator<OUT> add(
            DataStream<IN> input,
            RosServiceHandle service,
            RosAsyncFunction<IN, OUT> function,
            Duration timeout,
            int capacity,
            OutputMode mode,
            @Nullable TypeInformation<OUT> outputType,
            RosClientOptions clientOptions) {
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(clientOptions, "clientOptions");
        Objects.requireNonNull(service, "service");
        Objects.requireNonNull(function, "function");
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive, got " + timeout);
        }
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1, got " + capacity);
        }
        TypeInformation<OUT> outType =
                outputType != null
                        ? outputType
                        : TypeExtractor.getUnaryOperatorReturnType(
                                function,
                                RosAsyncFunction.class,
                                0,
                                1,
                                new int[] {2, 0},
                                input.getType(),
                                Utils.getCallLocationName(),
                                true);

        service.registerClientOperator();
        if (input.getExecutionEnvironment() instanceof LocalStreamEnvironment) {
            LocalClusterSlots.fitDataPlane(
                    input.getExecutionEnvironment(),
                    Math.max(
                            input.getParallelism(),
                            input.getExecutionEnvironment().getParallelism()));
        }
        RosAsyncFunctionAdapter<IN, OUT> adapter =
                new RosAsyncFunctionAdapter<>(
                        function,
                        service.getName(),
                        clientOptions.toBuilder()
                                .defaultTimeout(timeout)
                                .token(service.token())
                                .serviceName(service.getName())
                                // Refuse what the instances would refuse, before sending it.
                                .maxMessageBytes(
                                        Math.min(
                                                clientOptions.maxMessageBytes(),
                                                service.getMaxMessageBytes()))
                                .build());
        RosAsyncOperatorFactory<IN, OUT> factory =
                new RosAsyncOperatorFactory<>(
                        adapter,
                        service,
                        service.token(),
                        timeout,
                        capacity,
                        mode,
                        DEFAULT_STARTUP_TIMEOUT);
        return input.transform("RosAsync: " + service.getName(), outType, factory);
    }
}
