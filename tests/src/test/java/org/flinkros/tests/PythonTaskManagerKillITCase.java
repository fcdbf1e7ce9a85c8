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
import org.flinkros.connector.PythonService;
import org.flinkros.connector.RosServices;
import org.flinkros.tests.cluster.ClusterClasspath;
import org.flinkros.tests.cluster.FlinkProcessCluster;
import org.flinkros.tests.cluster.FlinkRest;
import org.flinkros.tests.cluster.JobJar;
import org.flinkros.tests.cluster.Poll;
import org.flinkros.tests.cluster.TaskLayout;
import org.flinkros.tests.job.SquareJob;

import org.apache.flink.api.common.JobID;
import org.apache.flink.runtime.jobmaster.JobResult;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A TaskManager process that hosts a Python-hosted instance is killed (SIGKILL) mid-job on a
 * multi-process cluster: the instance's Python process must not outlive it (it sees its standard
 * input close), the instance must run again in a new Python process on another TaskManager, no
 * other task may restart, and the output must hold every record exactly once.
 */
class PythonTaskManagerKillITCase {
    private static final Logger LOG = LoggerFactory.getLogger(PythonTaskManagerKillITCase.class);

    private static final long RECORDS = 10_000;
    private static final int TASK_MANAGERS = 3;
    private static final String SERVICE_VERTEX = "RpcOperatorService: " + SquareJob.SERVICE;
    private static final Duration STEP_TIMEOUT = Duration.ofSeconds(90);

    /** How long the orphaned Python process may take to notice its TaskManager is gone. */
    private static final Duration ORPHAN_EXIT = Duration.ofSeconds(15);

    private final Path work =
            ClusterClasspath.location(getClass()).resolveSibling("python-process-cluster");
    private final Path output = work.resolve("output");
    private FlinkProcessCluster cluster;
    private FlinkRest rest;
    private JobID job;

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void aPythonInstanceSurvivesTheLossOfItsTaskManagerWithoutAnOrphan() throws Exception {
        String python = System.getProperty("flinkros.python", "").trim();
        assumeTrue(
                !python.isEmpty() && Files.isExecutable(Paths.get(python)),
                "flinkros.python names no interpreter with the flinkros package: build python/");
        List<Path> classpath =
                ClusterClasspath.without(
                        RosClient.class, RosServices.class, SquareJob.class, getClass());
        try (FlinkProcessCluster started =
                FlinkProcessCluster.start(
                        work,
                        classpath,
                        TASK_MANAGERS,
                        FlinkProcessCluster.failoverConfig(10, "1 s"),
                        STEP_TIMEOUT)) {
            cluster = started;
            rest = cluster.rest();
            try {
                killThePythonInstancesTaskManager(python);
            } catch (Throwable t) {
                cluster.printLogTails(80);
                throw t;
            }
        }
    }

    private void killThePythonInstancesTaskManager(String python) throws Exception {
        Path models = Paths.get(getClass().getResource("/python").toURI());
        PythonService service =
                PythonService.builder("square_host_model:SquareHostModel")
                        .executable(python)
                        .pythonPath(models.toString())
                        .build();
        job =
                cluster.submit(
                        JobJar.attach(
                                SquareJob.buildPython(RECORDS, output, service),
                                work.resolve("python-square-job.jar"),
                                SquareJob.class));

        Poll.until(
                "a completed checkpoint and committed output",
                STEP_TIMEOUT,
                () -> {
                    cluster.checkAlive();
                    assertThat(rest.jobState(job)).isIn("INITIALIZING", "CREATED", "RUNNING");
                    return rest.completedCheckpoints(job) > 0
                            && SinkOutput.finishedLines(output).size() >= RECORDS / 10;
                });
        TaskLayout before = TaskLayout.of(rest, job, SERVICE_VERTEX);
        String victim = taskManagerWithOnlyAnInstance(before);
        List<String> lost = before.tasksByTaskManager().get(victim);
        ProcessHandle host = pythonHostOf(cluster.pid(victim));
        long killed = System.nanoTime();
        cluster.kill(victim);

        Poll.until(
                "the Python process of the killed TaskManager to exit",
                ORPHAN_EXIT,
                () -> host.isAlive() ? null : Boolean.TRUE);
        long orphanGone = System.nanoTime();

        JobResult result = cluster.awaitResult(job, STEP_TIMEOUT.multipliedBy(2));
        assertThat(result.getSerializedThrowable()).isEmpty();
        List<String> lines = SinkOutput.finishedLines(output);
        SinkOutput.assertEveryNumberSquaredOnce(lines, RECORDS);

        TaskLayout after = TaskLayout.of(rest, job, SERVICE_VERTEX);
        for (Map.Entry<String, Integer> task : before.attempts().entrySet()) {
            assertThat(after.attempts().get(task.getKey()))
                    .as("attempt of %s (lost with %s: %s)", task.getKey(), victim, lost)
                    .isEqualTo(
                            lost.contains(task.getKey()) ? task.getValue() + 1 : task.getValue());
        }
        // Lines are x,square,instance,pid,retries: the killed instance answered from its first
        // Python process and then from a new one.
        String instance = lost.get(0).substring(TaskLayout.INSTANCE.length());
        Set<Long> pids =
                lines.stream()
                        .map(line -> line.split(","))
                        .filter(fields -> fields[2].equals(instance))
                        .map(fields -> Long.parseLong(fields[3]))
                        .collect(Collectors.toCollection(TreeSet::new));
        assertThat(pids).contains(host.pid()).hasSizeGreaterThan(1);
        LOG.info(
                "Killed {} hosting Python instance {} (process {}); the process exited {} s"
                        + " after the kill; the instance answered from processes {}; {} records"
                        + " exactly once",
                victim,
                instance,
                host.pid(),
                String.format("%.1f", (orphanGone - killed) / 1e9),
                pids,
                RECORDS);
    }

    /** A TaskManager that runs a service instance and nothing else. */
    private static String taskManagerWithOnlyAnInstance(TaskLayout layout) {
        for (Map.Entry<String, List<String>> tm : layout.tasksByTaskManager().entrySet()) {
            if (tm.getValue().size() == 1 && tm.getValue().get(0).startsWith(TaskLayout.INSTANCE)) {
                return tm.getKey();
            }
        }
        throw new AssertionError("no TaskManager runs an instance alone: " + layout);
    }

    /** The {@code flinkros.host} process that the TaskManager process {@code pid} launched. */
    private static ProcessHandle pythonHostOf(long pid) {
        ProcessHandle taskManager =
                ProcessHandle.of(pid)
                        .orElseThrow(() -> new AssertionError("no TaskManager process " + pid));
        List<ProcessHandle> hosts =
                taskManager
                        .descendants()
                        .filter(
                                p ->
                                        String.join(" ", p.info().arguments().orElse(new String[0]))
                                                .contains("flinkros.host"))
                        .collect(Collectors.toList());
        assertThat(hosts).as("Python hosts launched by TaskManager %s", pid).hasSize(1);
        return hosts.get(0);
    }
}
