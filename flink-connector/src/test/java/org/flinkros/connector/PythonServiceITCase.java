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
import org.flinkros.connector.testing.FailOnce;
import org.flinkros.connector.testing.Python;
import org.flinkros.connector.testing.ReportedMetrics;
import org.flinkros.connector.testing.Throttle;

import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.JobManagerOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.runtime.executiongraph.AccessExecutionGraph;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.runtime.jobmaster.JobResult;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.ExceptionUtils;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A NumPy model served by Python processes ({@code python -m flinkros.host} of the real {@code
 * flinkros} package) and called from Java exactly as a Java service: every record exactly once with
 * its result; a killed Python process restarts only its instance; a data-plane failure leaves the
 * processes alone; an {@code open()} that keeps failing fails the job, naming the cause.
 *
 * <p>Needs the interpreter named by the system property {@value Python#FLINKROS_PYTHON} (the build
 * points it at {@code python/target/venv/bin/python}); skipped without it.
 */
class PythonServiceITCase {
    private static final InMemoryReporter METRICS = InMemoryReporter.createWithRetainedMetrics();
    private static final ReportedMetrics REPORTED = new ReportedMetrics(METRICS);
    private static final Duration WAIT = Duration.ofSeconds(60);

    /** The model's method, called with Flink's own {@code float[]} serialization. */
    static final RosMethod<float[], float[]> SQUARE =
            RosMethod.of(
                    "square",
                    PrimitiveArrayTypeInfo.FLOAT_PRIMITIVE_ARRAY_TYPE_INFO,
                    PrimitiveArrayTypeInfo.FLOAT_PRIMITIVE_ARRAY_TYPE_INFO);

    private static final TypeInformation<Tuple2<Long, float[]>> SQUARED =
            Types.TUPLE(Types.LONG, PrimitiveArrayTypeInfo.FLOAT_PRIMITIVE_ARRAY_TYPE_INFO);

    @RegisterExtension
    static final MiniClusterExtension CLUSTER =
            new MiniClusterExtension(
                    new MiniClusterResourceConfiguration.Builder()
                            .setNumberTaskManagers(2)
                            .setNumberSlotsPerTaskManager(3)
                            .setConfiguration(METRICS.addToConfiguration(clusterConfiguration()))
                            .build());

    @TempDir static Path directory;

    private static String python;
    private static Path models;

    /** Results the data plane received, per test. */
    private static final Map<String, AtomicLong> RESULTS = new ConcurrentHashMap<>();

    /** Gates that hold the data plane until the test opens them, per test. */
    private static final Map<String, CountDownLatch> GATES = new ConcurrentHashMap<>();

    private static Configuration clusterConfiguration() {
        Configuration config = new Configuration();
        config.set(JobManagerOptions.EXECUTION_FAILOVER_STRATEGY, "region");
        return config;
    }

    @BeforeAll
    static void copyTheModel() throws Exception {
        models = directory.resolve("models");
        Files.createDirectories(models);
        try (InputStream in =
                PythonServiceITCase.class.getResourceAsStream("/python/models/square_model.py")) {
            Files.copy(in, models.resolve("square_model.py"));
        }
    }

    /** Each case is skipped, saying why, where the interpreter is missing. */
    @BeforeEach
    void findThePython() {
        python = Python.withFlinkros();
    }

