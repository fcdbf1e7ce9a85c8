package org.flinkros.tests.job;

import org.flinkros.connector.RosAsyncDataStream;
import org.flinkros.connector.RosDescriptor;
import org.flinkros.connector.RosServiceHandle;
import org.flinkros.connector.RpcOperatorServices;

import org.apache.flink.api.common.RuntimeExecutionMode;
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
        Configuration config = new Configuration();
        config.set(PipelineOptions.NAME, "flink-ros square on a process cluster");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(config);
        env.setRuntimeMode(RuntimeExecutionMode.STREAMING);
        env.enableCheckpointing(500); // exactly-once is the default mode
        env.setParallelism(1);

        RosServiceHandle square =
                RpcOperatorServices.addRpcOperatorService(
                        env,
                        RosDescriptor.builder(SERVICE, new SquareOperator(MODEL_COST))
                                .parallelism(2)
                                .cpuCores(0.5)
                                .taskHeapMemoryMb(64)
                                .bindHost("127.0.0.1")
                                .build());

        DataStream<Long> numbers = env.fromSequence(0, records - 1).name("numbers");
        RosAsyncDataStream.unorderedWait(
                        numbers,
                        square,
                        new SquareCall(),
                        Duration.ofSeconds(60),
                        ASYNC_CAPACITY,
                        Types.STRING)
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
