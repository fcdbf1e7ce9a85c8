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
package org.flinkros.connector.internal.discovery;

import org.flinkros.connector.internal.FlinkInternals;

import org.apache.flink.annotation.Internal;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.operators.coordination.CoordinationRequest;
import org.apache.flink.runtime.operators.coordination.CoordinationRequestHandler;
import org.apache.flink.runtime.operators.coordination.CoordinationResponse;
import org.apache.flink.runtime.operators.coordination.OperatorCoordinator;
import org.apache.flink.runtime.operators.coordination.OperatorEvent;

import javax.annotation.Nullable;
import javax.annotation.concurrent.GuardedBy;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * The coordinator of a service's directory operator: answers {@link DirectoryLookup}s from tasks of
 * the same job with the service's token and endpoints. Only tasks of this job can reach it, so the
 * token stays in the job that holds it anyway.
 */
@Internal
public final class DirectoryCoordinator implements OperatorCoordinator, CoordinationRequestHandler {
    /** How long a lookup that knows the current endpoints waits for a change. */
    static final long LONG_POLL_MILLIS = 3_000;

    private final String serviceId;
    private final String serviceName;
    private final String token;
    private final String listenerName;
    private final Context context;
    private final EndpointPolls polls;

    /** By caller operator: its subtasks that finished their input. */
    @GuardedBy("this")
    private final Map<String, Set<Integer>> finishedSubtasks = new HashMap<>();

    @Nullable private volatile ServiceState service;

    DirectoryCoordinator(Context context, String serviceId, String serviceName, String token) {
        this.context = context;
        this.serviceId = serviceId;
        this.serviceName = serviceName;
        this.token = token;
        this.listenerName = "directory:" + context.getOperatorId().toHexString();
        this.polls =
                new EndpointPolls(
                        LONG_POLL_MILLIS, snapshot -> DirectoryLookup.reply(token, snapshot));
    }

    @Override
    public void start() {
        ServiceState state = ServiceRegistry.acquire(serviceId, serviceName);
        service = state;
        state.addEndpointListener(listenerName, polls::answerAll);
    }

    @Override
    public void close() {
        ServiceState state = service;
        if (state != null) {
            state.removeEndpointListener(listenerName);
            polls.answerAll(state.snapshot());
            ServiceRegistry.release(state);
            service = null;
        }
    }

    @Override
    public CompletableFuture<CoordinationResponse> handleCoordinationRequest(
            CoordinationRequest request) {
        ServiceState state = service;
        if (request instanceof CallerRequest && state != null) {
            caller(state, (CallerRequest) request);
            return CompletableFuture.completedFuture(CallerRequest.reply());
        }
        if (!(request instanceof DirectoryLookup) || state == null) {
            return CompletableFuture.failedFuture(
                    new IllegalArgumentException(
                            "directory of RpcOperator service '"
                                    + serviceName
                                    + "' cannot answer "
                                    + request));
        }
        return polls.poll(state, ((DirectoryLookup) request).knownVersion);
    }

    /**
     * Tracks which subtasks of each announced caller have finished; a caller whose subtasks all
     * finished is a finished client of the service, one of whose subtasks runs again is not.
     */
    private void caller(ServiceState state, CallerRequest request) {
        String client = "sql:" + request.caller;
        boolean nowFinished;
        boolean resumed;
        synchronized (this) {
            Set<Integer> finished =
                    finishedSubtasks.computeIfAbsent(request.caller, c -> new HashSet<>());
            boolean wasFinished = finished.size() >= request.parallelism;
            if (request.finished) {
                finished.add(request.subtask);
            } else {
                finished.remove(request.subtask);
            }
            nowFinished = finished.size() >= request.parallelism;
            resumed = wasFinished && !nowFinished;
        }
        state.callerAnnounced(client);
        if (nowFinished) {
            state.clientFinished(client, FlinkInternals.checkpointsPeriodically(context));
        } else if (resumed) {
            state.clientResumed(client);
        }
    }

    @Override
    public void handleEventFromOperator(int subtask, int attemptNumber, OperatorEvent event) {}

    @Override
    public void checkpointCoordinator(long checkpointId, CompletableFuture<byte[]> result) {
        result.complete(new byte[0]);
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {}

    @Override
    public void resetToCheckpoint(long checkpointId, @Nullable byte[] checkpointData) {
        // A global failover: every caller runs again (and says so).
        Set<String> callers;
        synchronized (this) {
            callers = new HashSet<>(finishedSubtasks.keySet());
            finishedSubtasks.clear();
        }
        ServiceState state = service;
        if (state != null) {
            for (String caller : callers) {
                state.clientResumed("sql:" + caller);
            }
        }
    }

    @Override
    public void subtaskReset(int subtask, long checkpointId) {}

    @Override
    public void executionAttemptFailed(
            int subtask, int attemptNumber, @Nullable Throwable reason) {}

    @Override
    public void executionAttemptReady(int subtask, int attemptNumber, SubtaskGateway gateway) {}

    /** Creates {@link DirectoryCoordinator}s. */
    @Internal
    static final class Provider implements OperatorCoordinator.Provider {
        private static final long serialVersionUID = 1L;

        private final OperatorID operatorId;
        private final String serviceId;
        private final String serviceName;
        private final String token;

        Provider(OperatorID operatorId, String serviceId, String serviceName, String token) {
            this.operatorId = operatorId;
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
            return new DirectoryCoordinator(context, serviceId, serviceName, token);
        }
    }
}
