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

import org.flinkros.client.RosServer;
import org.flinkros.client.RosServerOptions;
import org.flinkros.connector.PythonService;
import org.flinkros.connector.RosDescriptor;
import org.flinkros.connector.RpcOperatorContext;
import org.flinkros.connector.internal.FlinkInternals;
import org.flinkros.connector.internal.metrics.RosMetrics;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.connector.source.ReaderOutput;
import org.apache.flink.api.connector.source.SourceEvent;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.core.io.InputStatus;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.util.FlinkRuntimeException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.annotation.Nullable;
import javax.annotation.concurrent.GuardedBy;

import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

/**
 * One instance of a service, hosted as a source reader. {@link #start()} returns at once and the
 * instance starts in the background ({@link InstanceStartup}: the model load), so the task is
 * RUNNING and the job's checkpoints go on while it loads; once it serves, the reader announces its
 * endpoint to the enumerator. The reader emits nothing; it reports {@link
 * InputStatus#NOTHING_AVAILABLE} while it serves and {@link InputStatus#END_OF_INPUT} once told
 * that all callers have finished.
 *
 * <p>A failed startup is reported to the enumerator, which counts failures in a row and answers
 * whether Flink may restart the instance or the job must fail without restarting.
 */
@Internal
final class RosServiceReader implements SourceReader<Void, ServiceSplit> {
    private static final Logger LOG = LoggerFactory.getLogger(RosServiceReader.class);
    private static final ConfigOption<String> PYTHON_EXECUTABLE =
            ConfigOptions.key(PythonService.EXECUTABLE_OPTION).stringType().noDefaultValue();

    /** How long a failed instance waits for the enumerator's verdict before it fails anyway. */
    static final Duration VERDICT_WAIT = Duration.ofSeconds(10);

    private enum Phase {
        STARTING,
        SERVING,
        AWAITING_VERDICT
    }

    private final SourceReaderContext context;
    private final RosDescriptor descriptor;
    private final String token;
    private final String instance;
    private final CompletableFuture<Void> endOfService = new CompletableFuture<>();

    /** Task-thread state. */
    private Phase phase = Phase.STARTING;

    private InstanceLauncher startup;
    @Nullable private ServingInstance runner;
    @Nullable private Throwable startupFailure;
    @Nullable private volatile RuntimeException failure;
    private long startedAtNanos;

    /** Completed when something for {@link #pollNext} happened; replaced once consumed. */
    @GuardedBy("this")
    private CompletableFuture<Void> wakeUp = new CompletableFuture<>();

    RosServiceReader(SourceReaderContext context, RosDescriptor descriptor, String token) {
        this.context = context;
        this.descriptor = descriptor;
        this.token = token;
        this.instance = descriptor.name() + "-" + context.getIndexOfSubtask();
    }

    @Override
    public void start() {
        startedAtNanos = System.nanoTime();
        if (descriptor.python() != null) {
            startup =
                    new PythonInstance(
                            instance,
                            descriptor.python(),
                            new PythonSteps(),
                            LoggerFactory.getLogger(
                                    PythonInstance.LOGGER_PREFIX
                                            + descriptor.name()
                                            + "."
                                            + context.getIndexOfSubtask()));
        } else {
            // The descriptor was deserialized for this subtask: the operator is this instance's
            // own.
            startup =
                    new InstanceStartup(
                            instance,
                            descriptor.operator(),
                            new Steps(),
                            context.getUserCodeClassLoader().asClassLoader());
        }
        startup.started().whenComplete((runner, error) -> wakeUp());
        startup.start();
        LOG.info(
                "RpcOperator service '{}' instance {} is starting ({} in the background)",
                descriptor.name(),
                context.getIndexOfSubtask(),
                descriptor.python() != null
                        ? "a Python process serving " + descriptor.python().serviceClass()
                        : "open() runs");
    }

