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
import org.flinkros.tests.cluster.JobJar;
import org.flinkros.tests.cluster.Poll;
import org.flinkros.tests.cluster.TaskLayout;
import org.flinkros.tests.job.SquareJob;
import org.flinkros.tests.job.SquareOperator;
import org.flinkros.tests.job.ThrottleUntilReleased;

import org.apache.flink.api.common.JobID;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.runtime.jobmaster.JobResult;

import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * TaskManagers that host both a service instance and a data-plane task, killed with SIGKILL one
 * after another on a cluster of separate JobManager and TaskManager processes, while a checkpointed
 * job with an exactly-once file sink calls a model that takes {@link #MODEL_LOAD} to load. After
 * every kill: the instance serves again within its model load plus 10 s, the job's checkpoints
 * complete again within 10 s (the model loads in the background, so the instance's task does not
 * hold them up), and at the end the output is exactly once.
 *
 * <p>Every slot sharing group declares resources (the configuration docs/semantics.md gives for
 * jobs whose services declare resources), sized so that each TaskManager holds one instance and one
 * data-plane task: the layout this test needs, made certain. Each kill is followed by a fresh
 * TaskManager, so that the next kill again finds a spare one for the tasks it displaces. {@code
 * -Dflinkros.kills=N} sets the number of kills (default 10; the long form in docs/semantics.md runs
 * more).
 */
class SharedTaskManagerKillITCase {
    private static final Logger LOG = LoggerFactory.getLogger(SharedTaskManagerKillITCase.class);

    private static final int KILLS = Integer.getInteger("flinkros.kills", 10);
    private static final Duration MODEL_LOAD =
            Duration.ofSeconds(Long.getLong("flinkros.modelLoadSeconds", 20));
    private static final Duration SERVES_AGAIN_WITHIN = MODEL_LOAD.plusSeconds(10);
    private static final Duration CHECKPOINTS_AGAIN_WITHIN = Duration.ofSeconds(10);

    /** Each data-plane subtask sends this many records per second while the kills go on. */
    private static final int RECORDS_PER_SECOND = 100;

    private static final int DATA_PARALLELISM = 2;
    private static final String SERVICE_VERTEX = "RpcOperatorService: " + SquareJob.SERVICE;
    private static final Duration STEP_TIMEOUT = Duration.ofSeconds(90);

    private final Path work =
            ClusterClasspath.location(getClass()).resolveSibling("shared-kill-cluster");
    private final Path output = work.resolve("output");
    private final Path markers = work.resolve("markers");
    private final Path release = work.resolve("release-throttle");
    private FlinkProcessCluster cluster;
    private FlinkRest rest;
    private JobID job;
    private int nextTaskManager;

    @Test
    void everyKillOfASharedTaskManagerRecoversWithinBoundsAndLosesNothing() throws Exception {
        // Enough records to outlast the kills at the paced rate; released at full speed after.
        long records =
                (long) RECORDS_PER_SECOND
                        * DATA_PARALLELISM
                        * (MODEL_LOAD.getSeconds() + 15)
                        * (KILLS + 2);
        List<Path> classpath =
                ClusterClasspath.without(
                        RosClient.class, RosServices.class, SquareJob.class, getClass());
        // Two TaskManagers of 2 slots hold the job's 4 tasks; a third joins as the spare.
        try (FlinkProcessCluster started =
                FlinkProcessCluster.start(work, classpath, 2, clusterConfig(), STEP_TIMEOUT)) {
            cluster = started;
            rest = cluster.rest();
            nextTaskManager = 2;
            Files.createDirectories(markers);
            try {
                killSharedTaskManagers(records);
            } catch (Throwable t) {
                cluster.printLogTails(60);
                throw t;
            }
        }
    }

    /** Every kill restarts two regions: enough restart attempts for all of them. */
    private static Map<String, String> clusterConfig() {
        return FlinkProcessCluster.failoverConfig(1000, "200 ms");
    }

    private void killSharedTaskManagers(long records) throws Exception {
        job = cluster.submit(jobGraph(records));
        Poll.until(
                "both instances serving and a completed checkpoint",
                MODEL_LOAD.plus(STEP_TIMEOUT),
                () -> {
                    cluster.checkAlive();
                    return SquareOperator.servedMarkers(markers).size() >= 2
                            && rest.latestCompletedCheckpoint(job) != null;
                });
        addSpareTaskManager();

        List<String> report = new ArrayList<>();
        for (int kill = 1; kill <= KILLS; kill++) {
            report.add(killOneSharedTaskManager(kill));
        }
        Files.createFile(release);

        JobResult result = cluster.awaitResult(job, STEP_TIMEOUT.multipliedBy(3));
        assertThat(result.getSerializedThrowable()).isEmpty();
        SinkOutput.assertEveryNumberSquaredOnce(SinkOutput.finishedLines(output), records);
        LOG.info(
                "{} kills of TaskManagers hosting an instance and a data-plane task (model load {}"
                        + " s), as 'kill: instance serving again after s / checkpoint completed"
                        + " again after s':\n{}",
                KILLS,
                MODEL_LOAD.getSeconds(),
                String.join("\n", report));
    }

    /** Kills a TaskManager hosting an instance and a data-plane task; checks the recovery. */
    private String killOneSharedTaskManager(int kill) throws Exception {
        Map<String, List<String>> tasks = tasksByTaskManager();
        String victim = sharedTaskManager(tasks);
        int instance = instanceOn(victim);
        long victimPid = cluster.pid(victim);
        Set<String> servedBefore = SquareOperator.servedMarkers(markers).keySet();
        long killedAt = System.currentTimeMillis();
        cluster.kill(victim);

        long checkpointedAt =
                Poll.until(
                        "a checkpoint triggered after kill " + kill + " to complete",
                        STEP_TIMEOUT,
                        () -> {
                            cluster.checkAlive();
                            long[] latest = rest.latestCompletedCheckpoint(job);
                            return latest != null && latest[0] > killedAt ? latest[1] : null;
                        });
        // The spare starts while the instance loads its model, which needs no CPU.
        addSpareTaskManager();
        long servedAt =
                Poll.until(
                        "instance " + instance + " serving again after kill " + kill,
                        SERVES_AGAIN_WITHIN.plus(STEP_TIMEOUT),
                        () -> {
                            cluster.checkAlive();
                            for (Map.Entry<String, Long> marker :
                                    SquareOperator.servedMarkers(markers).entrySet()) {
                                String name = marker.getKey();
                                if (!servedBefore.contains(name)
                                        && name.startsWith("served-" + instance + "-")
                                        && !name.startsWith(
                                                "served-" + instance + "-" + victimPid + "-")) {
                                    return marker.getValue();
                                }
                            }
                            return null;
                        });
        String line =
                String.format(
                        "kill %d of %s %s: %.1f s / %.1f s",
                        kill,
                        victim,
                        tasks.get(victim),
                        (servedAt - killedAt) / 1e3,
                        (checkpointedAt - killedAt) / 1e3);
        LOG.info(line);
        assertThat(Duration.ofMillis(servedAt - killedAt))
                .as("instance %s serving again after %s", instance, line)
                .isLessThanOrEqualTo(SERVES_AGAIN_WITHIN);
        assertThat(Duration.ofMillis(checkpointedAt - killedAt))
                .as("checkpoints completing again after %s", line)
                .isLessThanOrEqualTo(CHECKPOINTS_AGAIN_WITHIN);
        return line;
    }

    private void addSpareTaskManager() throws Exception {
        cluster.addTaskManager("tm-" + nextTaskManager++, STEP_TIMEOUT);
    }

    /** What runs where: task names by TaskManager id; every task must be running. */
    private Map<String, List<String>> tasksByTaskManager() throws Exception {
        TaskLayout layout = TaskLayout.of(rest, job, SERVICE_VERTEX);
        assertThat(layout.allRunning()).as("all tasks running: %s", layout).isTrue();
        return layout.tasksByTaskManager();
    }

    private static String sharedTaskManager(Map<String, List<String>> tasks) {
        for (Map.Entry<String, List<String>> entry : tasks.entrySet()) {
            List<String> here = entry.getValue();
            if (here.stream().anyMatch(t -> t.startsWith(TaskLayout.INSTANCE))
                    && here.stream().anyMatch(t -> t.startsWith(TaskLayout.DATA_PLANE))) {
                return entry.getKey();
            }
        }
        throw new AssertionError(
                "no TaskManager hosts both an instance and a data-plane task: " + tasks);
    }

    private int instanceOn(String taskManager) throws Exception {
        for (Subtask subtask : rest.vertexNamed(job, SERVICE_VERTEX).subtasks) {
            if (subtask.taskManagerId.equals(taskManager)) {
                return subtask.index;
            }
        }
        throw new AssertionError("no instance on " + taskManager);
    }

    private JobGraph jobGraph(long records) throws Exception {
        return JobJar.attach(
                SquareJob.build(
                        records,
                        output,
                        DATA_PARALLELISM,
                        new SquareOperator(SquareJob.MODEL_COST, MODEL_LOAD, markers),
                        new ThrottleUntilReleased(release, RECORDS_PER_SECOND),
                        true,
                        SquareJob.CHECKPOINTS),
                work.resolve("square-job.jar"),
                SquareJob.class);
    }
}
