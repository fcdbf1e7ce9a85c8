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
package org.flinkros.tests;

import org.flinkros.client.RosClient;
import org.flinkros.connector.RosServices;
import org.flinkros.tests.cluster.ClusterClasspath;
import org.flinkros.tests.cluster.FlinkProcessCluster;
import org.flinkros.tests.cluster.FlinkRest;
import org.flinkros.tests.cluster.FlinkRest.Subtask;
import org.flinkros.tests.cluster.FlinkRest.Vertex;
import org.flinkros.tests.cluster.JobJar;
import org.flinkros.tests.cluster.Poll;
import org.flinkros.tests.job.SquareJob;
import org.flinkros.tests.job.SquareOperator;

import org.apache.flink.api.common.JobID;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.runtime.jobmaster.JobResult;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The one test a MiniCluster cannot replace: a JobManager and three TaskManagers as separate JVMs,
 * a job jar submitted over REST and loaded by Flink's user-code class loader, and a TaskManager
 * hosting an RpcOperator service instance killed with SIGKILL while the job calls the service. The
 * instance must come back on another TaskManager, the calls in flight on it must complete on the
 * survivor (no record fails, so the data plane never restarts), and the exactly-once output must be
 * complete.
 *
 * <p>So that the test knows exactly how many calls the kill hits, the instance is frozen first: it
 * stops answering, and its own gauges (executing plus queued) say how many calls it holds once that
 * number stops changing. Each of them must be sent again once, and only them: the client's retry
 * count grows by exactly that number.
 */
class TaskManagerKillITCase {
    private static final Logger LOG = LoggerFactory.getLogger(TaskManagerKillITCase.class);

    private static final long RECORDS = 25_000;
    private static final int TASK_MANAGERS = 3;
    private static final String SERVICE_VERTEX = "RpcOperatorService: " + SquareJob.SERVICE;
    private static final Duration STEP_TIMEOUT = Duration.ofSeconds(90);

    private final Path work =
            ClusterClasspath.location(getClass()).resolveSibling("process-cluster");
    private final Path output = work.resolve("output");
    private final Path markers = work.resolve("markers");
    private FlinkProcessCluster cluster;
    private FlinkRest rest;
    private JobID job;

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void serviceInstanceSurvivesTheLossOfItsTaskManager() throws Exception {
        // The project's classes reach the cluster only through the job jar.
        List<Path> classpath =
                ClusterClasspath.without(
                        RosClient.class, RosServices.class, SquareJob.class, getClass());
        try (FlinkProcessCluster started =
                FlinkProcessCluster.start(
                        work, classpath, TASK_MANAGERS, clusterConfig(), STEP_TIMEOUT)) {
            cluster = started;
            rest = cluster.rest();
            Files.createDirectories(markers);
            try {
                killAnInstanceWhileTheJobRuns();
            } catch (Throwable t) {
                cluster.printLogTails(80);
                throw t;
            }
        }
    }

    /**
     * Slots spread over the TaskManagers: each service instance gets a TaskManager of its own. The
     * JobManager refreshes the metrics it serves over REST often, so that the test reads them.
     */
    private static Map<String, String> clusterConfig() {
        Map<String, String> config = FlinkProcessCluster.failoverConfig(10, "1 s");
        config.put("metrics.fetcher.update-interval", "200 ms");
        return config;
    }

