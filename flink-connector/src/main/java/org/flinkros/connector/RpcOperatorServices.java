package org.flinkros.connector;

import org.flinkros.client.ServiceTokens;
import org.flinkros.connector.internal.ConfigurationChecks;
import org.flinkros.connector.internal.FlinkInternals;
import org.flinkros.connector.internal.LocalClusterSlots;
import org.flinkros.connector.internal.service.RosServiceSource;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.operators.SlotSharingGroup;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.datastream.DataStreamSource;
import org.apache.flink.streaming.api.environment.LocalStreamEnvironment;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

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
        if (descriptor.hasResourceProfile()) {
            LOG.warn(
                    "RpcOperator service '{}' declares resources, so its slots are requested with"
                            + " a resource profile (fine-grained resource management). Declare"
                            + " resources for the data plane's slot sharing groups too: Flink may"
                            + " otherwise place a data-plane task without a profile in a slot sized"
                            + " for an instance and leave the instance waiting for a slot.",
                    descriptor.getName());
        }
        if (env instanceof LocalStreamEnvironment) {
            LocalClusterSlots.reserveForService(env, descriptor.getParallelism());
        }
        String serviceId = UUID.randomUUID().toString();
        // Made now and carried by the job graph to both sides: instances refuse calls without it.
        String token = ServiceTokens.generate();
        AtomicInteger clientOperators = new AtomicInteger();
        SlotSharingGroup group = descriptor.getSlotSharingGroup();
        String name = "RpcOperatorService: " + descriptor.getName();

        // The source alone is the service's vertex ("Source: RpcOperatorService: <name>").
        DataStreamSource<Void> instances =
                env.fromSource(
                        new RosServiceSource(serviceId, token, descriptor, clientOperators),
                        WatermarkStrategy.noWatermarks(),
                        name,
                        Types.VOID);
        instances
                .uid(descriptor.getUid())
                .setParallelism(descriptor.getParallelism())
                .slotSharingGroup(group);
        FlinkInternals.addWithoutConsumer(env, instances);

        return new RosServiceHandle(
                serviceId,
                descriptor.getName(),
                descriptor.getParallelism(),
                descriptor.getMaxMessageBytes(),
                token,
                clientOperators);
    }
}
