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

import org.flinkros.connector.testing.Clusters;
import org.flinkros.connector.testing.ExactlyOnceSink;
import org.flinkros.connector.testing.TestModel;

import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.resources.ExternalResource;
import org.apache.flink.api.java.tuple.Tuple4;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalResourceOptions;
import org.apache.flink.configuration.JobManagerOptions;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.runtime.jobgraph.JobVertex;
import org.apache.flink.runtime.jobmaster.JobResult;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.Collections;
import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** GPUs as a first-class resource of a service: requested per slot, handed out per instance. */
class GpuResourceITCase {

    @RegisterExtension
    static final MiniClusterExtension CLUSTER_WITH_GPUS =
            new MiniClusterExtension(
                    new MiniClusterResourceConfiguration.Builder()
                            .setNumberTaskManagers(2)
                            .setNumberSlotsPerTaskManager(2)
                            .setConfiguration(withGpus(new Configuration(), 2))
                            .build());

    private static Configuration withGpus(Configuration config, int perTaskManager) {
        config.set(JobManagerOptions.EXECUTION_FAILOVER_STRATEGY, "region");
        config.set(
                ExternalResourceOptions.EXTERNAL_RESOURCE_LIST,
                Collections.singletonList(RosDescriptor.GPU_RESOURCE));
        config.setString("external-resource.gpu.amount", String.valueOf(perTaskManager));
        return config;
    }

    private static JobGraph gpuJob(String key, long records) {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        RosService service =
                RosServices.add(
                        env,
                        RosDescriptor.builder("on-gpu", TestModel.fast(key))
                                .parallelism(2)
                                .cpuCores(0.5)
                                .taskHeapMemoryMb(64)
                                .gpus(1)
                                .build());
        DataStream<Long> numbers = env.fromSequence(0, records - 1);
        RosAsyncDataStream.builder(
                        numbers,
                        service,
                        RosMethodCall.of(
                                TestModel.SQUARE,
                                (Long x) -> x,
                                (Long x, Tuple4<Long, Long, Integer, Integer> r) -> r))
                .timeout(Duration.ofSeconds(30))
                .capacity(20)
                .outputType(TestModel.SQUARE.resultType())
                .build()
                .sinkTo(new ExactlyOnceSink<>(UUID.randomUUID().toString()));
        return env.getStreamGraph().getJobGraph();
    }

    @Test
    void instancesGetTheirOwnGpuAndTheSlotAsksForIt(@InjectMiniCluster MiniCluster cluster)
            throws Exception {
        String key = UUID.randomUUID().toString();
        JobGraph job = gpuJob(key, 200);
        JobVertex service = null;
        for (JobVertex vertex : job.getVertices()) {
            if (vertex.getName().contains(Clusters.SERVICE_VERTEX)) {
                service = vertex;
            }
        }
        assertThat(service).isNotNull();
        assertThat(service.getSlotSharingGroup().getResourceProfile().getExtendedResources())
                .containsEntry(
                        RosDescriptor.GPU_RESOURCE,
                        new ExternalResource(RosDescriptor.GPU_RESOURCE, 1));

        JobID id = cluster.submitJob(job).get().getJobID();
        JobResult result = cluster.requestJobResult(id).get(2, TimeUnit.MINUTES);
        assertThat(result.getSerializedThrowable()).isEmpty();

        TestModel.Probe probe = TestModel.probe(key);
        Set<Integer> indices = new HashSet<>();
        for (int[] gpus : probe.gpus.values()) {
            assertThat(gpus).hasSize(1);
            indices.add(gpus[0]);
        }
        assertThat(indices).as("two instances, two different devices").hasSize(2);
        assertThat(indices).allSatisfy(index -> assertThat(index).isBetween(0, 1));
    }
}
