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
import org.flinkros.examples.digits.Digit;
import org.flinkros.examples.digits.DigitsDemo;
import org.flinkros.tests.cluster.ClusterClasspath;
import org.flinkros.tests.cluster.FlinkProcessCluster;
import org.flinkros.tests.cluster.JobJar;

import org.apache.flink.api.common.JobID;
import org.apache.flink.runtime.jobmaster.JobResult;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The README's path from a clone to a running job: the examples' job jar (built by Maven with
 * flink-ros, its native library and ONNX Runtime shaded in, Flink left out) uploaded to a cluster
 * of separate JobManager and TaskManager processes and run as {@code flink run} would, serving the
 * real model: every held-out sample gets a prediction, as accurate as offline.
 */
class DigitsJobJarITCase {
    private static final Duration STEP_TIMEOUT = Duration.ofSeconds(90);
    private static final int REPEAT = 2;

    private final Path work =
            ClusterClasspath.location(getClass()).resolveSibling("digits-cluster");
    private final Path output = work.resolve("output");

    @Test
    void theExamplesJobJarServesTheRealModelOnAStandaloneCluster() throws Exception {
        Path jobJar = ClusterClasspath.location(DigitsDemo.class);
        assertThat(jobJar.getFileName().toString()).endsWith("-job.jar");
        assertThat(JobJar.entries(jobJar))
                .contains(
                        "org/flinkros/examples/digits/DigitsDemo.class",
                        "digits/digits.onnx",
                        "org/flinkros/connector/RosServices.class")
                .anyMatch(name -> name.startsWith("native/") && name.contains("ros_jni"))
                .anyMatch(name -> name.startsWith("ai/onnxruntime/native/linux-x64/"))
                .noneMatch(name -> name.startsWith("org/apache/flink/"));

        List<Path> classpath =
                ClusterClasspath.without(
                        RosClient.class, RosServices.class, DigitsDemo.class, getClass());
        try (FlinkProcessCluster cluster =
                FlinkProcessCluster.start(
                        work,
                        classpath,
                        2,
                        FlinkProcessCluster.failoverConfig(3, "1 s"),
                        STEP_TIMEOUT)) {
            try {
                String jar = cluster.rest().uploadJar(jobJar);
                JobID job =
                        cluster.rest()
                                .runJar(
                                        jar,
                                        DigitsDemo.class.getName(),
                                        List.of(
                                                "--repeat",
                                                String.valueOf(REPEAT),
                                                "--output",
                                                output.toUri().toString()));
                JobResult result = cluster.awaitResult(job, STEP_TIMEOUT.multipliedBy(2));
                assertThat(result.getSerializedThrowable()).isEmpty();
            } catch (Throwable t) {
                cluster.printLogTails(60);
                throw t;
            }
        }

        // label,predicted,instance for each sample
        List<String> lines = SinkOutput.finishedLinesRecursively(output);
        int samples = Digit.heldOut().size();
        assertThat(lines).hasSize(samples * REPEAT);
        long correct =
                lines.stream()
                        .map(line -> line.split(","))
                        .peek(fields -> assertThat(fields).hasSize(3))
                        .filter(fields -> fields[0].equals(fields[1]))
                        .count();
        // Answered by the service's instances (the second may still load while the first serves).
        assertThat(lines.stream().map(line -> line.split(",")[2]).distinct())
                .as("instances that served")
                .isSubsetOf("0", "1")
                .isNotEmpty();
        assertThat((double) correct / lines.size())
                .isCloseTo(Digit.offlineAccuracy(), within(0.0005));
    }
}