    /** A job environment: region failover, a few quick restarts, checkpoints every 100 ms. */
    private static StreamExecutionEnvironment environment() {
        Configuration config = new Configuration();
        config.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        config.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 5);
        config.set(
                RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(100));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.configure(config);
        env.setParallelism(2);
        env.enableCheckpointing(100);
        return env;
    }

    /** The model, served by {@code parallelism} Python processes. */
    private static PythonService.Builder model(Path opens) {
        return PythonService.builder("square_model:SquareModel")
                .executable(python)
                .pythonPath(models.toString())
                .environment("SQUARE_OPENS", opens.toString());
    }

    /** x → (x, [x², (x + 0.5)²]) through the service; any failed call fails the job. */
    private static DataStream<Tuple2<Long, float[]>> square(
            DataStream<Long> numbers, RosService service, String test) {
        AtomicLong results = RESULTS.computeIfAbsent(test, t -> new AtomicLong());
        return RosAsyncDataStream.builder(
                        numbers,
                        service,
                        RosMethodCall.of(
                                SQUARE,
                                (Long x) -> new float[] {x, x + 0.5f},
                                (Long x, float[] squared) -> {
                                    RESULTS.get(test).incrementAndGet();
                                    return Tuple2.of(x, squared);
                                }))
                .timeout(WAIT)
                .capacity(50)
                .outputType(SQUARED)
                .build()
                .setParallelism(2);
    }

    /** Every x in [0, n) exactly once, with the squares float32 arithmetic gives. */
    private static void assertCompleteAndCorrect(List<Tuple2<Long, float[]>> outputs, long n) {
        Set<Long> seen = new HashSet<>();
        for (Tuple2<Long, float[]> out : outputs) {
            assertThat(seen.add(out.f0)).as("duplicate output for %s", out.f0).isTrue();
            float x = out.f0;
            float half = out.f0 + 0.5f;
            assertThat(out.f1).as("squares of %s", out.f0).containsExactly(x * x, half * half);
        }
        assertThat(seen).hasSize((int) n);
        assertThat(seen).allSatisfy(x -> assertThat(x).isBetween(0L, n - 1));
    }

    /** Each instance's open() calls, by instance index: the pids of the processes that ran it. */
    private static Map<Integer, List<Long>> opens(Path file) throws Exception {
        Map<Integer, List<Long>> opens = new HashMap<>();
        if (!Files.exists(file)) {
            return opens;
        }
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            String[] fields = line.trim().split(" ");
            opens.computeIfAbsent(Integer.parseInt(fields[0]), i -> new ArrayList<>())
                    .add(Long.parseLong(fields[1]));
        }
        return opens;
    }

    /**
     * The Python processes of instance {@code index} of service {@code service}, among this JVM's
     * descendants: their command line runs {@code flinkros.host} and names the instance's files.
     */
    private static List<ProcessHandle> hosts(String service, int index) {
        String files = "flinkros-" + service + "-" + index + "-";
        return ProcessHandle.current()
                .descendants()
                .filter(ProcessHandle::isAlive)
                .filter(
                        process -> {
                            String command = process.info().commandLine().orElse("");
                            return command.contains("-m flinkros.host")
                                    && command.contains("--service square_model:SquareModel")
                                    && command.contains(files);
                        })
                .collect(Collectors.toList());
    }

    private static void assertFinished(JobResult result) {
        if (result.getSerializedThrowable().isPresent()) {
            throw new AssertionError("the job failed", result.getSerializedThrowable().get());
        }
        assertThat(result.isSuccess()).as("the job finished").isTrue();
    }

    /** Holds each subtask at its {@code at}-th record (of the given attempt) until opened. */
    private static final class Gate extends RichMapFunction<Long, Long> {
        private final String gate;
        private final long at;
        private final int attempt;
        private transient long seen;

        Gate(String gate, long at, int attempt) {
            this.gate = gate;
            this.at = at;
            this.attempt = attempt;
        }

        @Override
        public Long map(Long x) throws Exception {
            if (getRuntimeContext().getTaskInfo().getAttemptNumber() == attempt && ++seen == at) {
                if (!GATES.get(gate).await(2, TimeUnit.MINUTES)) {
                    throw new IllegalStateException("the test never opened gate " + gate);
                }
            }
            return x;
        }
    }

    /**
     * Submits the numbers 0..records-1, shaped by {@code dataPlane}, squared by 2 Python instances
     * of the test model into an exactly-once sink; the test's gate starts closed.
     */
    private static JobID submitSquares(
            MiniCluster cluster,
            String test,
            long records,
            Path opens,
            String sink,
            java.util.function.Function<DataStream<Long>, DataStream<Long>> dataPlane)
            throws Exception {
        GATES.put(test, new CountDownLatch(1));
        StreamExecutionEnvironment env = environment();
        RosService service =
                RosServices.add(
                        env,
                        RosDescriptor.builder(test, model(opens).build()).parallelism(2).build());
        DataStream<Long> numbers = dataPlane.apply(env.fromSequence(0, records - 1));
        square(numbers, service, test).sinkTo(new ExactlyOnceSink<>(sink));
        JobGraph job = env.getStreamGraph().getJobGraph();
        return cluster.submitJob(job).get().getJobID();
    }

    @Test
    void aKilledPythonProcessRestartsOnlyItsInstanceAndNoRecordFails(
            @InjectMiniCluster MiniCluster cluster) throws Exception {
        String test = "py-killed-" + UUID.randomUUID().toString().substring(0, 8);
        long records = 10_000;
        Path opens = directory.resolve(test + ".opens");
        String sink = UUID.randomUUID().toString();
        JobID id =
                submitSquares(
                        cluster,
                        test,
                        records,
                        opens,
                        sink,
                        numbers ->
                                numbers.map(new Throttle<Long>(2000))
                                        // Holds the data plane until the killed instance is back,
                                        // so that the job cannot end before it restarts.
                                        .map(new Gate(test, 4000, 0)));

        // Instance 1 may still be starting its process after instance 0 answered many calls.
        Clusters.eventually(
                WAIT,
                "calls answered and both instances open",
                () -> RESULTS.get(test).get() > 1000 && opens(opens).size() == 2);
        Map<Integer, List<Long>> before = opens(opens);
        assertThat(before).containsOnlyKeys(0, 1);
        long victim = before.get(1).get(0);
        List<ProcessHandle> found = hosts(test, 1);
        assertThat(found)
                .as("instance 1's Python process among this JVM's descendants")
                .extracting(ProcessHandle::pid)
                .containsExactly(victim);
        long survivor = before.get(0).get(0);
        found.get(0).destroyForcibly();

        Clusters.eventually(WAIT, "instance 1 opened again", () -> opens(opens).get(1).size() == 2);
        Clusters.eventually(
                WAIT,
                "the server metrics of the instances, from their stats files",
                () ->
                        !REPORTED.find(id, Clusters.SERVICE_VERTEX, "ros.batchSize").isEmpty()
                                && REPORTED.sumGauges(id, Clusters.SERVICE_VERTEX, "ros.completed")
                                        > 0
                                && REPORTED.histogramCounts(
                                                id, Clusters.SERVICE_VERTEX, "ros.batchSize")
                                        > 0);
        GATES.get(test).countDown();

        JobResult result = cluster.requestJobResult(id).get(3, TimeUnit.MINUTES);
        // Finishing proves that no call failed: a failed call fails the job.
        assertFinished(result);
        AccessExecutionGraph graph = Clusters.graph(cluster, id);
        assertThat(Clusters.serviceAttempts(graph))
                .as("only the killed instance restarted")
                .containsExactly(0, 1);
        assertThat(Clusters.dataPlaneAttempts(graph))
                .as("the data plane never restarted")
                .containsOnly(0);
        Map<Integer, List<Long>> after = opens(opens);
        assertThat(after.get(0)).as("instance 0 loaded once").containsExactly(survivor);
        assertThat(after.get(1)).as("instance 1 loaded twice").hasSize(2).startsWith(victim);
        assertCompleteAndCorrect(ExactlyOnceSink.committed(sink), records);
        Clusters.eventually(
                WAIT,
                "no Python process left once the job ended",
                () -> hosts(test, 0).isEmpty() && hosts(test, 1).isEmpty());
    }

    @Test
    void aDataPlaneFailureLeavesThePythonProcessesRunning(@InjectMiniCluster MiniCluster cluster)
            throws Exception {
        String test = "py-dataplane-" + UUID.randomUUID().toString().substring(0, 8);
        long records = 10_000;
        Path opens = directory.resolve(test + ".opens");
        String sink = UUID.randomUUID().toString();
        JobID id =
                submitSquares(
                        cluster,
                        test,
                        records,
                        opens,
                        sink,
                        numbers ->
                                numbers.map(new Throttle<Long>(4000))
                                        .map(new FailOnce<Long>(1500))
                                        // The restarted attempt waits until the test has looked
                                        // at the processes.
                                        .map(new Gate(test, 500, 1)));

        Clusters.eventually(
                WAIT,
                "the data plane restarted",
                () ->
                        Clusters.dataPlaneAttempts(Clusters.graph(cluster, id)).stream()
                                .anyMatch(attempt -> attempt > 0));
        Clusters.eventually(WAIT, "both instances open", () -> opens(opens).size() == 2);
        Map<Integer, List<Long>> serving = opens(opens);
        assertThat(serving).containsOnlyKeys(0, 1);
        for (int index = 0; index < 2; index++) {
            assertThat(hosts(test, index))
                    .as("instance %d's process still runs", index)
                    .extracting(ProcessHandle::pid)
                    .containsExactlyElementsOf(serving.get(index));
        }
        GATES.get(test).countDown();

        assertFinished(cluster.requestJobResult(id).get(3, TimeUnit.MINUTES));
        AccessExecutionGraph graph = Clusters.graph(cluster, id);
        assertThat(Clusters.serviceAttempts(graph))
                .as("the instances were never restarted")
                .containsOnly(0);
        assertThat(opens(opens))
                .as("each instance loaded once, in the same process throughout")
                .isEqualTo(serving)
                .allSatisfy((index, pids) -> assertThat(pids).hasSize(1));
        assertCompleteAndCorrect(ExactlyOnceSink.committed(sink), records);
    }

    @Test
    void anOpenThatKeepsFailingFailsTheJobNamingThePythonCause(
            @InjectMiniCluster MiniCluster cluster) throws Exception {
        String test = "py-open-fails-" + UUID.randomUUID().toString().substring(0, 8);
        Path opens = directory.resolve(test + ".opens");
        StreamExecutionEnvironment env = environment();
        RosService service =
                RosServices.add(
                        env,
                        RosDescriptor.builder(
                                        test,
                                        model(opens).environment("SQUARE_FAIL_OPEN", "1").build())
                                .maxOpenAttempts(2)
                                .build());
        String sink = UUID.randomUUID().toString();
        square(env.fromSequence(0, 9), service, test).sinkTo(new ExactlyOnceSink<>(sink));
        JobID id = cluster.submitJob(env.getStreamGraph().getJobGraph()).get().getJobID();

        JobResult result = cluster.requestJobResult(id).get(3, TimeUnit.MINUTES);
        assertThat(result.isSuccess()).isFalse();
        Throwable failure =
                result.getSerializedThrowable()
                        .get()
                        .deserializeError(PythonServiceITCase.class.getClassLoader());
        String trace = ExceptionUtils.stringifyException(failure);
        assertThat(trace)
                .contains("RpcOperator service '" + test + "' instance 0 failed to start 2 times")
                .contains("exited with code")
                .contains("RuntimeError: no weights for the square model (simulated)");
        assertThat(opens).doesNotExist();
        Clusters.eventually(WAIT, "no Python process left", () -> hosts(test, 0).isEmpty());
    }
}
