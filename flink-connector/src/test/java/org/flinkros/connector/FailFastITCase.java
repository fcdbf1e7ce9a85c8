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
import org.flinkros.client.RosException;
import org.flinkros.client.RosServerOptions;
import org.flinkros.client.StatusCode;
import org.flinkros.connector.internal.StallWarnings;
import org.flinkros.connector.internal.client.RosClientCoordinator;
import org.flinkros.connector.testing.Clusters;
import org.flinkros.connector.testing.CollectingSink;
import org.flinkros.connector.testing.TestModel;

import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple4;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.JobManagerOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.runtime.checkpoint.AbstractCheckpointStats;
import org.apache.flink.runtime.checkpoint.CheckpointStatsStatus;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.runtime.jobgraph.JobVertex;
import org.apache.flink.runtime.jobmaster.JobResult;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.testutils.logging.LoggerAuditingExtension;
import org.apache.flink.util.ExceptionUtils;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.event.Level;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What a user gets when something is wrong: a clear failure or warning that names the cause and the
 * fix, and never a silent hang or a restart loop. Also: a model load does not hold up the job's
 * checkpoints.
 */
class FailFastITCase {
    private static final String SERVICE_VERTEX = "Source: RpcOperatorService: ";

    @RegisterExtension
    static final MiniClusterExtension CLUSTER =
            new MiniClusterExtension(
                    new MiniClusterResourceConfiguration.Builder()
                            .setNumberTaskManagers(2)
                            .setNumberSlotsPerTaskManager(2)
                            .setConfiguration(regionFailover())
                            .build());

    @RegisterExtension
    final LoggerAuditingExtension enumeratorLog =
            new LoggerAuditingExtension(
                    "org.flinkros.connector.internal.service.RosServiceEnumerator", Level.WARN);

    @RegisterExtension
    final LoggerAuditingExtension coordinatorLog =
            new LoggerAuditingExtension(RosClientCoordinator.class, Level.WARN);

    private static Configuration regionFailover() {
        Configuration config = new Configuration();
        config.set(JobManagerOptions.EXECUTION_FAILOVER_STRATEGY, "region");
        return config;
    }

