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
package org.flinkros.tests.job;

import org.flinkros.connector.PythonService;
import org.flinkros.connector.RosAsyncDataStream;
import org.flinkros.connector.RosDescriptor;
import org.flinkros.connector.RosService;
import org.flinkros.connector.RosServices;

import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.api.common.operators.SlotSharingGroup;
import org.apache.flink.api.common.serialization.SimpleStringEncoder;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.connector.file.sink.FileSink;
import org.apache.flink.core.fs.Path;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.filesystem.bucketassigners.BasePathBucketAssigner;
import org.apache.flink.streaming.api.functions.sink.filesystem.rollingpolicies.OnCheckpointRollingPolicy;
import org.apache.flink.streaming.api.graph.StreamGraphGenerator;

import javax.annotation.Nullable;

import java.time.Duration;

/**
 * The job the cluster test submits: a slow bounded sequence of numbers, squared by the "square"
 * service (2 instances), written exactly once to files by a {@link FileSink}.
 *
 * <p>The data plane has parallelism 1, so that with slots spread evenly each service instance runs
 * on a TaskManager of its own and losing one does not touch the data plane.
 */
public final class SquareJob {
    /** The service's name; its vertex is named {@code RpcOperatorService: square}. */
    public static final String SERVICE = "square";

    /** How long the model takes per request: 2 instances serve about 1,000 records/s. */
    public static final Duration MODEL_COST = Duration.ofMillis(2);

    /** The checkpoint interval of the tests that do not choose one. */
    public static final Duration CHECKPOINTS = Duration.ofMillis(500);

    /** Records in flight per data-plane subtask. */
    public static final int ASYNC_CAPACITY = 100;

    private SquareJob() {}

    /**
     * The job graph.
     *
     * @param records how many numbers: 0 to {@code records - 1}
     * @param output the directory the output files go to
     */
    public static JobGraph build(long records, java.nio.file.Path output) {
        return build(records, output, 1, new SquareOperator(MODEL_COST), null, false, CHECKPOINTS);
    }

    /**
     * The job graph, shaped by the test.
     *
     * @param records how many numbers: 0 to {@code records - 1}
     * @param output the directory the output files go to
     * @param dataParallelism subtasks of the data plane (source, calls and sink, chained)
     * @param model the service's operator
     * @param throttle paces the numbers, if given
     * @param placeByResources whether every slot sharing group declares resources (Flink's
     *     fine-grained resource management, as docs/semantics.md asks of jobs whose services
     *     declare resources), sized so that a TaskManager of the test cluster holds at most one
     *     instance and, beside it, one data-plane task
     * @param checkpointInterval how often the job checkpoints
     */
    public static JobGraph build(
            long records,
            java.nio.file.Path output,
            int dataParallelism,
            SquareOperator model,
            @Nullable ThrottleUntilReleased throttle,
            boolean placeByResources,
            Duration checkpointInterval) {
        return build(
                records,
                output,
                dataParallelism,
                RosDescriptor.builder(SERVICE, model),
                throttle,
                placeByResources,
                checkpointInterval);
    }

    /**
     * The job graph with the square model hosted by Python processes ({@code
     * square_host_model:SquareHostModel}, which answers as {@link SquareOperator} does).
     *
     * @param records how many numbers: 0 to {@code records - 1}
     * @param output the directory the output files go to
     * @param python the Python service
     */
    public static JobGraph buildPython(
            long records, java.nio.file.Path output, PythonService python) {
        return build(
                records,
                output,
                1,
                RosDescriptor.builder(SERVICE, python),
                null,
                false,
                CHECKPOINTS);
    }

    private static JobGraph build(
            long records,
            java.nio.file.Path output,
            int dataParallelism,
            RosDescriptor.Builder service,
            @Nullable ThrottleUntilReleased throttle,
            boolean placeByResources,
            Duration checkpointInterval) {
        Configuration config = new Configuration();
        config.set(PipelineOptions.NAME, "flink-ros square on a process cluster");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(config);
        env.setRuntimeMode(RuntimeExecutionMode.STREAMING);
        env.enableCheckpointing(checkpointInterval.toMillis()); // exactly-once is the default
        env.setParallelism(dataParallelism);
        service.parallelism(2);
        if (placeByResources) {
            // A TaskManager has 64 MiB managed memory: one instance (40) and one data-plane task
            // (16) fit, two instances do not.
            service.cpuCores(0.5).taskHeapMemoryMb(32).managedMemoryMb(40);
            env.registerSlotSharingGroup(
                    SlotSharingGroup.newBuilder(StreamGraphGenerator.DEFAULT_SLOT_SHARING_GROUP)
                            .setCpuCores(0.5)
                            .setTaskHeapMemoryMB(32)
                            .setManagedMemoryMB(16)
                            .build());
        }

        RosService square = RosServices.add(env, service.build());

        DataStream<Long> numbers = env.fromSequence(0, records - 1).name("numbers");
        if (throttle != null) {
            numbers = numbers.map(throttle).name("pace");
        }
        RosAsyncDataStream.builder(numbers, square, new SquareCall())
                .timeout(Duration.ofSeconds(60))
                .capacity(ASYNC_CAPACITY)
                .outputType(Types.STRING)
                .build()
                .sinkTo(
                        FileSink.forRowFormat(
                                        new Path(output.toUri()), new SimpleStringEncoder<String>())
                                .withBucketAssigner(new BasePathBucketAssigner<>())
                                .withRollingPolicy(OnCheckpointRollingPolicy.build())
                                .build())
                .name("files");
        return env.getStreamGraph().getJobGraph();
    }
}
