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
import org.flinkros.connector.RosServe;
import org.flinkros.connector.RosServices;
import org.flinkros.examples.sql.JsonSentimentModel;
import org.flinkros.examples.sql.SharedSentimentSqlJob;
import org.flinkros.tests.cluster.ClusterClasspath;
import org.flinkros.tests.cluster.FlinkProcessCluster;
import org.flinkros.tests.cluster.FlinkRest;
import org.flinkros.tests.cluster.FlinkRest.Subtask;
import org.flinkros.tests.cluster.Poll;

import org.apache.flink.api.common.JobID;
import org.apache.flink.runtime.jobmaster.JobResult;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A shared service on a cluster of separate JobManager and TaskManager processes, as the SQL docs
 * run it: the service job started from the examples' job jar with {@code RosServe} as the entry
 * class ({@code flink run -c org.flinkros.connector.RosServe}), then a SQL job that knows it only
 * by name and token file and finds the cluster's REST API in its own configuration. A TaskManager
 * hosting an instance is killed with SIGKILL while the SQL job calls the service: the instance
 * comes back elsewhere, the service job keeps running, and the SQL job's output is complete and
 * exactly once.
 */
class SharedServiceJobJarITCase {
    private static final Logger LOG = LoggerFactory.getLogger(SharedServiceJobJarITCase.class);

    private static final int RECORDS = 6_000;
    private static final int RATE = 400;
    private static final String SERVICE_VERTEX = "RpcOperatorService: sentiment";
    private static final Duration STEP_TIMEOUT = Duration.ofSeconds(90);

    private final Path work =
            ClusterClasspath.location(getClass()).resolveSibling("shared-service-cluster");
    private final Path output = work.resolve("output");

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void aSqlJobCallsASharedServiceThatLosesItsTaskManager() throws Exception {
        Path jobJar = ClusterClasspath.location(SharedSentimentSqlJob.class);
        List<Path> classpath =
                ClusterClasspath.without(
                        RosClient.class,
                        RosServices.class,
                        SharedSentimentSqlJob.class,
                        getClass());
        Map<String, String> config = FlinkProcessCluster.failoverConfig(10, "1 s");
        // Callers find the service's instances through metrics served over REST: refresh often.
        config.put("metrics.fetcher.update-interval", "200 ms");
        try (FlinkProcessCluster cluster =
                FlinkProcessCluster.start(work, classpath, 3, config, STEP_TIMEOUT)) {
            try {
                run(cluster, jobJar);
            } catch (Throwable t) {
                cluster.printLogTails(80);
                throw t;
            }
        }
    }

    private void run(FlinkProcessCluster cluster, Path jobJar) throws Exception {
        FlinkRest rest = cluster.rest();
        Path tokenFile = work.resolve("sentiment.token");
        String jar = rest.uploadJar(jobJar);

        JobID service =
                rest.runJar(
                        jar,
                        RosServe.class.getName(),
                        List.of(
                                "--name",
                                "sentiment",
                                "--operator",
                                JsonSentimentModel.class.getName(),
                                "--parallelism",
                                "2",
                                "--token-file",
                                tokenFile.toString()));
        Poll.until(
                "both instances of the shared service running",
                STEP_TIMEOUT,
                () -> {
                    cluster.checkAlive();
                    List<Subtask> instances = instances(rest, service);
                    return !instances.isEmpty() && instances.stream().allMatch(Subtask::isRunning);
                });
        assertThat(tokenFile).as("RosServe wrote the token it made").exists();
        assertThat(Files.getPosixFilePermissions(tokenFile))
                .containsExactlyInAnyOrder(
                        PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);

        JobID sql =
                rest.runJar(
                        jar,
                        SharedSentimentSqlJob.class.getName(),
                        List.of(
                                "--records", String.valueOf(RECORDS),
                                "--rate", String.valueOf(RATE),
                                "--token-file", tokenFile.toString(),
                                "--output", output.toUri().toString()));

        // Mid-stream: once some predictions are committed, kill a TaskManager with an instance.
        Poll.until(
                "committed predictions",
                STEP_TIMEOUT,
                () -> {
                    cluster.checkAlive();
                    return SinkOutput.finishedLinesRecursively(output).size() >= RECORDS / 6;
                });
        Subtask victim = instances(rest, service).get(0);
        cluster.kill(victim.taskManagerId);
        Subtask back =
                Poll.until(
                        "the instance running again on another TaskManager",
                        STEP_TIMEOUT,
                        () -> {
                            cluster.checkAlive();
                            Subtask now = instances(rest, service).get(0);
                            return now.attempt > victim.attempt
                                            && now.isRunning()
                                            && !now.taskManagerId.equals(victim.taskManagerId)
                                    ? now
                                    : null;
                        });

        JobResult result = cluster.awaitResult(sql, STEP_TIMEOUT.multipliedBy(2));
        assertThat(result.getSerializedThrowable()).isEmpty();
        assertThat(rest.jobState(service))
                .as("the shared service outlives its callers")
                .isEqualTo("RUNNING");

        List<String> lines = SinkOutput.finishedLinesRecursively(output);
        Set<Long> ids = new TreeSet<>();
        long correct = 0;
        for (String line : lines) {
            String[] fields = line.split(",");
            assertThat(fields).hasSize(3);
            ids.add(Long.parseLong(fields[0]));
            assertThat(fields[2]).isIn("positive", "negative");
            if (fields[1].equals("true") == fields[2].equals("positive")) {
                correct++;
            }
        }
        LOG.info(
                "Killed {} hosting instance 0 of the shared service; it came back on {} (attempt"
                        + " {}); the SQL job committed {} predictions, {} correct; SQL job"
                        + " failures: {}",
                victim.taskManagerId,
                back.taskManagerId,
                back.attempt,
                lines.size(),
                correct,
                rest.failures(sql));
        assertThat(lines).as("every review predicted exactly once").hasSize(RECORDS);
        assertThat(ids).hasSize(RECORDS);
        assertThat((double) correct / RECORDS).isGreaterThan(0.95);
    }

    /** The shared service's instances; none while its job has no vertices yet. */
    private static List<Subtask> instances(FlinkRest rest, JobID service) throws Exception {
        try {
            return rest.vertexNamed(service, SERVICE_VERTEX).subtasks;
        } catch (IllegalStateException notYet) {
            return List.of();
        }
    }
}
