package org.flinkros.connector.internal.service;

import org.flinkros.client.RosServer;
import org.flinkros.client.RosServerOptions;
import org.flinkros.connector.RosDescriptor;
import org.flinkros.connector.RpcOperator;
import org.flinkros.connector.RpcOperatorContext;
import org.flinkros.connector.internal.metrics.RosMetrics;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.connector.source.ReaderOutput;
import org.apache.flink.api.connector.source.SourceEvent;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.core.io.InputStatus;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.util.FlinkRuntimeException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * One instance of a service, hosted as a source reader: {@link #start()} opens the user's operator
 * (the model load), starts the gRPC server and its run loop, and announces the endpoint to the
 * enumerator. The reader emits nothing; it reports {@link InputStatus#NOTHING_AVAILABLE} while it
 * serves and {@link InputStatus#END_OF_INPUT} once told that all callers have finished.
 */
@Internal
final class RosServiceReader implements SourceReader<Void, ServiceSplit> {
    private static final Logger LOG = LoggerFactory.getLogger(RosServiceReader.class);

    private final SourceReaderContext context;
    private final RosDescriptor descriptor;
    private final String token;
    private final RpcOperator operator;
    private final CompletableFuture<Void> endOfService = new CompletableFuture<>();

    private RosServer server;
    private RpcOperatorRunner runner;
    private GpuAllocator.Lease gpus;
    private boolean operatorOpened;

    RosServiceReader(SourceReaderContext context, RosDescriptor descriptor, String token) {
        this.context = context;
        this.descriptor = descriptor;
        this.token = token;
        // The descriptor was deserialized for this subtask: the operator is this instance's own.
        this.operator = descriptor.getOperator();
    }

    @Override
    public void start() {
        int index = context.getIndexOfSubtask();
        String instance = descriptor.getName() + "-" + index;
        try {
            gpus =
                    GpuAllocator.acquire(
                            descriptor.getGpus(),
                            context.getConfiguration(),
                            GpuAllocator.defaultLockDirectory());
            operator.open(new Context(index, gpus.indices()));
            operatorOpened = true;
            server =
                    RosServer.start(
                            RosServerOptions.builder()
                                    .bindHost(descriptor.getBindHost())
                                    .queueCapacity(descriptor.getQueueCapacity())
                                    .maxMessageBytes(descriptor.getMaxMessageBytes())
                                    .methods(operator.methods())
                                    .token(token)
                                    .build());
        } catch (Exception e) {
            throw new FlinkRuntimeException(
                    "RpcOperator service '"
                            + descriptor.getName()
                            + "' instance "
                            + index
                            + " failed to start",
                    e);
        }
        runner =
                new RpcOperatorRunner(
                        server,
                        operator,
                        descriptor.getConcurrency(),
                        "ros-svc-" + instance,
                        context.getUserCodeClassLoader().asClassLoader());
        RosMetrics.registerServer(context.metricGroup(), server::stats, runner.batchSizes());
        runner.start();
        String host = advertisedHost();
        LOG.info(
                "RpcOperator service '{}' instance {} serving at {}:{}",
                descriptor.getName(),
                index,
                host,
                server.port());
        context.sendSourceEventToCoordinator(
                new ServiceEvents.InstanceStarted(
                        host, server.port(), UUID.randomUUID().toString()));
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

    @Override
    public InputStatus pollNext(ReaderOutput<Void> output) {
        Throwable fatal = runner.fatalError();
        if (fatal != null) {
            throw new FlinkRuntimeException(
                    "RpcOperator service '"
                            + descriptor.getName()
                            + "' instance "
                            + context.getIndexOfSubtask()
                            + " failed",
                    fatal);
        }
        return endOfService.isDone() ? InputStatus.END_OF_INPUT : InputStatus.NOTHING_AVAILABLE;
    }

    @Override
    public CompletableFuture<Void> isAvailable() {
        return CompletableFuture.anyOf(endOfService, runner.stoppedOnError()).thenApply(x -> null);
    }

    @Override
    public void handleSourceEvents(SourceEvent event) {
        if (event instanceof ServiceEvents.EndOfService) {
            LOG.info(
                    "RpcOperator service '{}' instance {} ends: all callers finished",
                    descriptor.getName(),
                    context.getIndexOfSubtask());
            endOfService.complete(null);
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
        Exception failure = null;
        if (runner != null) {
            runner.close();
        } else if (server != null) {
            server.close();
        }
        if (operatorOpened) {
            try {
                operator.close();
            } catch (Exception e) {
                failure = e;
            }
        }
        if (gpus != null) {
            gpus.close();
        }
        if (failure != null) {
            throw failure;
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
        public int[] getGpuIndices() {
            return gpuIndices.clone();
        }

        @Override
        public String getServiceName() {
            return descriptor.getName();
        }

        @Override
        public int getInstanceIndex() {
            return index;
        }

        @Override
        public int getParallelism() {
            return descriptor.getParallelism();
        }

        @Override
        public MetricGroup getMetricGroup() {
            return context.metricGroup();
        }

        @Override
        public ClassLoader getUserCodeClassLoader() {
            return context.getUserCodeClassLoader().asClassLoader();
        }
    }
}
