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
package org.flinkros.connector.internal.client;

import org.flinkros.client.RosClient;
import org.flinkros.client.RosClientOptions;
import org.flinkros.connector.internal.FlinkInternals;
import org.flinkros.connector.internal.StallWarnings;
import org.flinkros.connector.internal.discovery.EndpointFollower;
import org.flinkros.connector.internal.discovery.EndpointPolls;
import org.flinkros.connector.internal.discovery.EndpointSnapshot;
import org.flinkros.connector.internal.discovery.ServiceRegistry;
import org.flinkros.connector.internal.discovery.ServiceState;
import org.flinkros.connector.internal.discovery.SharedServiceFollower;

import org.apache.flink.annotation.Internal;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.operators.coordination.CoordinationRequest;
import org.apache.flink.runtime.operators.coordination.CoordinationRequestHandler;
import org.apache.flink.runtime.operators.coordination.CoordinationResponse;
import org.apache.flink.runtime.operators.coordination.OperatorCoordinator;
import org.apache.flink.runtime.operators.coordination.OperatorEvent;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.annotation.Nullable;
import javax.annotation.concurrent.GuardedBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The JobManager side of a data-plane operator that calls a service: answers its subtasks' long
 * polls for the service's endpoint set (see {@link EndpointsRequest}), and tells the service when
 * all subtasks have finished.
 *
 * <p>Replies to subtasks must be Flink classes ({@link FlinkInternals#coordinationReply}): a
 * TaskManager deserializes them without the job's class loader.
 */
@Internal
public final class RosClientCoordinator implements OperatorCoordinator, CoordinationRequestHandler {
    private static final Logger LOG = LoggerFactory.getLogger(RosClientCoordinator.class);

    /**
     * How long a poll waits for a change before it is answered with the same set; well below the
     * RPC timeout, so that a waiting poll never fails.
     */
    static final long LONG_POLL_MILLIS = 3_000;

    private final Context context;
    private final String operatorName;
    private final String serviceId;
    private final String serviceName;
    private final String token;
    private final String clientOperator;

    /** Where a shared service is looked up; null for a service of this job. */
    @Nullable private final String sharedRestUrl;

    @Nullable private EndpointFollower sharedFollower;

    /** Sends cancels for failed attempts; made on the first failure. */
    @Nullable private RosClient canceller;

    private final EndpointPolls polls =
            new EndpointPolls(LONG_POLL_MILLIS, EndpointsRequest::reply);

    @GuardedBy("this")
    private final Set<Integer> finished = new HashSet<>();

    private volatile ServiceState service;

    /** Since when (nanoTime) each subtask that is not running has not been. */
    @GuardedBy("this")
    private final Map<Integer, Long> notRunningSince = new TreeMap<>();

    @Nullable private ScheduledExecutorService watchdog;

    RosClientCoordinator(
            Context context,
            String operatorName,
            String serviceId,
            String serviceName,
            String token,
            @Nullable String sharedRestUrl) {
        this.context = context;
        this.sharedRestUrl = sharedRestUrl;
        this.operatorName = operatorName;
        this.serviceId = serviceId;
        this.serviceName = serviceName;
        this.token = token;
        this.clientOperator = context.getOperatorId().toHexString();
    }

    @Override
    public void start() {
        service = ServiceRegistry.acquire(serviceId, serviceName);
        service.addEndpointListener(clientOperator, polls::answerAll);
        if (sharedRestUrl != null) {
            // Another job's enumerator knows the instances: look them up through the REST API.
            ServiceState state = service;
            sharedFollower =
                    new SharedServiceFollower(
                            sharedRestUrl, serviceName, SharedServiceFollower.DEFAULT_INTERVAL);
            sharedFollower.start(
                    EndpointFollower.Listener.of(state::replaceEndpoints, context::failJob));
        }
        long now = System.nanoTime();
        synchronized (this) {
            for (int subtask = 0; subtask < context.currentParallelism(); subtask++) {
                notRunningSince.putIfAbsent(subtask, now);
            }
        }
        watchdog =
                Executors.newSingleThreadScheduledExecutor(
                        runnable -> {
                            Thread thread = new Thread(runnable, "ros-client-watchdog");
                            thread.setDaemon(true);
                            return thread;
                        });
        long interval = StallWarnings.intervalMillis();
        watchdog.scheduleWithFixedDelay(
                () -> warnIfNotRunning(interval), interval, interval, TimeUnit.MILLISECONDS);
    }

    /**
     * Says which subtasks have not been running for {@code interval} ms: on a cluster without
     * enough slots for the services' instances and the data plane, they wait for a slot and nothing
     * else would say so.
     */
    private void warnIfNotRunning(long interval) {
        List<String> waiting = new ArrayList<>();
        long now = System.nanoTime();
        synchronized (this) {
            for (Map.Entry<Integer, Long> entry : notRunningSince.entrySet()) {
                long waited = now - entry.getValue();
                if (waited >= TimeUnit.MILLISECONDS.toNanos(interval)) {
                    waiting.add(
                            entry.getKey() + " (" + TimeUnit.NANOSECONDS.toSeconds(waited) + " s)");
                }
            }
        }
        if (!waiting.isEmpty()) {
            LOG.warn(
                    "Subtasks {} of '{}', which calls RpcOperator service '{}', are not running:"
                            + " they wait for a slot. Service instances take slots of their own"
                            + " besides the data plane's: give the cluster enough task slots for"
                            + " both ('taskmanager.numberOfTaskSlots' or more TaskManagers); if the"
                            + " service declares resources, declare resources for the data plane's"
                            + " slot sharing groups too.",
                    waiting,
                    operatorName,
                    serviceName);
        }
    }

    @Override
    public void close() {
        if (sharedFollower != null) {
            sharedFollower.close();
        }
        if (watchdog != null) {
            watchdog.shutdownNow();
        }
        RosClient client;
        synchronized (this) {
            client = canceller;
            canceller = null;
        }
        if (client != null) {
            client.close();
        }
        ServiceState state = service;
        if (state != null) {
            state.removeEndpointListener(clientOperator);
            polls.answerAll(state.snapshot());
            ServiceRegistry.release(state);
            service = null;
        }
    }

    private CompletableFuture<CoordinationResponse> poll(EndpointsRequest request) {
        return polls.poll(service, request.knownVersion);
    }

    @Override
    public void executionAttemptReady(int subtask, int attemptNumber, SubtaskGateway gateway) {
        synchronized (this) {
            notRunningSince.remove(subtask);
        }
        if (service.hasEnded()) {
            // The service ended because every caller had finished; a caller running again
            // cannot be served, so restart the whole job (which restarts the service too).
            context.failJob(
                    new IllegalStateException(
                            "RpcOperator service '"
                                    + serviceName
                                    + "' already ended after all its callers finished, but"
                                    + " subtask "
                                    + subtask
                                    + " of a caller runs again (attempt "
                                    + attemptNumber
                                    + ")"));
        }
    }

    @Override
    public void executionAttemptFailed(int subtask, int attemptNumber, @Nullable Throwable reason) {
        boolean resumed;
        synchronized (this) {
            notRunningSince.putIfAbsent(subtask, System.nanoTime());
            boolean allFinished = finished.size() == context.currentParallelism();
            resumed = finished.remove(subtask) && allFinished;
        }
        if (resumed) {
            // It finished before and will run again: the service must not end yet.
            service.clientResumed(clientOperator);
        }
        cancelQueuedRequests(subtask, attemptNumber);
    }

    /**
     * A failed attempt's queued requests would only produce results nobody reads, so the instances
     * drop them now, before the next attempt is even deployed (the next attempt asks again once it
     * runs). Asynchronous: this runs on the JobManager's main thread.
     */
    private void cancelQueuedRequests(int subtask, int attemptNumber) {
        EndpointSnapshot endpoints = service.snapshot();
        if (endpoints.endpoints().isEmpty()) {
            return;
        }
        String clientId = ClientIds.of(context.getJobID(), context.getOperatorId(), subtask);
        try {
            RosClient client = canceller();
            client.updateEndpoints(endpoints.endpoints());
            client.cancelEpochs(clientId, attemptNumber + 1L)
                    .whenComplete(
                            (cancelled, error) -> {
                                if (error != null) {
                                    LOG.warn(
                                            "Could not cancel the queued requests of {}",
                                            clientId,
                                            error);
                                } else {
                                    LOG.info(
                                            "Attempt {} of {} failed; RpcOperator service '{}'"
                                                    + " dropped {} of its queued requests",
                                            attemptNumber,
                                            clientId,
                                            serviceName,
                                            cancelled);
                                }
                            });
        } catch (RuntimeException e) {
            LOG.warn("Could not cancel the queued requests of {}", clientId, e);
        }
    }

    private synchronized RosClient canceller() {
        if (canceller == null) {
            // With the service token (the owner's): it cancels for any failed subtask, whereas
            // each subtask's own client is confined to its operator's client ids.
            canceller =
                    RosClient.create(
                            RosClientOptions.builder()
                                    .clientId("coordinator/" + clientOperator)
                                    .token(token)
                                    .build());
        }
        return canceller;
    }

    @Override
    public CompletableFuture<CoordinationResponse> handleCoordinationRequest(
            CoordinationRequest request) {
        if (request instanceof EndpointsRequest) {
            return poll((EndpointsRequest) request);
        }
        if (request instanceof ClientFinishedRequest) {
            return clientFinished((ClientFinishedRequest) request);
        }
        CompletableFuture<CoordinationResponse> failed = new CompletableFuture<>();
        failed.completeExceptionally(new IllegalArgumentException("Unexpected request " + request));
        return failed;
    }

    private CompletableFuture<CoordinationResponse> clientFinished(ClientFinishedRequest done) {
        boolean allFinished;
        synchronized (this) {
            finished.add(done.subtask);
            allFinished = finished.size() == context.currentParallelism();
        }
        if (allFinished) {
            LOG.info(
                    "All {} subtasks calling RpcOperator service '{}' finished",
                    context.currentParallelism(),
                    serviceName);
            service.clientFinished(clientOperator, periodicCheckpointing());
        }
        return CompletableFuture.completedFuture(
                FlinkInternals.coordinationReply("", 0, Collections.emptyList()));
    }

    private boolean periodicCheckpointing() {
        return FlinkInternals.checkpointsPeriodically(context);
    }

    @Override
    public void handleEventFromOperator(int subtask, int attemptNumber, OperatorEvent event) {
        LOG.warn("Ignoring unexpected event {} from subtask {}", event, subtask);
    }

    @Override
    public void checkpointCoordinator(long checkpointId, CompletableFuture<byte[]> result) {
        // Stateless: endpoints are rediscovered and finished flags re-sent after any restore.
        result.complete(new byte[0]);
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {}

    @Override
    public void resetToCheckpoint(long checkpointId, @Nullable byte[] checkpointData) {
        // A global failover: every subtask runs again.
        boolean wasAllFinished;
        long now = System.nanoTime();
        synchronized (this) {
            wasAllFinished = finished.size() == context.currentParallelism();
            finished.clear();
            for (int subtask = 0; subtask < context.currentParallelism(); subtask++) {
                notRunningSince.put(subtask, now);
            }
        }
        if (wasAllFinished && service != null) {
            service.clientResumed(clientOperator);
        }
    }

    @Override
    public void subtaskReset(int subtask, long checkpointId) {}

    /** Creates {@link RosClientCoordinator}s. */
    @Internal
    public static final class Provider implements OperatorCoordinator.Provider {
        private static final long serialVersionUID = 1L;

        private final OperatorID operatorId;
        private final String operatorName;
        private final String serviceId;
        private final String serviceName;
        private final String token;

        @Nullable private final String sharedRestUrl;

        public Provider(
                OperatorID operatorId,
                String operatorName,
                String serviceId,
                String serviceName,
                String token,
                @Nullable String sharedRestUrl) {
            this.sharedRestUrl = sharedRestUrl;
            this.operatorId = operatorId;
            this.operatorName = operatorName;
            this.serviceId = serviceId;
            this.serviceName = serviceName;
            this.token = token;
        }

        @Override
        public OperatorID getOperatorId() {
            return operatorId;
        }

        @Override
        public OperatorCoordinator create(Context context) {
            return new RosClientCoordinator(
                    context, operatorName, serviceId, serviceName, token, sharedRestUrl);
        }
    }
}