    /** Many quick restarts: a test whose job fails must fail for its own reason, not the limit. */
    private static StreamExecutionEnvironment environment() {
        Configuration config = new Configuration();
        config.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        config.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 1000);
        config.set(
                RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(50));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.configure(config);
        env.setParallelism(1);
        return env;
    }

    @AfterEach
    void resetWarnings() {
        StallWarnings.setIntervalForTests(null);
    }

    private static JobResult runToEnd(MiniCluster cluster, JobGraph job) throws Exception {
        JobID id = cluster.submitJob(job).get().getJobID();
        try {
            return cluster.requestJobResult(id).get(2, TimeUnit.MINUTES);
        } finally {
            if (!cluster.getJobStatus(id).get().isGloballyTerminalState()) {
                cluster.cancelJob(id).get();
            }
        }
    }

    private static Throwable failure(JobResult result) {
        assertThat(result.isSuccess()).as("the job failed").isFalse();
        return result.getSerializedThrowable()
                .get()
                .deserializeError(FailFastITCase.class.getClassLoader());
    }

    /** Outputs each record without calling the service. */
    static final class PassThrough implements RosAsyncFunction<Long, Long> {
        private static final long serialVersionUID = 1L;

        @Override
        public void asyncInvoke(Long x, RosClient client, ResultFuture<Long> result) {
            result.complete(List.of(x));
        }
    }

    /** Calls the service's "echo" for each record and outputs the record. */
    static final class EchoCall implements RosAsyncFunction<Long, Long> {
        private static final long serialVersionUID = 1L;

        @Override
        public void asyncInvoke(Long x, RosClient client, ResultFuture<Long> result) {
            client.call("echo", new byte[8])
                    .whenComplete(
                            (reply, error) -> {
                                if (error != null) {
                                    result.completeExceptionally(error);
                                } else {
                                    result.complete(List.of(x));
                                }
                            });
        }
    }

    /** Calls {@code service} for each record with a 30 s timeout and collects the outputs. */
    private static <IN, OUT> void callAndCollect(
            DataStream<IN> input,
            RosService service,
            RosAsyncFunction<IN, OUT> function,
            TypeInformation<OUT> outputType) {
        RosAsyncDataStream.builder(input, service, function)
                .timeout(Duration.ofSeconds(30))
                .capacity(10)
                .outputType(outputType)
                .build()
                .sinkTo(new CollectingSink<>(UUID.randomUUID().toString()));
    }

    // ---- open() that keeps failing -------------------------------------------------------------

    /** A model whose load always fails; counts the attempts. */
    static final class BrokenModel implements RpcOperator {
        private static final long serialVersionUID = 1L;
        static final Map<String, AtomicInteger> OPENS = new ConcurrentHashMap<>();
        private final String key;

        BrokenModel(String key) {
            this.key = key;
        }

        @Override
        public void open(RpcOperatorContext context) {
            OPENS.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
            throw new IllegalStateException("model file /models/missing.onnx not found");
        }

        @Override
        public byte[] invoke(String method, byte[] payload) {
            return payload;
        }
    }

    @Test
    void anOpenThatKeepsFailingFailsTheJobNamingTheServiceAndTheCause(
            @InjectMiniCluster MiniCluster cluster) throws Exception {
        String key = UUID.randomUUID().toString();
        StreamExecutionEnvironment env = environment();
        RosService service =
                RosServices.add(
                        env,
                        RosDescriptor.builder("broken", new BrokenModel(key))
                                .maxOpenAttempts(3)
                                .build());
        callAndCollect(env.fromSequence(0, 9), service, new PassThrough(), Types.LONG);

        Throwable error = failure(runToEnd(cluster, env.getStreamGraph().getJobGraph()));

        assertThat(ExceptionUtils.findThrowable(error, SuppressRestartsException.class))
                .as("the job fails without restarting")
                .isPresent();
        assertThat(ExceptionUtils.stringifyException(error))
                .contains(
                        "RpcOperator service 'broken' instance 0 failed to start 3 times in a row")
                .contains("maxOpenAttempts")
                .contains("model file /models/missing.onnx not found");
        assertThat(BrokenModel.OPENS.get(key).get()).as("model loads").isEqualTo(3);
    }

    // ---- permanent and transient call errors ---------------------------------------------------

    private static final RosMethod<Long, Long> UNDECLARED =
            RosMethod.of("no-such-method", Types.LONG, Types.LONG);

    @Test
    void aPermanentCallErrorFailsTheJobWithoutRestartingIt(@InjectMiniCluster MiniCluster cluster)
            throws Exception {
        StreamExecutionEnvironment env = environment();
        RosService service =
                RosServices.add(
                        env,
                        RosDescriptor.builder(
                                        "squares",
                                        new org.flinkros.connector.testing.SquareOperator())
                                .build());
        callAndCollect(
                env.fromSequence(0, 99),
                service,
                RosMethodCall.of(UNDECLARED, (Long x) -> x, (Long x, Long r) -> r),
                Types.LONG);
        JobGraph job = env.getStreamGraph().getJobGraph();

        Throwable error = failure(runToEnd(cluster, job));

        assertThat(ExceptionUtils.findThrowable(error, SuppressRestartsException.class))
                .isPresent();
        assertThat(ExceptionUtils.findThrowable(error, RosException.class))
                .hasValueSatisfying(e -> assertThat(e.code()).isEqualTo(StatusCode.NOT_FOUND));
        assertThat(ExceptionUtils.stringifyException(error))
                .contains("RpcOperator service 'squares' failed with NOT_FOUND")
                .contains("OnError.skip()");
        assertThat(
                        org.flinkros.connector.testing.Clusters.dataPlaneAttempts(
                                cluster.getArchivedExecutionGraph(job.getJobID()).get()))
                .as("the data plane never restarted")
                .containsOnly(0);
    }

    // ---- records that time out ----------------------------------------------------------------

    private static final RosMethod<Long, Long> SLOW = RosMethod.of("slow", Types.LONG, Types.LONG);

    /** Takes a second per call: longer than the callers' timeout. */
    static final class SleepyModel extends TypedRpcOperator {
        private static final long serialVersionUID = 1L;

        @Override
        protected void defineMethods(Methods methods) {
            methods.add(
                    SLOW,
                    x -> {
                        // Simulated slow inference, not synchronisation.
                        Thread.sleep(1_000);
                        return x;
                    });
        }
    }

    @Test
    void aRecordThatTimesOutFollowsItsErrorPolicy(@InjectMiniCluster MiniCluster cluster)
            throws Exception {
        StreamExecutionEnvironment env = environment();
        Clusters.withoutRestarts(env);
        RosService service =
                RosServices.add(env, RosDescriptor.builder("sleepy", new SleepyModel()).build());
        String sink = UUID.randomUUID().toString();
        RosAsyncDataStream.builder(
                        env.fromSequence(0, 2),
                        service,
                        RosMethodCall.of(SLOW, (Long x) -> x, (Long x, Long r) -> "ok " + x)
                                .onError(OnError.fallback((x, e) -> "fallback " + e.code())))
                .timeout(Duration.ofMillis(300))
                .capacity(10)
                .outputType(Types.STRING)
                .build()
                .sinkTo(new CollectingSink<>(sink));

        JobResult result = runToEnd(cluster, env.getStreamGraph().getJobGraph());

        assertThat(result.isSuccess()).as("the job finished").isTrue();
        assertThat(CollectingSink.<String>results(sink))
                .hasSize(3)
                .allMatch(line -> line.equals("fallback DEADLINE_EXCEEDED"));
    }

    @Test
    void theCallersErrorPolicyTakesAPlainFunctionsFailuresAndTimeouts(
            @InjectMiniCluster MiniCluster cluster) throws Exception {
        StreamExecutionEnvironment env = environment();
        Clusters.withoutRestarts(env);
        RosService service =
                RosServices.add(env, RosDescriptor.builder("sleepy2", new SleepyModel()).build());
        String sink = UUID.randomUUID().toString();
        // Even records name a method the service lacks (NOT_FOUND, which would otherwise fail the
        // job without restart); odd ones call the slow method and time out.
        RosAsyncFunction<Long, String> plain =
                (x, client, result) ->
                        client.call(
                                        x % 2 == 0 ? "missing" : "slow",
                                        ByteBuffer.allocate(8).putLong(x).array())
                                .thenAccept(r -> result.complete(Collections.singleton("ok")))
                                .exceptionally(
                                        e -> {
                                            result.completeExceptionally(e);
                                            return null;
                                        });
        RosAsyncDataStream.builder(env.fromSequence(0, 3), service, plain)
                .timeout(Duration.ofMillis(300))
                .outputType(Types.STRING)
                .onError(OnError.fallback((x, e) -> x + " " + e.code()))
                .build()
                .sinkTo(new CollectingSink<>(sink));

        JobResult result = runToEnd(cluster, env.getStreamGraph().getJobGraph());

        assertThat(result.isSuccess()).as("the job finished").isTrue();
        assertThat(CollectingSink.<String>results(sink))
                .containsExactlyInAnyOrder(
                        "0 NOT_FOUND", "1 DEADLINE_EXCEEDED", "2 NOT_FOUND", "3 DEADLINE_EXCEEDED");
    }

    // ---- oversized records ---------------------------------------------------------------------

    private static final RosMethod<String, Integer> LENGTH =
            RosMethod.of("length", Types.STRING, Types.INT);

    /** Answers the length of a string. */
    static final class LengthModel extends TypedRpcOperator {
        private static final long serialVersionUID = 1L;

        @Override
        protected void defineMethods(Methods methods) {
            methods.add(LENGTH, String::length);
        }
    }

    @Test
    void anOversizedRecordIsRefusedBeforeSendingNamingServiceMethodSizeLimitAndOption(
            @InjectMiniCluster MiniCluster cluster) throws Exception {
        StreamExecutionEnvironment env = environment();
        RosService service =
                RosServices.add(
                        env,
                        RosDescriptor.builder("lengths", new LengthModel())
                                .serverOptions(
                                        RosServerOptions.builder().maxMessageBytes(4096).build())
                                .build());
        String sink = UUID.randomUUID().toString();
        DataStream<String> texts =
                env.fromData("short", new String(new char[10_000]).replace('\0', 'x'));
        RosAsyncDataStream.builder(
                        texts,
                        service,
                        RosMethodCall.of(
                                        LENGTH, (String s) -> s, (String s, Integer n) -> "ok " + n)
                                .onError(
                                        OnError.fallback(
                                                (s, e) -> e.code() + " " + e.description())))
                .timeout(Duration.ofSeconds(30))
                .capacity(10)
                .ordered()
                .outputType(Types.STRING)
                .build()
                .sinkTo(new CollectingSink<>(sink));

        JobResult result = runToEnd(cluster, env.getStreamGraph().getJobGraph());

        assertThat(result.isSuccess()).as("the job finished").isTrue();
        List<String> outputs = new ArrayList<>(CollectingSink.<String>results(sink));
        assertThat(outputs).contains("ok 5");
        assertThat(outputs)
                .filteredOn(line -> line.startsWith("INVALID_ARGUMENT"))
                .singleElement()
                .satisfies(
                        line ->
                                assertThat(line)
                                        .contains("method 'length' of service 'lengths'")
                                        .contains("over the service's limit of 4096 bytes")
                                        .contains("maxMessageBytes")
                                        .containsPattern("is 10\\d{3} bytes"));
    }

    // ---- names and slots -----------------------------------------------------------------------

    @Test
    void theServiceVertexIsNamedAfterTheService() {
        StreamExecutionEnvironment env = environment();
        RosService service =
                RosServices.add(env, RosDescriptor.builder("sentiment", new LengthModel()).build());
        callAndCollect(
                env.fromData("a"),
                service,
                RosMethodCall.of(LENGTH, (String s) -> s, (String s, Integer n) -> n),
                Types.INT);

        List<String> names = new ArrayList<>();
        for (JobVertex vertex : env.getStreamGraph().getJobGraph().getVertices()) {
            names.add(vertex.getName());
        }
        assertThat(names)
                // The service's directory (for SQL callers) is chained to its instances.
                .contains(SERVICE_VERTEX + "sentiment -> ROS directory")
                .noneMatch(name -> name.contains("Writer") && name.contains("RpcOperatorService"));
    }

    @Test
    void aClusterWithoutSlotsForInstancesAndDataPlaneSaysSoNamingTheFix() throws Exception {
        StallWarnings.setIntervalForTests(Duration.ofSeconds(1));
        // One TaskManager with 2 slots; the job needs 3: 2 instances and 1 data-plane slot.
        MiniCluster small =
                new MiniCluster(
                        new MiniClusterConfiguration.Builder()
                                .setConfiguration(regionFailover())
                                .setNumTaskManagers(1)
                                .setNumSlotsPerTaskManager(2)
                                .build());
        small.start();
        try {
            StreamExecutionEnvironment env = environment();
            RosService service =
                    RosServices.add(
                            env,
                            RosDescriptor.builder("starved", new LengthModel())
                                    .parallelism(2)
                                    .build());
            callAndCollect(
                    env.fromData("a"),
                    service,
                    RosMethodCall.of(LENGTH, (String s) -> s, (String s, Integer n) -> n),
                    Types.INT);
            JobID id = small.submitJob(env.getStreamGraph().getJobGraph()).get().getJobID();

            org.flinkros.connector.testing.Clusters.eventually(
                    Duration.ofSeconds(60),
                    "a warning that names the missing slots",
                    () ->
                            mentionsSlots(enumeratorLog.getMessages())
                                    || mentionsSlots(coordinatorLog.getMessages()));
            small.cancelJob(id).get();
        } finally {
            small.close();
        }
    }

    /** A model that takes {@link #LOAD} to load. */
    static final class SlowLoadingModel implements RpcOperator {
        private static final long serialVersionUID = 1L;
        static final Duration LOAD = Duration.ofSeconds(4);

        @Override
        public void open(RpcOperatorContext context) throws InterruptedException {
            // Simulated model load, not synchronisation.
            Thread.sleep(LOAD.toMillis());
        }

        @Override
        public byte[] invoke(String method, byte[] payload) {
            return payload;
        }
    }

    @RegisterExtension
    final LoggerAuditingExtension callerLog =
            new LoggerAuditingExtension(
                    "org.flinkros.connector.internal.client.RosAsyncWaitOperator", Level.WARN);

    @Test
    void recordsWaitingForAModelThatStillLoadsAreReported(@InjectMiniCluster MiniCluster cluster)
            throws Exception {
        StallWarnings.setIntervalForTests(Duration.ofSeconds(1));
        StreamExecutionEnvironment env = environment();
        RosService service =
                RosServices.add(
                        env, RosDescriptor.builder("loading", new SlowLoadingModel()).build());
        callAndCollect(env.fromSequence(0, 9), service, new EchoCall(), Types.LONG);

        JobResult result = runToEnd(cluster, env.getStreamGraph().getJobGraph());

        assertThat(result.isSuccess()).as("the job finished").isTrue();
        assertThat(callerLog.getMessages())
                .anySatisfy(
                        m ->
                                assertThat(m)
                                        .contains("for RpcOperator service 'loading'")
                                        .contains("to have a live instance"));
        assertThat(enumeratorLog.getMessages())
                .anySatisfy(
                        m ->
                                assertThat(m)
                                        .contains("RpcOperator service 'loading'")
                                        .contains("running their open() (the model load)"));
    }

    @Test
    void theFirstRecordStartsWithTheLiveInstancesWhenTheOthersMissTheStartupTimeout(
            @InjectMiniCluster MiniCluster cluster) throws Exception {
        String key = UUID.randomUUID().toString();
        StreamExecutionEnvironment env = environment();
        RosService service =
                RosServices.add(
                        env,
                        RosDescriptor.builder(
                                        "partial", TestModel.fast(key).loadingSlowly(1, 60_000))
                                .parallelism(2)
                                .build());
        RosAsyncDataStream.Builder<Long, Long> builder =
                RosAsyncDataStream.builder(
                        env.fromSequence(0, 9),
                        service,
                        RosMethodCall.of(
                                TestModel.SQUARE,
                                (Long x) -> x,
                                (Long x, Tuple4<Long, Long, Integer, Integer> r) -> r.f1));
        assertThatThrownBy(() -> builder.startupInstances(3))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(
                        "startupInstances is 3 but RpcOperator service 'partial' has 2");
        assertThatThrownBy(() -> builder.startupInstances(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("startupInstances must be at least 1");
        builder.startupInstances(2)
                .startupTimeout(Duration.ofSeconds(1))
                .outputType(Types.LONG)
                .build()
                .sinkTo(new CollectingSink<>(UUID.randomUUID().toString()));

        JobResult result = runToEnd(cluster, env.getStreamGraph().getJobGraph());

        assertThat(result.isSuccess()).as("the job finished").isTrue();
        assertThat(callerLog.getMessages())
                .anySatisfy(
                        m ->
                                assertThat(m)
                                        .contains("RpcOperator service 'partial' with 1 of the 2")
                                        .contains("startupInstances"));
        TestModel.Probe probe = TestModel.probe(key);
        assertThat(probe.firstServedAt.keySet())
                .as("instance 0 served every call; instance 1 was still loading")
                .containsExactly("0/0");
        assertThat(probe.openedAt).doesNotContainKey("1/0");
    }

    private static boolean mentionsSlots(List<String> messages) {
        return messages.stream()
                .anyMatch(
                        m ->
                                m.contains("'starved'")
                                        && m.contains("taskmanager.numberOfTaskSlots"));
    }

    // ---- model loads and checkpoints -----------------------------------------------------------

    /**
     * Instance 0 crashes on its first attempt after a few requests; every later load takes {@link
     * #RELOAD_MILLIS}. Records when that reload ran.
     */
    static final class SlowReloadModel implements RpcOperator {
        private static final long serialVersionUID = 1L;
        static final long RELOAD_MILLIS = 3_000;
        static final Map<String, long[]> RELOAD = new ConcurrentHashMap<>();
        static final Map<String, AtomicInteger> OPENS = new ConcurrentHashMap<>();
        private final String key;
        private transient int index;
        private transient int attempt;
        private transient int served;

        SlowReloadModel(String key) {
            this.key = key;
        }

        @Override
        public void open(RpcOperatorContext context) throws InterruptedException {
            index = context.instanceIndex();
            attempt =
                    OPENS.computeIfAbsent(key + index, k -> new AtomicInteger()).getAndIncrement();
            if (attempt > 0) {
                long start = System.currentTimeMillis();
                // Simulated model load, not synchronisation.
                Thread.sleep(RELOAD_MILLIS);
                RELOAD.put(key, new long[] {start, System.currentTimeMillis()});
            }
        }

        @Override
        public byte[] invoke(String method, byte[] payload) throws InterruptedException {
            if (index == 0 && attempt == 0 && ++served > 20) {
                throw new OutOfMemoryError("simulated GPU out-of-memory");
            }
            Thread.sleep(2);
            return payload;
        }
    }

    @Test
    void checkpointsCompleteWhileARestartedInstanceLoadsItsModel(
            @InjectMiniCluster MiniCluster cluster) throws Exception {
        String key = UUID.randomUUID().toString();
        StreamExecutionEnvironment env = environment();
        env.enableCheckpointing(100);
        RosService service =
                RosServices.add(
                        env,
                        RosDescriptor.builder("reloading", new SlowReloadModel(key))
                                .parallelism(2)
                                .build());
        callAndCollect(
                env.fromSequence(0, 4_000)
                        .map(new org.flinkros.connector.testing.Throttle<Long>(500)),
                service,
                new EchoCall(),
                Types.LONG);
        JobGraph job = env.getStreamGraph().getJobGraph();
        JobID id = cluster.submitJob(job).get().getJobID();
        try {
            org.flinkros.connector.testing.Clusters.eventually(
                    Duration.ofSeconds(90),
                    "instance 0 reloaded its model",
                    () -> SlowReloadModel.RELOAD.containsKey(key));
            long[] reload = SlowReloadModel.RELOAD.get(key);
            List<AbstractCheckpointStats> during = new ArrayList<>();
            for (AbstractCheckpointStats checkpoint :
                    cluster.getExecutionGraph(id)
                            .get()
                            .getCheckpointStatsSnapshot()
                            .getHistory()
                            .getCheckpoints()) {
                if (checkpoint.getStatus() == CheckpointStatsStatus.COMPLETED
                        && checkpoint.getTriggerTimestamp() > reload[0]
                        && checkpoint.getLatestAckTimestamp() < reload[1]) {
                    during.add(checkpoint);
                }
            }
            assertThat(during)
                    .as(
                            "checkpoints completed during the %s ms model load",
                            SlowReloadModel.RELOAD_MILLIS)
                    .isNotEmpty();
        } finally {
            cluster.cancelJob(id).get();
        }
    }
}
