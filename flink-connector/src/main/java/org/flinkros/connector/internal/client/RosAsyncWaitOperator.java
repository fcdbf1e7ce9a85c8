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
import org.flinkros.client.RosException;
import org.flinkros.client.StatusCode;
import org.flinkros.connector.internal.FlinkInternals;
import org.flinkros.connector.internal.StallWarnings;
import org.flinkros.connector.internal.discovery.EndpointSnapshot;
import org.flinkros.connector.internal.metrics.RosMetrics;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.runtime.operators.coordination.CoordinationResponse;
import org.apache.flink.streaming.api.datastream.AsyncDataStream.OutputMode;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.streaming.api.operators.async.AsyncWaitOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.tasks.ProcessingTimeService;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

import static org.apache.flink.streaming.util.retryable.AsyncRetryStrategies.NO_RETRY_STRATEGY;

/**
 * Flink's async operator, plus what calling a service needs: a long poll that keeps the client's
 * endpoint set current, a wait for the service's instances before the first record, and telling the
 * coordinator when the subtask has finished (so a bounded job's service can end).
 */
@Internal
public final class RosAsyncWaitOperator<IN, OUT> extends AsyncWaitOperator<IN, OUT> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(RosAsyncWaitOperator.class);

    /** How long {@link #endInput()} waits for the coordinator to take note. */
    private static final long FINISH_ACK_TIMEOUT_SECONDS = 60;

    /** Pause before polling again after a failed poll (e.g. the JobManager is failing over). */
    private static final long POLL_RETRY_MILLIS = 500;

    private final RosAsyncFunctionAdapter<IN, OUT> adapter;
    private final Duration startupTimeout;
    private final int startupInstances;
    private final transient MailboxExecutor mailbox;
    private transient boolean serviceSeen;
    private transient boolean polling;

    RosAsyncWaitOperator(
            StreamOperatorParameters<OUT> parameters,
            RosAsyncFunctionAdapter<IN, OUT> adapter,
            long timeoutMillis,
            int capacity,
            OutputMode outputMode,
            ProcessingTimeService processingTimeService,
            MailboxExecutor mailbox,
            Duration startupTimeout,
            int startupInstances) {
        super(
                parameters,
                adapter,
                timeoutMillis,
                capacity,
                outputMode,
                NO_RETRY_STRATEGY,
                processingTimeService,
                mailbox);
        this.adapter = adapter;
        this.mailbox = mailbox;
        this.startupTimeout = startupTimeout;
        this.startupInstances = startupInstances;
    }

    @Override
    public void open() throws Exception {
        JobID job = getRuntimeContext().getJobInfo().getJobId();
        adapter.identify(
                ClientIds.principal(job, getOperatorID()),
                ClientIds.of(
                        job,
                        getOperatorID(),
                        getRuntimeContext().getTaskInfo().getIndexOfThisSubtask()),
                getRuntimeContext().getTaskInfo().getAttemptNumber());
        // Poll before the base class opens: it re-sends records restored from a checkpoint, and
        // those wait for the service's endpoints like any other record.
        polling = true;
        pollEndpoints(-1);
        super.open();
        RosClient client = adapter.client();
        RosMetrics.registerClient(getMetricGroup(), client::stats);
    }

    /**
     * Asks the coordinator for the endpoint set unless it still is at {@code knownVersion}. The
     * reply is handled in the mailbox, which then polls again: one poll is outstanding at a time.
     */
    private void pollEndpoints(long knownVersion) {
        if (!polling) {
            return;
        }
        CompletableFuture<CoordinationResponse> reply;
        try {
            reply =
                    FlinkInternals.requestCoordinator(
                            getContainingTask(),
                            getOperatorID(),
                            new EndpointsRequest(knownVersion));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        reply.whenComplete(
                (response, error) -> {
                    try {
                        mailbox.execute(
                                () -> onEndpointsReply(knownVersion, response, error),
                                "RpcOperator service endpoints");
                    } catch (RejectedExecutionException taskEnded) {
                        // The task is finishing; nobody needs endpoints any more.
                    }
                });
    }

    private void onEndpointsReply(long knownVersion, CoordinationResponse response, Throwable error)
            throws IOException {
        if (!polling) {
            return;
        }
        if (error != null) {
            LOG.debug(
                    "Polling the endpoints of RpcOperator service '{}' failed; retrying",
                    adapter.serviceName(),
                    error);
            long retryAt =
                    getProcessingTimeService().getCurrentProcessingTime() + POLL_RETRY_MILLIS;
            getProcessingTimeService().registerTimer(retryAt, t -> pollEndpoints(knownVersion));
            return;
        }
        EndpointSnapshot snapshot = EndpointsRequest.parseReply(response);
        adapter.onEndpoints(snapshot);
        pollEndpoints(snapshot.version());
    }

    @Override
    public void processElement(StreamRecord<IN> record) throws Exception {
        if (!serviceSeen) {
            awaitInstances();
        }
        super.processElement(record);
    }

    /**
     * Holds the first record until the service has {@code startupInstances} live instances,
     * processing mails meanwhile (poll replies arrive as mails). Timers wake the mailbox at the
     * deadline and to warn, every {@link StallWarnings#intervalMillis()} ms, that the subtask is
     * waiting. At the deadline the subtask fails if no instance is live, and starts with the live
     * ones otherwise.
     */
    private void awaitInstances() throws InterruptedException {
        long started = getProcessingTimeService().getCurrentProcessingTime();
        long deadline = started + startupTimeout.toMillis();
        getProcessingTimeService().registerTimer(deadline, timestamp -> {});
        long interval = StallWarnings.intervalMillis();
        long nextWarning = started + interval;
        getProcessingTimeService().registerTimer(nextWarning, timestamp -> {});
        while (adapter.liveInstances() < startupInstances) {
            long now = getProcessingTimeService().getCurrentProcessingTime();
            if (now >= deadline) {
                startWithoutAllInstances();
                break;
            }
            if (now >= nextWarning) {
                LOG.warn(
                        "Subtask {} of '{}' has waited {} s of at most {} s for RpcOperator service"
                                + " '{}' to have {}; its records wait meanwhile. The JobManager's"
                                + " log says why the instances are not serving (no slot, or a model"
                                + " still loading).",
                        getRuntimeContext().getTaskInfo().getIndexOfThisSubtask(),
                        getOperatorName(),
                        (now - started) / 1000,
                        startupTimeout.getSeconds(),
                        adapter.serviceName(),
                        wantedInstances());
                nextWarning = now + interval;
                getProcessingTimeService().registerTimer(nextWarning, timestamp -> {});
            }
            mailbox.yield();
        }
        serviceSeen = true;
    }

    /** The startup timeout passed: fails with no live instance, warns and goes on with some. */
    private void startWithoutAllInstances() {
        int live = adapter.liveInstances();
        if (live == 0) {
            throw new RosException(
                    StatusCode.UNAVAILABLE,
                    "RpcOperator service '"
                            + adapter.serviceName()
                            + "' had no live instance within "
                            + startupTimeout
                            + "; the JobManager's log says why its instances are not serving");
        }
        LOG.warn(
                "Subtask {} of '{}' starts calling RpcOperator service '{}' with {} of the {} live"
                        + " instances it waited {} for (startupInstances); the JobManager's log"
                        + " says why the others are not serving.",
                getRuntimeContext().getTaskInfo().getIndexOfThisSubtask(),
                getOperatorName(),
                adapter.serviceName(),
                live,
                startupInstances,
                startupTimeout);
    }

    private String wantedInstances() {
        return startupInstances == 1
                ? "a live instance"
                : startupInstances + " live instances (" + adapter.liveInstances() + " so far)";
    }

    @Override
    public void endInput() throws Exception {
        super.endInput();
        // All calls have completed; tell the coordinator and wait until it took note, so that the
        // service cannot miss this subtask's end.
        FlinkInternals.requestCoordinator(
                        getContainingTask(),
                        getOperatorID(),
                        new ClientFinishedRequest(
                                getRuntimeContext().getTaskInfo().getIndexOfThisSubtask(),
                                getRuntimeContext().getTaskInfo().getAttemptNumber()))
                .get(FINISH_ACK_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    @Override
    public void finish() throws Exception {
        polling = false;
        super.finish();
    }

    @Override
    public void close() throws Exception {
        polling = false;
        super.close();
    }
}
