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
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Chaos on a cluster of separate JobManager and TaskManager processes: TaskManagers are killed with
 * SIGKILL over and over, picked at random, in turn one that hosts a service instance and one that
 * hosts a data-plane task (with Flink's default placement a TaskManager may host either or both),
 * while a checkpointed job with an exactly-once file sink calls the service. At the end the output
 * holds every record exactly once.
 *
 * <p>Each kill waits for the job to run in full again and to complete a checkpoint, so that every
 * kill hits a working job, and then checks isolation: only the tasks of the killed TaskManager ran
 * again; a lost instance does not restart the data plane, and a lost data-plane task does not
 * restart an instance. A fresh TaskManager replaces each killed one.
 *
 * <p>{@code -Dflinkros.chaos.kills=N} sets the number of kills (default 6; docs/semantics.md gives
 * the long form) and {@code -Dflinkros.chaos.seed=S} replays a run's choice of victims (the seed is
 * logged).
 */
class ChaosITCase {
    private static final Logger LOG = LoggerFactory.getLogger(ChaosITCase.class);

    private static final int KILLS = Integer.getInteger("flinkros.chaos.kills", 6);
    private static final long SEED = Long.getLong("flinkros.chaos.seed", System.nanoTime());

    /** Each data-plane subtask sends this many records per second while the kills go on. */
    private static final int RECORDS_PER_SECOND = 100;

    /** About how long a kill takes to recover from, to size the input so it outlasts the kills. */
    private static final int SECONDS_PER_KILL = 15;

    private static final int DATA_PARALLELISM = 2;
    private static final int TASK_MANAGERS = 3;
    private static final String SERVICE_VERTEX = "RpcOperatorService: " + SquareJob.SERVICE;
    private static final Duration STEP_TIMEOUT = Duration.ofSeconds(90);

    /**
     * Checkpoints seldom enough that a kill rarely lands in one. Flink 2.3's JobManager exits
     * ("Some subtask gateway can be closed while others cannot", OperatorCoordinatorHolder) when a
     * source's subtask is restored while its coordinator's checkpoint is in progress; once in about
     * four runs at 500 ms.
     */
    private static final Duration CHECKPOINTS = Duration.ofSeconds(3);

    private final Path work = ClusterClasspath.location(getClass()).resolveSibling("chaos-cluster");
    private final Path output = work.resolve("output");
    private final Path release = work.resolve("release-throttle");
    private final Random random = new Random(SEED);
    private FlinkProcessCluster cluster;
    private FlinkRest rest;
    private JobID job;
    private int nextTaskManager = TASK_MANAGERS;

    @Test
    void randomKillsOfInstanceAndDataPlaneTaskManagersLoseNothing() throws Exception {
        long records =
                (long) RECORDS_PER_SECOND * DATA_PARALLELISM * SECONDS_PER_KILL * (KILLS + 2);
        List<Path> classpath =
                ClusterClasspath.without(
                        RosClient.class, RosServices.class, SquareJob.class, getClass());
        LOG.info("Chaos with {} kills, seed {} (-Dflinkros.chaos.seed to replay)", KILLS, SEED);
        try (FlinkProcessCluster started =
                FlinkProcessCluster.start(
                        work,
                        classpath,
                        TASK_MANAGERS,
                        FlinkProcessCluster.failoverConfig(1000, "200 ms"),
                        STEP_TIMEOUT)) {
            cluster = started;
            rest = cluster.rest();
            try {
                killOverAndOver(records);
            } catch (Throwable t) {
                cluster.printLogTails(60);
                throw t;
            }
        }
    }

    private void killOverAndOver(long records) throws Exception {
        job = cluster.submit(jobGraph(records));
        List<String> report = new ArrayList<>();
        for (int kill = 1; kill <= KILLS; kill++) {
            String kind = kill % 2 == 1 ? TaskLayout.INSTANCE : TaskLayout.DATA_PLANE;
            TaskLayout before = runningWithANewCheckpoint("before kill " + kill);
            List<String> candidates = before.taskManagersRunning(kind);
            String victim = candidates.get(random.nextInt(candidates.size()));
            List<String> lost = before.tasksByTaskManager().get(victim);
            cluster.kill(victim);
            cluster.addTaskManager("tm-" + nextTaskManager++, STEP_TIMEOUT);

            TaskLayout after = runningWithANewCheckpoint("after kill " + kill);
            String line =
                    String.format(
                            "kill %d (a TaskManager with %s): %s %s, now %s",
                            kill,
                            kind.equals(TaskLayout.INSTANCE) ? "an instance" : "a data-plane task",
                            victim,
                            lost,
                            after);
            LOG.info(line);
            report.add(line);
            for (Map.Entry<String, Integer> task : before.attempts().entrySet()) {
                if (!lost.contains(task.getKey())) {
                    assertThat(after.attempts().get(task.getKey()))
                            .as("attempt of %s, which did not run on the victim; %s", task, line)
                            .isEqualTo(task.getValue());
                }
            }
        }
        Files.createFile(release);

        JobResult result = cluster.awaitResult(job, STEP_TIMEOUT.multipliedBy(3));
        assertThat(result.getSerializedThrowable()).isEmpty();
        SinkOutput.assertEveryNumberSquaredOnce(SinkOutput.finishedLines(output), records);
        LOG.info(
                "{} kills (seed {}), output exactly once ({} records):\n{}",
                KILLS,
                SEED,
                records,
                String.join("\n", report));
    }

    /**
     * Waits until every task runs and a checkpoint triggered after that has completed: the job as a
     * whole works again. Returns the layout it then has.
     */
    private TaskLayout runningWithANewCheckpoint(String when) throws Exception {
        TaskLayout running =
                Poll.until(
                        "every task running " + when,
                        STEP_TIMEOUT,
                        () -> {
                            cluster.checkAlive();
                            TaskLayout layout = TaskLayout.of(rest, job, SERVICE_VERTEX);
                            return layout.allRunning() ? layout : null;
                        });
        long runningAt = System.currentTimeMillis();
        Poll.until(
                "a checkpoint triggered after every task ran " + when,
                STEP_TIMEOUT,
                () -> {
                    cluster.checkAlive();
                    long[] latest = rest.latestCompletedCheckpoint(job);
                    return latest != null && latest[0] > runningAt;
                });
        TaskLayout now = TaskLayout.of(rest, job, SERVICE_VERTEX);
        assertThat(now.attempts()).as("no task failed %s", when).isEqualTo(running.attempts());
        return now;
    }

    private JobGraph jobGraph(long records) throws Exception {
        return JobJar.attach(
                SquareJob.build(
                        records,
                        output,
                        DATA_PARALLELISM,
                        new SquareOperator(SquareJob.MODEL_COST),
                        new ThrottleUntilReleased(release, RECORDS_PER_SECOND),
                        false,
                        CHECKPOINTS),
                work.resolve("square-job.jar"),
                SquareJob.class);
    }
}