    private void killAnInstanceWhileTheJobRuns() throws Exception {
        long submitted = System.nanoTime();
        job = cluster.submit(jobGraphWithJar());

        // Kill mid-stream: after a completed checkpoint, once a tenth of the output is committed.
        Poll.until(
                "a completed checkpoint and committed output",
                STEP_TIMEOUT,
                () -> {
                    cluster.checkAlive();
                    assertThat(rest.jobState(job)).isIn("INITIALIZING", "CREATED", "RUNNING");
                    return rest.completedCheckpoints(job) > 0
                            && SinkOutput.finishedLines(output).size() >= RECORDS / 10;
                });
        Subtask victim = instanceAlone(rest.vertices(job));
        long victimPid = cluster.pid(victim.taskManagerId);
        SquareOperator.freeze(markers, victimPid);
        InFlight held = callsHeldBy(victim.index);
        long committedBefore = SinkOutput.finishedLines(output).size();
        long killed = System.nanoTime();
        cluster.kill(victim.taskManagerId);

        Subtask noticed =
                Poll.until(
                        "the JobManager to notice the lost instance",
                        STEP_TIMEOUT,
                        () -> {
                            Subtask now = instance(victim.index);
                            return now.attempt > victim.attempt || !now.isRunning() ? now : null;
                        });
        long noticedAt = System.nanoTime();
        Subtask back =
                Poll.until(
                        "the instance running again on another TaskManager",
                        STEP_TIMEOUT,
                        () -> {
                            cluster.checkAlive();
                            Subtask now = instance(victim.index);
                            return now.attempt > victim.attempt
                                            && now.isRunning()
                                            && !now.taskManagerId.equals(victim.taskManagerId)
                                    ? now
                                    : null;
                        });
        long backAt = System.nanoTime();

        JobResult result = cluster.awaitResult(job, STEP_TIMEOUT.multipliedBy(2));
        long finished = System.nanoTime();
        assertThat(result.getSerializedThrowable()).isEmpty();
        assertThat(rest.jobState(job)).isEqualTo("FINISHED");

        List<String> lines = SinkOutput.finishedLines(output);
        Map<String, Long> servedBy = assertCompleteOutput(lines);
        long retries = lines.stream().mapToLong(line -> field(line, 4)).max().orElse(0);
        List<FlinkRest.Failure> failures = rest.failures(job);
        LOG.info(
                "Killed {} (pid {}) hosting instance {} after {} committed records. The JobManager"
                        + " noticed after {} s ({}); the instance was back on {} after {} s"
                        + " (attempt {}). The job finished {} s after submission, {} s after the"
                        + " kill: {} records, served by {} (instance@pid); calls held by the"
                        + " frozen instance: {}; calls sent again to another instance: {};"
                        + " failures: {}",
                victim.taskManagerId,
                victimPid,
                victim.index,
                committedBefore,
                seconds(noticedAt - killed),
                noticed,
                back.taskManagerId,
                seconds(backAt - killed),
                back.attempt,
                seconds(finished - submitted),
                seconds(finished - killed),
                RECORDS,
                servedBy,
                held,
                retries,
                failures);

        // The kill hit calls in flight, and each of them, and no other, went to the survivor once.
        assertThat(held.calls).isPositive();
        assertThat(retries - held.clientRetries)
                .as("calls sent again after the kill, against %s", held)
                .isEqualTo(held.calls);
        // The instance served calls before the kill, and again from its new TaskManager.
        assertThat(servedBy)
                .containsKey(victim.index + "@" + victimPid)
                .containsKey(victim.index + "@" + cluster.pid(back.taskManagerId));
        assertOnlyTheInstanceRestarted(victim.index, back.attempt, failures);
    }

    /** What a frozen instance holds, read from its gauges, and the client's retries then. */
    private static final class InFlight {
        final long calls;
        final long clientRetries;

        InFlight(long calls, long clientRetries) {
            this.calls = calls;
            this.clientRetries = clientRetries;
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof InFlight
                    && ((InFlight) other).calls == calls
                    && ((InFlight) other).clientRetries == clientRetries;
        }

        @Override
        public int hashCode() {
            return Long.hashCode(calls * 31 + clientRetries);
        }

        @Override
        public String toString() {
            return calls + " (client retries then: " + clientRetries + ")";
        }
    }

    /**
     * The calls the frozen instance holds (executing plus queued) once that number and the client's
     * retry count have stayed the same for a second: the instance answers nothing, and the client
     * sends it no more once it holds more than the survivor.
     */
    private InFlight callsHeldBy(int instance) throws Exception {
        InFlight[] previous = {null};
        long[] since = {0};
        return Poll.until(
                "instance " + instance + " frozen with a steady number of calls",
                STEP_TIMEOUT,
                () -> {
                    cluster.checkAlive();
                    Map<String, Long> server =
                            rest.subtaskMetrics(
                                    job,
                                    rest.vertexNamed(job, SERVICE_VERTEX),
                                    instance,
                                    ".ros.executing",
                                    ".ros.queueDepth");
                    InFlight now =
                            new InFlight(
                                    server.get(".ros.executing") + server.get(".ros.queueDepth"),
                                    clientRetries());
                    if (server.get(".ros.executing") != 1 || !now.equals(previous[0])) {
                        previous[0] = now;
                        since[0] = System.nanoTime();
                        return null;
                    }
                    return System.nanoTime() - since[0] >= TimeUnit.SECONDS.toNanos(1) ? now : null;
                });
    }

