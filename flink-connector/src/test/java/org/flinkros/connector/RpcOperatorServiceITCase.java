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

import org.flinkros.client.RosClient;
import org.flinkros.connector.testing.CollectingSink;
import org.flinkros.connector.testing.SquareOperator;

import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple3;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.JobManagerOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.runtime.clusterframework.types.ResourceProfile;
import org.apache.flink.runtime.executiongraph.AccessExecutionJobVertex;
import org.apache.flink.runtime.executiongraph.AccessExecutionVertex;
import org.apache.flink.runtime.executiongraph.ArchivedExecutionGraph;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.runtime.jobgraph.JobVertex;
import org.apache.flink.runtime.jobgraph.JobVertexID;
import org.apache.flink.runtime.jobgraph.topology.DefaultLogicalPipelinedRegion;
import org.apache.flink.runtime.jobgraph.topology.DefaultLogicalTopology;
import org.apache.flink.runtime.jobmaster.JobResult;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;

import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A data plane calls an RpcOperator service on a MiniCluster of 2 TaskManagers x 2 slots; the
 * service runs in its own SlotSharingGroup and pipelined regions, and the bounded job ends.
 */
class RpcOperatorServiceITCase {
    private static final int RECORDS = 10_000;
    private static final int SERVICE_PARALLELISM = 2;
    private static final String SERVICE_NAME = "square";
    private static final TypeInformation<Tuple3<Long, Long, Integer>> OUTPUT =
            Types.TUPLE(Types.LONG, Types.LONG, Types.INT);

    @RegisterExtension
    static final MiniClusterExtension CLUSTER =
            new MiniClusterExtension(
                    new MiniClusterResourceConfiguration.Builder()
                            .setNumberTaskManagers(2)
                            .setNumberSlotsPerTaskManager(2)
                            .setConfiguration(clusterConfiguration())
                            .build());

    private static Configuration clusterConfiguration() {
        Configuration config = new Configuration();
        config.set(JobManagerOptions.EXECUTION_FAILOVER_STRATEGY, "region");
        return config;
    }

    /** How the bounded job runs, and so how its service learns to end. */
    enum Mode {
        /** Streaming without checkpoints: the service ends as soon as the data plane finished. */
        STREAMING,
        /** Streaming with checkpoints: the service ends after the next completed checkpoint. */
        STREAMING_CHECKPOINTED,
        /** Batch: the service ends as soon as the data plane finished. */
        BATCH
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Mode.class)
    void dataPlaneCallsTheServiceAndTheBoundedJobFinishes(
            Mode mode, @InjectMiniCluster MiniCluster cluster) throws Exception {
        SquareOperator.reset(SERVICE_PARALLELISM);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setRuntimeMode(
                mode == Mode.BATCH ? RuntimeExecutionMode.BATCH : RuntimeExecutionMode.STREAMING);
        env.configure(restartNever());
        if (mode == Mode.STREAMING_CHECKPOINTED) {
            env.enableCheckpointing(100);
        }

        RosService service =
                RosServices.add(
                        env,
                        RosDescriptor.builder(SERVICE_NAME, new SquareOperator())
                                .parallelism(SERVICE_PARALLELISM)
                                .cpuCores(0.5)
                                .taskHeapMemoryMb(64)
                                .build());

        DataStream<Long> numbers = env.fromSequence(0, RECORDS - 1).setParallelism(2).rebalance();
        String sinkId = UUID.randomUUID().toString();
        // BATCH exercises the ordered variant; the assertions hold for both.
        (mode == Mode.BATCH
                        ? RosAsyncDataStream.builder(numbers, service, new SquareCall())
                                .timeout(Duration.ofSeconds(60))
                                .capacity(100)
                                .ordered()
                                .outputType(OUTPUT)
                                .build()
                        : RosAsyncDataStream.builder(numbers, service, new SquareCall())
                                .timeout(Duration.ofSeconds(60))
                                .capacity(100)
                                .outputType(OUTPUT)
                                .build())
                .setParallelism(2)
                .sinkTo(new CollectingSink<>(sinkId))
                .setParallelism(2);

        JobGraph jobGraph = env.getStreamGraph().getJobGraph();
        assertServiceIsolatedInJobGraph(jobGraph);

        JobID jobId = cluster.submitJob(jobGraph).get().getJobID();
        JobResult result;
        try {
            result = cluster.requestJobResult(jobId).get(3, TimeUnit.MINUTES);
        } finally {
            // A hung job must not keep its slots from the next test.
            if (!cluster.getJobStatus(jobId).get().isGloballyTerminalState()) {
                cluster.cancelJob(jobId).get();
            }
        }
        assertThat(result.getSerializedThrowable()).isEmpty();
        assertThat(result.isSuccess()).isTrue();

        ArchivedExecutionGraph executed = cluster.getArchivedExecutionGraph(jobId).get();
        assertThat(executed.getState()).isEqualTo(JobStatus.FINISHED);
        assertServiceInstancesRanInTheirOwnSlots(executed);

        List<Tuple3<Long, Long, Integer>> outputs = CollectingSink.results(sinkId);
        assertThat(outputs).hasSize(RECORDS);
        Map<Long, Long> squares = new HashMap<>();
        Map<Integer, Integer> perInstance = new HashMap<>();
        for (Tuple3<Long, Long, Integer> out : outputs) {
            assertThat(squares.put(out.f0, out.f1)).as("duplicate output for %s", out.f0).isNull();
            assertThat(out.f1).isEqualTo(out.f0 * out.f0);
            perInstance.merge(out.f2, 1, Integer::sum);
        }
        assertThat(squares.keySet())
                .containsExactlyInAnyOrderElementsOf(
                        java.util.stream.LongStream.range(0, RECORDS)
                                .boxed()
                                .collect(Collectors.toList()));
        assertThat(perInstance.keySet()).containsExactlyInAnyOrder(0, 1);
        assertThat(perInstance.values()).allSatisfy(n -> assertThat(n).isPositive());

        // The model loaded once per instance.
        assertThat(SquareOperator.OPENS).hasSize(SERVICE_PARALLELISM);
        assertThat(SquareOperator.OPENS.values()).allSatisfy(n -> assertThat(n.get()).isOne());
    }

