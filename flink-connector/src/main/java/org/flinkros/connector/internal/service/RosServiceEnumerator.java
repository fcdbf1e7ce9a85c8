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
package org.flinkros.connector.internal.service;

import org.flinkros.connector.RosDescriptor;
import org.flinkros.connector.internal.ServiceResources;
import org.flinkros.connector.internal.StallWarnings;
import org.flinkros.connector.internal.discovery.ServiceRegistry;
import org.flinkros.connector.internal.discovery.ServiceState;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.connector.source.SourceEvent;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.annotation.Nullable;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * The service's coordinator side, in the JobManager: keeps the registry of live instances that
 * clients get pushed, and ends the instances once every client operator has finished.
 *
 * <p>Instances register themselves with an {@link ServiceEvents.InstanceStarted} event. An instance
 * leaves the registry when Flink unregisters its reader (it failed or finished), which is checked
 * every {@value #LIVENESS_CHECK_MILLIS} ms; the client's transport notices a dead instance much
 * sooner, this is the slower authoritative path.
 *
 * <p>Ending: with checkpointing, the instances end after the first checkpoint that completes once
 * all clients are done, so that the clients' finished state is durable before the service goes
 * away; without checkpointing (and in BATCH mode) at once.
 */
@Internal
public final class RosServiceEnumerator implements SplitEnumerator<ServiceSplit, NoState> {
    private static final Logger LOG = LoggerFactory.getLogger(RosServiceEnumerator.class);
    static final long LIVENESS_CHECK_MILLIS = 100;

    /** The enumerator's metric with the live instances' {@code host:port}, comma-separated. */
    public static final String ENDPOINTS_METRIC = "rosEndpoints";

    private final SplitEnumeratorContext<ServiceSplit> context;
    private final RosDescriptor descriptor;
    private final String serviceName;
    private final int expectedClientOperators;

    /** A shared service (its own job, called by other jobs): runs until it is cancelled. */
    private final boolean shared;

    private final ServiceState state;
    private final ServiceState.ServiceListener listener = this::onClientsDone;

    /** Coordinator-thread state. */
    private boolean clientsDone;

    private boolean clientsCheckpoint;
    private long endAfterCheckpoint = -1;
    private boolean ended;

    /** Failed startups in a row, by instance; a start that serves clears its count. */
    private final Map<Integer, Integer> failedStarts = new HashMap<>();

    /** Since when (nanoTime) each instance that is not serving has not been. */
    private final Map<Integer, Long> notServingSince = new TreeMap<>();

    private long lastNotServingWarn = System.nanoTime();

    private final long startedAt = System.nanoTime();
    private boolean noCallersWarned;

    RosServiceEnumerator(
            SplitEnumeratorContext<ServiceSplit> context,
            String serviceId,
            RosDescriptor descriptor,
            int expectedClientOperators,
            boolean shared) {
        this.context = context;
        this.shared = shared;
        this.descriptor = descriptor;
        this.serviceName = descriptor.name();
        this.expectedClientOperators = expectedClientOperators;
        this.state = ServiceRegistry.acquire(serviceId, serviceName);
    }

    @Override
    public void start() {
        // A (re)started enumerator starts from nothing: instances announce themselves again.
        state.serviceStarted();
        // What other jobs read through the REST API to find a shared service's instances.
        context.metricGroup()
                .gauge(ENDPOINTS_METRIC, () -> String.join(",", state.snapshot().endpoints()));
        state.attachService(listener);
        context.callAsync(
                () -> null,
                (ignored, error) -> dropUnregisteredInstances(),
                LIVENESS_CHECK_MILLIS,
                LIVENESS_CHECK_MILLIS);
    }

    private void dropUnregisteredInstances() {
        state.retainInstances(new HashSet<>(context.registeredReaders().keySet()));
        warnIfNotServing();
        warnIfNoCallers();
    }

    /**
     * Says once, after {@link StallWarnings#intervalMillis()} ms, that a service nobody calls runs
     * until the job is cancelled: SQL callers announce themselves when they start, so the warning
     * waits for them rather than misleading a job that has some.
     */
    private void warnIfNoCallers() {
        if (noCallersWarned
                || shared
                || expectedClientOperators > 0
                || System.nanoTime() - startedAt
                        < TimeUnit.MILLISECONDS.toNanos(StallWarnings.intervalMillis())) {
            return;
        }
        noCallersWarned = true;
        if (!state.hasAnnouncedCallers()) {
            LOG.warn(
                    "Nothing in this job calls RpcOperator service '{}' (no DataStream operator,"
                            + " and no ML_PREDICT query has started): it runs until the job is"
                            + " cancelled, as a shared service does.",
                    serviceName);
        }
    }

    /**
     * Says, at most every {@link StallWarnings#intervalMillis()} ms, which instances are not
     * serving and why, so that a service that cannot start is never silent: no slot yet (the
     * cluster lacks slots or resources for its slot sharing group), or its {@code open()} still
     * runs.
     */
    private void warnIfNotServing() {
        long now = System.nanoTime();
        Set<Integer> serving = state.servingInstances();
        for (int subtask = 0; subtask < descriptor.parallelism(); subtask++) {
            if (serving.contains(subtask)) {
                notServingSince.remove(subtask);
            } else {
                notServingSince.putIfAbsent(subtask, now);
            }
        }
        long warnAfter = TimeUnit.MILLISECONDS.toNanos(StallWarnings.intervalMillis());
        if (ended || notServingSince.isEmpty() || now - lastNotServingWarn < warnAfter) {
            return;
        }
        List<String> waitingForSlots = new ArrayList<>();
        List<String> starting = new ArrayList<>();
        for (Map.Entry<Integer, Long> waiting : notServingSince.entrySet()) {
            long waited = now - waiting.getValue();
            if (waited < warnAfter) {
                continue;
            }
            long seconds = TimeUnit.NANOSECONDS.toSeconds(waited);
            String entry = waiting.getKey() + " (" + seconds + " s)";
            if (context.registeredReaders().containsKey(waiting.getKey())) {
                starting.add(entry);
            } else {
                waitingForSlots.add(entry);
            }
        }
        if (waitingForSlots.isEmpty() && starting.isEmpty()) {
            return;
        }
        lastNotServingWarn = now;
        StringBuilder message =
                new StringBuilder("RpcOperator service '").append(serviceName).append("':");
        if (!waitingForSlots.isEmpty()) {
            message.append(" instances ")
                    .append(waitingForSlots)
                    .append(" are not deployed: no slot for slot sharing group '")
                    .append(descriptor.slotSharingGroup().getName())
                    .append("' (")
                    .append(ServiceResources.describe(descriptor))
                    .append(") is free. ")
                    .append(ServiceResources.slotAdvice(descriptor));
        }
        if (!starting.isEmpty()) {
            message.append(" instances ")
                    .append(starting)
                    .append(" are running their open() (the model load) and not serving yet.");
        }
        LOG.warn(message.toString());
    }

    @Override
    public void handleSourceEvent(int subtaskId, SourceEvent event) {
        if (event instanceof ServiceEvents.InstanceStarted) {
            ServiceEvents.InstanceStarted started = (ServiceEvents.InstanceStarted) event;
            if (!context.registeredReaders().containsKey(subtaskId)) {
                // A late event of an attempt that is already gone.
                return;
            }
            LOG.info(
                    "RpcOperator service '{}' instance {} serves at {}:{}",
                    serviceName,
                    subtaskId,
                    started.host,
                    started.port);
            failedStarts.remove(subtaskId);
            state.instanceStarted(subtaskId, started.host, started.port, started.instanceId);
            if (ended) {
                context.sendEventToSourceReader(subtaskId, new ServiceEvents.EndOfService());
            }
        } else if (event instanceof ServiceEvents.OpenFailed) {
            int failures = failedStarts.merge(subtaskId, 1, Integer::sum);
            int maxAttempts = descriptor.maxOpenAttempts();
            boolean giveUp = failures >= maxAttempts;
            LOG.warn(
                    "RpcOperator service '{}' instance {} failed to start ({} of at most {} in a"
                            + " row{}): {}",
                    serviceName,
                    subtaskId,
                    failures,
                    maxAttempts,
                    giveUp ? "; the job fails" : "",
                    ((ServiceEvents.OpenFailed) event).cause);
            context.sendEventToSourceReader(
                    subtaskId, new ServiceEvents.OpenVerdict(giveUp, failures, maxAttempts));
        } else {
            LOG.warn("Ignoring unexpected event {} from instance {}", event, subtaskId);
        }
    }

    /** Called by client coordinators, from their threads. */
    private void onClientsDone(
            int finishedClientOperators, int announcedCallers, boolean anyCheckpointing) {
        context.runInCoordinatorThread(
                () -> {
                    int callers = expectedClientOperators + announcedCallers;
                    clientsDone = !shared && callers > 0 && finishedClientOperators >= callers;
                    clientsCheckpoint = anyCheckpointing;
                    if (!clientsDone) {
                        endAfterCheckpoint = -1;
                    } else if (!clientsCheckpoint) {
                        endInstances();
                    }
                });
    }

    @Override
    public NoState snapshotState(long checkpointId) {
        if (clientsDone && clientsCheckpoint && endAfterCheckpoint < 0) {
            endAfterCheckpoint = checkpointId;
        }
        return NoState.INSTANCE;
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {
        if (clientsDone && endAfterCheckpoint >= 0 && checkpointId >= endAfterCheckpoint) {
            endInstances();
        }
    }

    private void endInstances() {
        if (ended) {
            return;
        }
        ended = true;
        state.markEnded();
        LOG.info(
                "All callers of RpcOperator service '{}' finished; ending its instances",
                serviceName);
        for (Integer subtask : context.registeredReaders().keySet()) {
            context.sendEventToSourceReader(subtask, new ServiceEvents.EndOfService());
        }
    }

    @Override
    public void handleSplitRequest(int subtaskId, @Nullable String requesterHostname) {}

    @Override
    public void addSplitsBack(List<ServiceSplit> splits, int subtaskId) {
        state.instanceGone(subtaskId);
    }

    @Override
    public void addReader(int subtaskId) {}

    @Override
    public void close() {
        state.detachService(listener);
        ServiceRegistry.release(state);
    }
}
