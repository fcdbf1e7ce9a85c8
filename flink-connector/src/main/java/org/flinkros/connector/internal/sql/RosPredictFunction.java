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
package org.flinkros.connector.internal.sql;

import org.flinkros.client.IdentityKey;
import org.flinkros.client.RosClient;
import org.flinkros.client.RosClientOptions;
import org.flinkros.connector.internal.FlinkInternals;
import org.flinkros.connector.internal.discovery.CallerRequest;
import org.flinkros.connector.internal.discovery.EndpointFollower;
import org.flinkros.connector.internal.discovery.SharedServiceFollower;
import org.flinkros.connector.internal.metrics.RosMetrics;
import org.flinkros.connector.sql.RosModelOptions;

import org.apache.flink.annotation.Internal;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.functions.AsyncPredictFunction;
import org.apache.flink.table.functions.FunctionContext;
import org.apache.flink.table.types.logical.RowType;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.annotation.Nullable;

import java.io.IOException;
import java.time.Duration;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * {@code ML_PREDICT} over a service: each row's input columns become one call, its reply the row's
 * output columns. Made by the planner and shipped to the tasks, so it holds settings only; the
 * client and the endpoint follower are made in {@link #open}.
 */
@Internal
public final class RosPredictFunction extends AsyncPredictFunction {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(RosPredictFunction.class);

    /** How long {@link #open} waits for the job's directory to name the service's token. */
    private static final Duration LOOKUP_WAIT = Duration.ofSeconds(60);

    private final String modelName;
    private final String serviceName;
    private final String method;
    private final Duration timeout;
    private final RosModelOptions.OnError onError;
    private final RosModelOptions.Identity identity;
    private final RosModelOptions.Discovery discovery;
    @Nullable private final String restUrl;
    @Nullable private final String sharedToken;
    private final Duration refreshInterval;
    private final RowType inputType;
    private final RowType outputType;

    private transient RosClient client;
    private transient EndpointFollower follower;
    private transient JsonRows rows;
    private transient volatile Exception fatal;
    @Nullable private transient CallerIdentity caller;
    private transient FunctionContext functionContext;

    public RosPredictFunction(
            String modelName,
            String serviceName,
            String method,
            Duration timeout,
            RosModelOptions.OnError onError,
            RosModelOptions.Identity identity,
            RosModelOptions.Discovery discovery,
            @Nullable String restUrl,
            @Nullable String sharedToken,
            Duration refreshInterval,
            RowType inputType,
            RowType outputType) {
        this.modelName = modelName;
        this.serviceName = serviceName;
        this.method = method;
        this.timeout = timeout;
        this.onError = onError;
        this.identity = identity;
        this.discovery = discovery;
        this.restUrl = restUrl;
        this.sharedToken = sharedToken;
        this.refreshInterval = refreshInterval;
        this.inputType = inputType;
        this.outputType = outputType;
    }

    @Override
    public void open(FunctionContext context) throws Exception {
        functionContext = context;
        rows =
                new JsonRows(
                        inputType,
                        outputType,
                        context.getMetricGroup(),
                        context.getUserCodeClassLoader());
        String token;
        if (discovery == RosModelOptions.Discovery.JOB) {
            JobDirectoryFollower directory =
                    new JobDirectoryFollower(
                            FlinkInternals.coordinatorRequests(context), serviceName);
            token = directory.token(LOOKUP_WAIT);
            follower = directory;
            // Counted as a caller, so that a bounded job's service ends once its callers have.
            caller = new CallerIdentity(context);
            directory.announce(caller.running(), LOOKUP_WAIT);
        } else {
            token = sharedToken;
            follower = new SharedServiceFollower(restUrl, serviceName, refreshInterval);
        }
        client =
                RosClient.create(
                        RosClientOptions.builder()
                                .serviceName(serviceName)
                                .token(token)
                                .defaultTimeout(timeout)
                                // Calls wait for instances (not yet found, or all restarting)
                                // within their deadline rather than fail at once.
                                .startupWait(timeout)
                                .noInstanceWait(timeout)
                                .build());
        RosClient metricsClient = client;
        RosMetrics.registerClient(context.getMetricGroup(), metricsClient::stats);
        follower.start(
                new EndpointFollower.Listener() {
                    @Override
                    public void onEndpoints(List<String> endpoints) {
                        client.updateEndpoints(endpoints);
                    }

                    @Override
                    public void onFatal(Exception cause) {
                        fatal = cause;
                    }
                });
    }

    @Override
    public CompletableFuture<Collection<RowData>> asyncPredict(RowData input) {
        Exception failed = fatal;
        if (failed != null) {
            return CompletableFuture.failedFuture(failed);
        }
        byte[] payload;
        try {
            payload = rows.write(input);
        } catch (RuntimeException e) {
            return settle(
                    input, new IllegalArgumentException("cannot write the row as JSON: " + e, e));
        }
        CompletableFuture<byte[]> call =
                identity == RosModelOptions.Identity.CONTENT
                        ? client.call(method, payload, timeout, IdentityKey.content())
                        : client.call(method, payload, timeout);
        return call.handle(
                        (reply, error) -> {
                            if (error != null) {
                                return settle(input, unwrap(error));
                            }
                            try {
                                return CompletableFuture.<Collection<RowData>>completedFuture(
                                        Collections.singletonList(rows.read(reply)));
                            } catch (IOException | RuntimeException e) {
                                return settle(
                                        input,
                                        new IOException(
                                                "service '"
                                                        + serviceName
                                                        + "' method '"
                                                        + method
                                                        + "' replied with JSON that does not match"
                                                        + " the OUTPUT of model '"
                                                        + modelName
                                                        + "' "
                                                        + outputType
                                                        + ": "
                                                        + e.getMessage(),
                                                e));
                            }
                        })
                .thenCompose(result -> result);
    }

    private CompletableFuture<Collection<RowData>> settle(RowData input, Throwable error) {
        switch (onError) {
            case SKIP:
                LOG.debug("Dropping a row of model '{}' whose call failed", modelName, error);
                return CompletableFuture.completedFuture(Collections.emptyList());
            case NULL:
                LOG.debug(
                        "Null outputs for a row of model '{}' whose call failed", modelName, error);
                return CompletableFuture.completedFuture(
                        Collections.singletonList(new GenericRowData(outputType.getFieldCount())));
            default:
                return CompletableFuture.failedFuture(
                        new IOException(
                                "ML_PREDICT with model '"
                                        + modelName
                                        + "' (RpcOperator service '"
                                        + serviceName
                                        + "', method '"
                                        + method
                                        + "') failed; set the model's 'on-error' to 'skip' or"
                                        + " 'null' to keep the job running: "
                                        + error.getMessage(),
                                error));
        }
    }

    /** Who this subtask is to the service's directory. */
    private static final class CallerIdentity {
        private final String operator;
        private final int subtask;
        private final int parallelism;

        CallerIdentity(FunctionContext context) {
            this.operator = FlinkInternals.operatorUniqueId(context);
            this.subtask = context.getTaskInfo().getIndexOfThisSubtask();
            this.parallelism = context.getTaskInfo().getNumberOfParallelSubtasks();
        }

        CallerRequest running() {
            return CallerRequest.running(operator, subtask, parallelism);
        }

        CallerRequest finished() {
            return CallerRequest.finished(operator, subtask, parallelism);
        }
    }

    private static Throwable unwrap(Throwable error) {
        return error instanceof CompletionException && error.getCause() != null
                ? error.getCause()
                : error;
    }

    @Override
    public void close() {
        if (caller != null
                && follower instanceof JobDirectoryFollower
                && FlinkInternals.taskEndsNormally(functionContext)) {
            try {
                ((JobDirectoryFollower) follower).announce(caller.finished(), LOOKUP_WAIT);
            } catch (Exception e) {
                LOG.warn(
                        "Could not tell service '{}' that this caller finished; it runs until"
                                + " the job ends",
                        serviceName,
                        e);
            }
        }
        if (follower != null) {
            follower.close();
            follower = null;
        }
        if (client != null) {
            client.close();
            client = null;
        }
    }
}
