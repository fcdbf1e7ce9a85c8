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

import org.flinkros.connector.internal.FlinkInternals;
import org.flinkros.connector.internal.discovery.CallerRequest;
import org.flinkros.connector.internal.discovery.DirectoryLookup;
import org.flinkros.connector.internal.discovery.EndpointFollower;

import org.apache.flink.annotation.Internal;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.operators.coordination.CoordinationResponse;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Follows a service of the same job through its directory operator's coordinator (see {@link
 * DirectoryLookup}): one long poll at a time, answered as soon as the endpoints change.
 */
@Internal
public final class JobDirectoryFollower implements EndpointFollower {
    private static final Logger LOG = LoggerFactory.getLogger(JobDirectoryFollower.class);
    private static final long RETRY_MILLIS = 1_000;

    private final FlinkInternals.CoordinatorRequests requests;
    private final String serviceName;
    private final OperatorID directory;
    private final DirectoryLookup.Found first;
    private volatile boolean closed;
    private volatile Listener listener;

    private JobDirectoryFollower(
            FlinkInternals.CoordinatorRequests requests,
            String serviceName,
            OperatorID directory,
            DirectoryLookup.Found first) {
        this.requests = requests;
        this.serviceName = serviceName;
        this.directory = directory;
        this.first = first;
    }

    /**
     * Looks the service up once (for its token and first endpoints) and returns a follower that
     * starts from there.
     *
     * @throws IllegalStateException naming the fix if the job has no service of that name
     */
    public static JobDirectoryFollower lookUp(
            FlinkInternals.CoordinatorRequests requests, String serviceName, Duration wait)
            throws Exception {
        OperatorID directory = DirectoryLookup.operatorId(serviceName);
        try {
            CoordinationResponse reply =
                    send(requests, directory, new DirectoryLookup(-1))
                            .get(wait.toMillis(), TimeUnit.MILLISECONDS);
            return new JobDirectoryFollower(
                    requests, serviceName, directory, DirectoryLookup.parseReply(reply));
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException(
                    "RpcOperator service '"
                            + serviceName
                            + "' is not part of this job: add it with RosServices.add(env, ...)"
                            + " to the StreamExecutionEnvironment the table environment was created"
                            + " from, and run the query as part of that environment's job"
                            + " (tEnv.toDataStream(table) or statementSet.attachAsDataStream(),"
                            + " then env.execute(); tEnv.executeSql and Table.execute submit the"
                            + " query alone); or call a shared service (RosServe) with"
                            + " 'discovery' = 'cluster'. The lookup failed with: "
                            + (e instanceof ExecutionException ? e.getCause() : e),
                    e);
        }
    }

    /** The service's token, from the first lookup. */
    public String token() {
        return first.token;
    }

    /** Tells the directory about this caller and waits for it to have heard. */
    public void announce(CallerRequest request, Duration wait) throws Exception {
        requests.send(directory, request).get(wait.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void start(Listener listener) {
        this.listener = listener;
        listener.onEndpoints(first.endpoints.endpoints());
        poll(first.endpoints.version());
    }

    private CompletableFuture<CoordinationResponse> lookup(long knownVersion) {
        return send(requests, directory, new DirectoryLookup(knownVersion));
    }

    private static CompletableFuture<CoordinationResponse> send(
            FlinkInternals.CoordinatorRequests requests,
            OperatorID directory,
            DirectoryLookup request) {
        try {
            return requests.send(directory, request);
        } catch (Exception e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private void poll(long knownVersion) {
        if (closed) {
            return;
        }
        lookup(knownVersion)
                .whenComplete(
                        (reply, error) -> {
                            if (closed) {
                                return;
                            }
                            if (error != null) {
                                LOG.debug(
                                        "Lookup of service '{}' failed; retrying",
                                        serviceName,
                                        error);
                                CompletableFuture.delayedExecutor(
                                                RETRY_MILLIS, TimeUnit.MILLISECONDS)
                                        .execute(() -> poll(knownVersion));
                                return;
                            }
                            long version = knownVersion;
                            try {
                                DirectoryLookup.Found found = DirectoryLookup.parseReply(reply);
                                version = found.endpoints.version();
                                if (version != knownVersion) {
                                    listener.onEndpoints(found.endpoints.endpoints());
                                }
                            } catch (Exception e) {
                                listener.onFatal(e);
                                return;
                            }
                            poll(version);
                        });
    }

    @Override
    public void close() {
        closed = true;
    }
}