    @Override
    public InputStatus pollNext(ReaderOutput<Void> output) {
        consumeWakeUp();
        if (failure != null) {
            throw failure;
        }
        if (phase == Phase.STARTING && startup.started().isDone()) {
            try {
                onServing(startup.started().join());
            } catch (CompletionException e) {
                onStartupFailed(e.getCause());
            }
        }
        if (phase == Phase.SERVING && runner.fatalError() != null) {
            throw new FlinkRuntimeException(
                    "RpcOperator service '"
                            + descriptor.name()
                            + "' instance "
                            + context.getIndexOfSubtask()
                            + " failed",
                    runner.fatalError());
        }
        return endOfService.isDone() ? InputStatus.END_OF_INPUT : InputStatus.NOTHING_AVAILABLE;
    }

    private void onServing(ServingInstance started) {
        runner = started;
        phase = Phase.SERVING;
        started.stoppedOnError().whenComplete((ignored, error) -> wakeUp());
        RosMetrics.registerServer(context.metricGroup(), started::stats, started.batchSizes());
        String host = advertisedHost();
        LOG.info(
                "RpcOperator service '{}' instance {} serving at {}:{} ({} ms after it started)",
                descriptor.name(),
                context.getIndexOfSubtask(),
                host,
                started.port(),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedAtNanos));
        context.sendSourceEventToCoordinator(
                new ServiceEvents.InstanceStarted(
                        host, started.port(), UUID.randomUUID().toString()));
    }

    /** Tells the enumerator, which answers whether to give up; fails anyway if it does not. */
    private void onStartupFailed(Throwable cause) {
        startupFailure = cause;
        phase = Phase.AWAITING_VERDICT;
        LOG.warn(
                "RpcOperator service '{}' instance {} failed to start",
                descriptor.name(),
                context.getIndexOfSubtask(),
                cause);
        context.sendSourceEventToCoordinator(new ServiceEvents.OpenFailed(String.valueOf(cause)));
        CompletableFuture.delayedExecutor(VERDICT_WAIT.toMillis(), TimeUnit.MILLISECONDS)
                .execute(
                        () -> {
                            synchronized (this) {
                                if (failure == null) {
                                    failure = startupFailed(null);
                                }
                            }
                            wakeUp();
                        });
    }

    private RuntimeException startupFailed(@Nullable ServiceEvents.OpenVerdict verdict) {
        String prefix =
                "RpcOperator service '"
                        + descriptor.name()
                        + "' instance "
                        + context.getIndexOfSubtask()
                        + " failed to start";
        if (verdict == null) {
            return new FlinkRuntimeException(prefix, startupFailure);
        }
        if (!verdict.giveUp) {
            return new FlinkRuntimeException(
                    prefix
                            + " ("
                            + verdict.failures
                            + " of at most "
                            + verdict.maxOpenAttempts
                            + " failed starts in a row; Flink restarts it)",
                    startupFailure);
        }
        return FlinkInternals.withoutRestart(
                new FlinkRuntimeException(
                        prefix
                                + " "
                                + verdict.failures
                                + " times in a row; the job fails without restarting, since"
                                + " another restart would load the model only to fail again."
                                + " Fix the cause below (in the operator's open() or a Python"
                                + " service's process, its resources or its configuration), or"
                                + " allow more attempts with"
                                + " RosDescriptor.Builder#maxOpenAttempts",
                        startupFailure));
    }

    /**
     * The address clients reach this instance at: the TaskManager's external address, as for
     * Flink's own sockets in tasks. A TaskManager whose RPC runs in-process (a MiniCluster) has
     * none; all tasks then share this JVM and reach the instance on loopback.
     */
    private String advertisedHost() {
        String host = context.getLocalHostName();
        return host == null || host.trim().isEmpty() ? "127.0.0.1" : host;
    }

    private synchronized void consumeWakeUp() {
        if (wakeUp.isDone()) {
            wakeUp = new CompletableFuture<>();
        }
    }

    private void wakeUp() {
        CompletableFuture<Void> current;
        synchronized (this) {
            current = wakeUp;
        }
        current.complete(null);
    }

    @Override
    public synchronized CompletableFuture<Void> isAvailable() {
        return wakeUp;
    }

    @Override
    public void handleSourceEvents(SourceEvent event) {
        if (event instanceof ServiceEvents.EndOfService) {
            LOG.info(
                    "RpcOperator service '{}' instance {} ends: all callers finished",
                    descriptor.name(),
                    context.getIndexOfSubtask());
            endOfService.complete(null);
            wakeUp();
        } else if (event instanceof ServiceEvents.OpenVerdict && phase == Phase.AWAITING_VERDICT) {
            synchronized (this) {
                failure = startupFailed((ServiceEvents.OpenVerdict) event);
            }
            wakeUp();
        }
    }

    @Override
    public List<ServiceSplit> snapshotState(long checkpointId) {
        return Collections.emptyList();
    }

    @Override
    public void addSplits(List<ServiceSplit> splits) {}

    @Override
    public void notifyNoMoreSplits() {}

    @Override
    public void close() throws Exception {
        if (startup != null) {
            startup.close();
        }
    }

    /** How {@link PythonInstance} brings this instance up. */
    private final class PythonSteps implements PythonInstance.Steps {
        @Override
        public GpuAllocator.Lease claimGpus() throws Exception {
            return new Steps().claimGpus();
        }

        @Override
        public String executable() {
            return descriptor
                    .python()
                    .executable()
                    .orElseGet(
                            () ->
                                    context.getConfiguration()
                                            .getOptional(PYTHON_EXECUTABLE)
                                            .map(String::trim)
                                            .filter(executable -> !executable.isEmpty())
                                            .orElse(PythonService.DEFAULT_EXECUTABLE));
        }

        @Override
        public String serviceName() {
            return descriptor.name();
        }

        @Override
        public int instanceIndex() {
            return context.getIndexOfSubtask();
        }

        @Override
        public int parallelism() {
            return descriptor.parallelism();
        }

        @Override
        public int concurrency() {
            return descriptor.concurrency();
        }

        @Override
        public String token() {
            return token;
        }

        @Override
        public String[] serverOptions() {
            RosServerOptions options = descriptor.serverOptions();
            return options.toBuilder()
                    .bindHost(
                            BindAddress.of(
                                    options.bindHost(),
                                    context.getConfiguration(),
                                    advertisedHost()))
                    .methods(Collections.emptySet())
                    .token(null)
                    .build()
                    .toNative();
        }
    }

    /** How {@link InstanceStartup} brings this instance up. */
    private final class Steps implements InstanceStartup.Steps {
        @Override
        public GpuAllocator.Lease claimGpus() throws Exception {
            return GpuAllocator.acquire(
                    descriptor.gpus(),
                    context.getConfiguration(),
                    GpuAllocator.defaultLockDirectory());
        }

        @Override
        public RpcOperatorContext context(int[] gpuIndices) {
            return new Context(context.getIndexOfSubtask(), gpuIndices);
        }

        @Override
        public RosServerOptions serverOptions() {
            RosServerOptions options = descriptor.serverOptions();
            RosServerOptions.Builder builder =
                    options.toBuilder()
                            .bindHost(
                                    BindAddress.of(
                                            options.bindHost(),
                                            context.getConfiguration(),
                                            advertisedHost()))
                            .methods(descriptor.operator().methods())
                            .token(token);
            return InstanceBatching.apply(builder, options, descriptor.operator()).build();
        }

        @Override
        public RpcOperatorRunner runner(RosServer server) {
            return new RpcOperatorRunner(
                    server,
                    descriptor.operator(),
                    descriptor.concurrency(),
                    "ros-svc-" + instance,
                    context.getUserCodeClassLoader().asClassLoader());
        }
    }

    private final class Context implements RpcOperatorContext {
        private final int index;
        private final int[] gpuIndices;

        Context(int index, int[] gpuIndices) {
            this.index = index;
            this.gpuIndices = gpuIndices;
        }

        @Override
        public int[] gpuIndices() {
            return gpuIndices.clone();
        }

        @Override
        public String serviceName() {
            return descriptor.name();
        }

        @Override
        public int instanceIndex() {
            return index;
        }

        @Override
        public int parallelism() {
            return descriptor.parallelism();
        }

        @Override
        public MetricGroup metricGroup() {
            return context.metricGroup();
        }

        @Override
        public ClassLoader userCodeClassLoader() {
            return context.getUserCodeClassLoader().asClassLoader();
        }
    }
}
