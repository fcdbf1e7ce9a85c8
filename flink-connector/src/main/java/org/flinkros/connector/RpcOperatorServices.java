package org.flinkros.connector;

import org.flinkros.client.ServiceTokens;
import org.flinkros.connector.internal.ConfigurationChecks;
import org.flinkros.connector.internal.service.RosServiceSource;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.operators.SlotSharingGroup;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.environment.LocalStreamEnvironment;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Adds RpcOperator services to a job.
 *
 * <pre>{@code
 * StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
 * RosServiceHandle model = RpcOperatorServices.addRpcOperatorService(env,
 *         RosDescriptor.builder("sentiment", new SentimentModel())
 *                 .parallelism(2).cpuCores(2).taskHeapMemoryMb(1024).build());
 * DataStream<Score> scores = RosAsyncDataStream.unorderedWait(
 *         reviews, model, (review, client, result) -> ..., Duration.ofSeconds(30), 100);
 * }</pre>
 */
@PublicEvolving
public final class RpcOperatorServices {
    private static final Logger LOG = LoggerFactory.getLogger(RpcOperatorServices.class);

    private RpcOperatorServices() {}

    /**
     * Adds a service to the job. Its instances run in their own pipelined region (they are not
     * connected to the data plane) and their own SlotSharingGroup, so they are scheduled, fail and
     * restart independently of the data plane. The service belongs to this job and ends with it; in
     * a bounded job it ends once every data-plane operator calling it has finished.
     *
     * @return the handle to call the service with, through {@link RosAsyncDataStream}
     * @throws IllegalArgumentException if the service asks for GPUs that the cluster's known
     *     configuration does not offer, naming the missing resource
     */
    public static RosServiceHandle addRpcOperatorService(
            StreamExecutionEnvironment env, RosDescriptor descriptor) {
        boolean gpusChecked =
                ConfigurationChecks.checkGpus(
                        env.getConfiguration(),
                        env instanceof LocalStreamEnvironment,
                        descriptor.getName(),
                        descriptor.getGpus());
        if (!gpusChecked) {
            LOG.info(
                    "RpcOperator service '{}' asks for {} GPU(s) per instance; this client's"
                            + " configuration does not declare the cluster's external resources,"
                            + " so the job fails with Flink's 'Could not acquire the minimum"
                            + " required resources' if the TaskManagers have no 'gpu'.",
                    descriptor.getName(),
                    descriptor.getGpus());
        }
        for (String finding : ConfigurationChecks.findings(env.getConfiguration())) {
            LOG.warn("RpcOperator service '{}': {}", descriptor.getName(), finding);
        }
        String serviceId = UUID.randomUUID().toString();
        // Made now and carried by the job graph to both sides: instances refuse calls without it.
        String token = ServiceTokens.generate();
        AtomicInteger clientOperators = new AtomicInteger();
        SlotSharingGroup group = descriptor.getSlotSharingGroup();
        String name = "RpcOperatorService: " + descriptor.getName();

        // A source needs a consumer to be part of the job; the discarding sink chains to it.
        env.fromSource(
                        new RosServiceSource(serviceId, token, descriptor, clientOperators),
                        WatermarkStrategy.noWatermarks(),
                        name,
                        Types.VOID)
                .uid(descriptor.getUid())
                .setParallelism(descriptor.getParallelism())
                .slotSharingGroup(group)
                .sinkTo(new DiscardingSink<>())
                .uid(descriptor.getUid() + "-sink")
                .name(name + " (end)")
                .setParallelism(descriptor.getParallelism())
                .slotSharingGroup(group);

        return new RosServiceHandle(
                serviceId,
                descriptor.getName(),
                descriptor.getParallelism(),
                token,
                clientOperators);
    }
}