    /** The data-plane client's retry count (the one data-plane subtask). */
    private long clientRetries() throws Exception {
        IOException notYet = new IOException("no data-plane vertex reports client metrics");
        for (Vertex vertex : rest.vertices(job)) {
            if (!vertex.name.contains(SERVICE_VERTEX)) {
                try {
                    return rest.subtaskMetrics(job, vertex, 0, ".ros.retries").get(".ros.retries");
                } catch (IOException e) {
                    notYet.addSuppressed(e);
                }
            }
        }
        throw notYet;
    }

    /** The job graph, with the job jar a user would submit: flink-ros and the job's classes. */
    private JobGraph jobGraphWithJar() throws Exception {
        Path jar = work.resolve("square-job.jar");
        JobGraph graph =
                JobJar.attach(
                        SquareJob.build(
                                RECORDS,
                                output,
                                1,
                                new SquareOperator(SquareJob.MODEL_COST, Duration.ZERO, markers),
                                null,
                                false,
                                SquareJob.CHECKPOINTS),
                        jar,
                        SquareJob.class);
        assertThat(JobJar.entries(jar))
                .contains(
                        "org/flinkros/tests/job/SquareOperator.class",
                        "org/flinkros/connector/RosServices.class",
                        "org/flinkros/client/RosClient.class")
                .anyMatch(name -> name.startsWith("native/") && name.contains("ros_jni"));
        return graph;
    }

    /** The running service instance whose TaskManager runs no other task of the job. */
    private static Subtask instanceAlone(List<Vertex> vertices) {
        Vertex service = null;
        Map<String, Integer> tasksPerTm = new TreeMap<>();
        for (Vertex vertex : vertices) {
            if (vertex.name.contains(SERVICE_VERTEX)) {
                service = vertex;
            }
            for (Subtask subtask : vertex.subtasks) {
                tasksPerTm.merge(subtask.taskManagerId, 1, Integer::sum);
            }
        }
        assertThat(service).as("service vertex").isNotNull();
        assertThat(service.subtasks).allSatisfy(s -> assertThat(s.isRunning()).isTrue());
        for (Subtask instance : service.subtasks) {
            if (tasksPerTm.get(instance.taskManagerId) == 1) {
                return instance;
            }
        }
        throw new AssertionError(
                "no service instance has a TaskManager of its own; tasks per TaskManager: "
                        + tasksPerTm);
    }

    private Subtask instance(int index) throws Exception {
        return rest.vertexNamed(job, SERVICE_VERTEX).subtask(index);
    }

    /**
     * Only the killed instance failed and ran again; every other task ran once. A failed record
     * would have restarted the data plane.
     */
    private void assertOnlyTheInstanceRestarted(
            int instance, int attempt, List<FlinkRest.Failure> failures) throws Exception {
        assertThat(failures).allSatisfy(f -> assertThat(f.taskName).contains(SERVICE_VERTEX));
        for (Vertex vertex : rest.vertices(job)) {
            for (Subtask subtask : vertex.subtasks) {
                boolean restarted =
                        vertex.name.contains(SERVICE_VERTEX) && subtask.index == instance;
                assertThat(subtask.attempt)
                        .as("attempt of %s %s", vertex.name, subtask)
                        .isEqualTo(restarted ? attempt : 0);
            }
        }
    }

    /**
     * Checks that every number has exactly one output line ({@code x,square,instance,pid,retries})
     * with its square; returns how many lines each instance served, keyed {@code instance@pid}.
     */
    private static Map<String, Long> assertCompleteOutput(List<String> lines) {
        assertThat(lines).hasSize((int) RECORDS);
        boolean[] seen = new boolean[(int) RECORDS];
        Map<String, Long> servedBy = new TreeMap<>();
        for (String line : lines) {
            int x = (int) field(line, 0);
            assertThat(seen[x]).as("duplicate output for %s", x).isFalse();
            seen[x] = true;
            assertThat(field(line, 1)).as("square of %s", x).isEqualTo((long) x * x);
            servedBy.merge(field(line, 2) + "@" + field(line, 3), 1L, Long::sum);
        }
        // RECORDS lines, none twice: every number is there.
        return servedBy;
    }

    private static long field(String line, int index) {
        return Long.parseLong(line.split(",")[index]);
    }

    private static String seconds(long nanos) {
        return String.format("%.1f", nanos / 1e9);
    }
}
