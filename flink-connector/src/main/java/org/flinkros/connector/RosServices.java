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
package org.flinkros.connector;

import org.flinkros.client.ServiceTokens;
import org.flinkros.connector.internal.ConfigurationChecks;
import org.flinkros.connector.internal.FlinkInternals;
import org.flinkros.connector.internal.LocalClusterSlots;
import org.flinkros.connector.internal.discovery.DirectoryLookup;
import org.flinkros.connector.internal.discovery.DirectoryOperatorFactory;
import org.flinkros.connector.internal.service.RosServiceSource;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.operators.SlotSharingGroup;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.streaming.api.datastream.DataStreamSource;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.LocalStreamEnvironment;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Adds RpcOperator services to a job.
 *
 * <pre>{@code
 * StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
 * RosService model = RosServices.add(env,
 *         RosDescriptor.builder("sentiment", new SentimentModel())
 *                 .parallelism(2).cpuCores(2).taskHeapMemoryMb(1024).build());
 * DataStream<Score> scores = RosAsyncDataStream.builder(reviews, model,
 *                 (review, client, result) -> ...)
 *         .timeout(Duration.ofSeconds(30))
 *         .build();
 * }</pre>
 */
@PublicEvolving
public final class RosServices {
    private static final Logger LOG = LoggerFactory.getLogger(RosServices.class);
    private static final ConfigOption<String> PYTHON_EXECUTABLE =
            ConfigOptions.key(PythonService.EXECUTABLE_OPTION).stringType().noDefaultValue();

    private RosServices() {}

    /**
     * Adds a service to the job. Its instances run in their own pipelined region (they are not
     * connected to the data plane) and their own SlotSharingGroup, so they are scheduled, fail and
     * restart independently of the data plane. The service belongs to this job and ends with it; in
     * a bounded job it ends once every data-plane operator calling it has finished.
     *
     * <p>A Python service ({@link RosDescriptor#builder(String, PythonService)}) is added the same
     * way and called the same way; one that names no interpreter of its own takes the job's {@value
     * PythonService#EXECUTABLE_OPTION}, if this environment's configuration has one.
     *
     * @return the handle to call the service with, through {@link RosAsyncDataStream}
     * @throws IllegalArgumentException if the service asks for GPUs that the cluster's known
     *     configuration does not offer, naming the missing resource
     */
    public static RosService add(StreamExecutionEnvironment env, RosDescriptor descriptor) {
        // Made now and carried by the job graph to both sides: instances refuse calls without it.
        return add(env, descriptor, ServiceTokens.generate(), false);
    }

    /**
     * Adds a service whose callers hold {@code token}; a shared one (see {@link RosServe}) is
     * called by other jobs and runs until it is cancelled.
     */
    static RosService add(
            StreamExecutionEnvironment env,
            RosDescriptor descriptor,
            String token,
            boolean shared) {
        descriptor = withJobPythonExecutable(env, descriptor);
        boolean gpusChecked =
                ConfigurationChecks.checkGpus(
                        env.getConfiguration(),
                        env instanceof LocalStreamEnvironment,
                        descriptor.name(),
                        descriptor.gpus());
        if (!gpusChecked) {
            LOG.info(
                    "RpcOperator service '{}' asks for {} GPU(s) per instance; this client's"
                            + " configuration does not declare the cluster's external resources,"
                            + " so the job fails with Flink's 'Could not acquire the minimum"
                            + " required resources' if the TaskManagers have no 'gpu'.",
                    descriptor.name(),
                    descriptor.gpus());
        }
        for (String finding : ConfigurationChecks.findings(env.getConfiguration())) {
            LOG.warn("RpcOperator service '{}': {}", descriptor.name(), finding);
        }
        if (descriptor.hasResourceProfile()) {
            LOG.warn(
                    "RpcOperator service '{}' declares resources, so its slots are requested with"
                            + " a resource profile (fine-grained resource management). Declare"
                            + " resources for the data plane's slot sharing groups too: Flink may"
                            + " otherwise place a data-plane task without a profile in a slot sized"
                            + " for an instance and leave the instance waiting for a slot.",
                    descriptor.name());
        }
        if (env instanceof LocalStreamEnvironment) {
            LocalClusterSlots.reserveForService(env, descriptor.parallelism());
        }
        String serviceId = UUID.randomUUID().toString();
        AtomicInteger clientOperators = new AtomicInteger();
        SlotSharingGroup group = descriptor.slotSharingGroup();
        String name = RosServiceSource.operatorName(descriptor.name());

        // The source alone is the service's vertex ("Source: RpcOperatorService: <name>").
        DataStreamSource<Void> instances =
                env.fromSource(
                        new RosServiceSource(serviceId, token, descriptor, clientOperators, shared),
                        WatermarkStrategy.noWatermarks(),
                        name,
                        Types.VOID);
        instances
                .uid(descriptor.uid())
                .setParallelism(descriptor.parallelism())
                .slotSharingGroup(group);
        // Chained to the instances, for its coordinator: tasks of the job without a coordinator
        // of their own (SQL functions) find the service through it by name.
        SingleOutputStreamOperator<Void> directory =
                instances
                        .transform(
                                "ROS directory",
                                Types.VOID,
                                new DirectoryOperatorFactory(serviceId, descriptor.name(), token))
                        .uid(DirectoryLookup.uid(descriptor.name()))
                        .setParallelism(descriptor.parallelism())
                        .slotSharingGroup(group);
        FlinkInternals.addWithoutConsumer(env, directory);

        return new RosService(
                serviceId,
                descriptor.name(),
                descriptor.parallelism(),
                descriptor.maxMessageBytes(),
                token,
                clientOperators);
    }

    /**
     * A shared service to call from this job: one that runs as its own job in the cluster whose
     * REST API is at {@code restUrl} (started with {@link RosServe}), found by name. Call it with
     * {@link RosAsyncDataStream} as a service of this job; its instances are looked up every 2 s
     * and calls follow them when they move or restart.
     *
     * @param tokenFile the file with the service's token (the one given to {@link RosServe})
     * @throws IOException if the token file cannot be read or holds no valid token
     */
    public static RosService shared(String name, String restUrl, Path tokenFile)
            throws IOException {
        return RosService.shared(name, restUrl, RosServe.readToken(tokenFile));
    }

    /**
     * A Python service without an interpreter of its own takes the job's {@value
     * PythonService#EXECUTABLE_OPTION}, as PyFlink's Python functions do; without one either, its
     * instances look at their TaskManager's configuration.
     */
    private static RosDescriptor withJobPythonExecutable(
            StreamExecutionEnvironment env, RosDescriptor descriptor) {
        if (descriptor.python() == null) {
            return descriptor;
        }
        return env.getConfiguration()
                .getOptional(PYTHON_EXECUTABLE)
                .filter(executable -> !executable.trim().isEmpty())
                .map(descriptor::withDefaultPythonExecutable)
                .orElse(descriptor);
    }
}
