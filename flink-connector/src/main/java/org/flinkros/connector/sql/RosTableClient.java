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
package org.flinkros.connector.sql;

import org.flinkros.client.RosClient;
import org.flinkros.client.RosClientOptions;
import org.flinkros.client.RosException;
import org.flinkros.client.StatusCode;
import org.flinkros.connector.RosServe;
import org.flinkros.connector.internal.FlinkInternals;
import org.flinkros.connector.internal.discovery.CallerRequest;
import org.flinkros.connector.internal.discovery.EndpointFollower;
import org.flinkros.connector.internal.discovery.SharedServiceFollower;
import org.flinkros.connector.internal.metrics.RosMetrics;
import org.flinkros.connector.internal.sql.JobDirectoryFollower;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.table.functions.FunctionContext;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.annotation.Nullable;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * A {@link RosClient} for a Table API function (an {@code AsyncScalarFunction}, an {@code
 * AsyncTableFunction}), which has no operator coordinator to learn a service's instances from. Open
 * it in the function's {@code open()} and close it in its {@code close()}:
 *
 * <pre>{@code
 * public class Score extends AsyncScalarFunction {
 *     private transient RosTableClient sentiment;
 *
 *     public void open(FunctionContext context) throws Exception {
 *         sentiment = RosTableClient.ofJobService(context, "sentiment", Duration.ofSeconds(30));
 *     }
 *
 *     public void eval(CompletableFuture<Float> result, String text) {
 *         sentiment.call("classify", text.getBytes(UTF_8))
 *                 .whenComplete((reply, error) -> ...);
 *     }
 *
 *     public void close() {
 *         sentiment.close();
 *     }
 * }
 * }</pre>
 *
 * <p>A service of the job ({@link #ofJobService}) is found through its directory in the job, and
 * counts this function as one of its callers, so that a bounded job's service ends once the
 * function's input has ended; a shared service ({@link #ofSharedService}) through the cluster's
 * REST API. Calls wait for instances (none found yet, or all restarting) within their timeout.
 */
@PublicEvolving
public final class RosTableClient implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RosTableClient.class);

    /** How long opening waits for the job's directory to answer. */
    private static final Duration LOOKUP_WAIT = Duration.ofSeconds(60);

    private final String serviceName;
    private final FunctionContext context;
    private final RosClient client;
    private final EndpointFollower follower;
    @Nullable private final JobCaller caller;
    private volatile Exception fatal;

    private RosTableClient(
            String serviceName,
            FunctionContext context,
            String token,
            Duration timeout,
            EndpointFollower follower,
            @Nullable JobCaller caller) {
        this.serviceName = serviceName;
        this.context = context;
        this.follower = follower;
        this.caller = caller;
        this.client =
                RosClient.create(
                        RosClientOptions.builder()
                                .serviceName(serviceName)
                                .token(token)
                                .defaultTimeout(timeout)
                                .startupWait(timeout)
                                .noInstanceWait(timeout)
                                .build());
        RosMetrics.registerClient(context.getMetricGroup(), client::stats);
        follower.start(
                EndpointFollower.Listener.of(client::updateEndpoints, cause -> fatal = cause));
    }

    /**
     * A client of the service named {@code serviceName} that was added to this function's job with
     * {@code RosServices.add}.
     *
     * @param timeout the default deadline of a call
     * @throws IllegalStateException naming the fix if the job has no service of that name
     */
    public static RosTableClient ofJobService(
            FunctionContext context, String serviceName, Duration timeout) throws Exception {
        JobDirectoryFollower directory =
                JobDirectoryFollower.lookUp(
                        FlinkInternals.coordinatorRequests(context), serviceName, LOOKUP_WAIT);
        // Counted as a caller, so that a bounded job's service ends once its callers have.
        JobCaller caller = new JobCaller(context, directory);
        caller.announce(false);
        return new RosTableClient(
                serviceName, context, directory.token(), timeout, directory, caller);
    }

    /**
     * A client of the shared service {@code serviceName} (see {@link RosServe}) of the cluster
     * whose REST API is at {@code restUrl}, whose instances are looked up every {@code
     * refreshInterval}.
     */
    public static RosTableClient ofSharedService(
            FunctionContext context,
            String serviceName,
            String restUrl,
            String token,
            Duration timeout,
            Duration refreshInterval) {
        return new RosTableClient(
                serviceName,
                context,
                token,
                timeout,
                new SharedServiceFollower(restUrl, serviceName, refreshInterval),
                null);
    }

    /** Calls {@code method} with {@code payload}; see {@link RosClient#call(String, byte[])}. */
    public CompletableFuture<byte[]> call(String method, byte[] payload) {
        Exception failed = fatal;
        return failed != null
                ? CompletableFuture.failedFuture(failed)
                : client.call(method, payload);
    }

    /**
     * The client itself, for its other calls (with a timeout, an identity key); its endpoints are
     * kept up to date by this object.
     */
    public RosClient client() {
        Exception failed = fatal;
        if (failed != null) {
            throw new RosException(
                    StatusCode.UNAVAILABLE,
                    "service '" + serviceName + "' cannot be looked up: " + failed);
        }
        return client;
    }

    /**
     * Stops following the service and closes the client; if the function's task ends because its
     * input ended, tells a service of the job that this caller has finished.
     */
    @Override
    public void close() {
        if (caller != null) {
            try {
                if (FlinkInternals.taskEndsNormally(context)) {
                    caller.announce(true);
                }
            } catch (Exception e) {
                LOG.warn(
                        "Could not tell service '{}' that this caller finished; it runs until"
                                + " the job ends",
                        serviceName,
                        e);
            }
        }
        follower.close();
        client.close();
    }

    /** A calling subtask, as the directory of a service of its job knows it. */
    private static final class JobCaller {
        private final JobDirectoryFollower directory;
        private final String operator;
        private final int subtask;
        private final int parallelism;

        JobCaller(FunctionContext context, JobDirectoryFollower directory) {
            this.directory = directory;
            this.operator = FlinkInternals.operatorUniqueId(context);
            this.subtask = context.getTaskInfo().getIndexOfThisSubtask();
            this.parallelism = context.getTaskInfo().getNumberOfParallelSubtasks();
        }

        /** Tells the directory that this subtask runs, or has finished its input. */
        void announce(boolean finished) throws Exception {
            directory.announce(
                    finished
                            ? CallerRequest.finished(operator, subtask, parallelism)
                            : CallerRequest.running(operator, subtask, parallelism),
                    LOOKUP_WAIT);
        }
    }
}