    /** Calls the service's "square" for each number; outputs (x, x*x, serving instance). */
    private static final class SquareCall
            implements RosAsyncFunction<Long, Tuple3<Long, Long, Integer>> {
        @Override
        public void asyncInvoke(
                Long x, RosClient client, ResultFuture<Tuple3<Long, Long, Integer>> result) {
            client.call("square", SquareOperator.request(x))
                    .whenComplete(
                            (reply, error) -> {
                                if (error != null) {
                                    result.completeExceptionally(error);
                                } else {
                                    result.complete(
                                            Collections.singleton(
                                                    Tuple3.of(
                                                            x,
                                                            SquareOperator.square(reply),
                                                            SquareOperator.instance(reply))));
                                }
                            });
        }
    }

    private static Configuration restartNever() {
        Configuration config = new Configuration();
        config.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        return config;
    }

    /** The service's vertex has its own slot sharing group and pipelined regions of its own. */
    private static void assertServiceIsolatedInJobGraph(JobGraph jobGraph) {
        JobVertex serviceVertex = null;
        for (JobVertex vertex : jobGraph.getVertices()) {
            if (vertex.getName().contains("RpcOperatorService: " + SERVICE_NAME)) {
                serviceVertex = vertex;
            }
        }
        assertThat(serviceVertex).as("service vertex").isNotNull();
        assertThat(serviceVertex.getParallelism()).isEqualTo(SERVICE_PARALLELISM);
        assertThat(serviceVertex.getInputs()).isEmpty();
        assertThat(serviceVertex.getProducedDataSets()).isEmpty();
        assertThat(serviceVertex.getSlotSharingGroup().getResourceProfile())
                .isEqualTo(
                        ResourceProfile.newBuilder()
                                .setCpuCores(0.5)
                                .setTaskHeapMemoryMB(64)
                                .build());
        for (JobVertex vertex : jobGraph.getVertices()) {
            if (vertex != serviceVertex) {
                assertThat(vertex.getSlotSharingGroup())
                        .as("slot sharing group of %s", vertex.getName())
                        .isNotEqualTo(serviceVertex.getSlotSharingGroup());
            }
        }

        JobVertexID serviceId = serviceVertex.getID();
        int regionsWithService = 0;
        for (DefaultLogicalPipelinedRegion region :
                DefaultLogicalTopology.fromJobGraph(jobGraph).getAllPipelinedRegions()) {
            Set<JobVertexID> members =
                    StreamSupport.stream(region.getVertices().spliterator(), false)
                            .map(vertex -> vertex.getId())
                            .collect(Collectors.toCollection(HashSet::new));
            if (members.contains(serviceId)) {
                regionsWithService++;
                assertThat(members)
                        .as("the service's region holds only the service")
                        .containsOnly(serviceId);
            }
        }
        assertThat(regionsWithService).isOne();
    }

    /** Both instances ran, each in a slot of its own group, and finished with the job. */
    private static void assertServiceInstancesRanInTheirOwnSlots(ArchivedExecutionGraph graph) {
        AccessExecutionJobVertex service = null;
        for (AccessExecutionJobVertex vertex : graph.getVerticesTopologically()) {
            if (vertex.getName().contains("RpcOperatorService: " + SERVICE_NAME)) {
                service = vertex;
            }
        }
        assertThat(service).isNotNull();
        for (AccessExecutionVertex instance : service.getTaskVertices()) {
            assertThat(instance.getExecutionState().isTerminal()).isTrue();
            assertThat(instance.getCurrentAssignedResourceLocation()).isNotNull();
            assertThat(instance.getCurrentExecutionAttempt().getAttemptNumber()).isZero();
        }
    }
}
