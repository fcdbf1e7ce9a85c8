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
package org.flinkros.connector.internal.service;

import org.flinkros.client.RosServerStats;
import org.flinkros.client.StatusCode;
import org.flinkros.connector.PythonService;
import org.flinkros.connector.testing.LogCapture;

import org.apache.flink.metrics.Histogram;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

/**
 * The parts of a Python instance that need no process: its command line and environment, its stats
 * file and the reading of its output.
 */
class PythonPartsTest {

    @Test
    void theCommandLineCarriesTheOptionsButNeverTheToken() {
        List<String> command =
                PythonInstance.command(
                        "/venv/bin/python",
                        "models:Square",
                        Paths.get("/tmp/i/ready.properties"),
                        Paths.get("/tmp/i/stats.properties"),
                        2,
                        new String[] {"bindHost", "10.0.0.5", "maxBatchSize@square", "16"});
        assertThat(command)
                .containsExactly(
                        "/venv/bin/python",
                        "-m",
                        "flinkros.host",
                        "--service",
                        "models:Square",
                        "--ready-file",
                        "/tmp/i/ready.properties",
                        "--stats-file",
                        "/tmp/i/stats.properties",
                        "--concurrency",
                        "2",
                        "--option",
                        "bindHost=10.0.0.5",
                        "--option",
                        "maxBatchSize@square=16");
        assertThatThrownBy(
                        () ->
                                PythonInstance.command(
                                        "python3",
                                        "m:C",
                                        Paths.get("r"),
                                        Paths.get("s"),
                                        1,
                                        new String[] {"token", "secret"}))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theEnvironmentAddsTheServicesVariablesPythonPathAndTheInstancesOwn() {
        Map<String, String> inherited = new LinkedHashMap<>();
        inherited.put("PATH", "/usr/bin");
        inherited.put("PYTHONPATH", "/site");
        inherited.put("PYTHONUNBUFFERED", "0");
        PythonService python =
                PythonService.builder("m:C")
                        .environment("MODEL_DIR", "/models")
                        .pythonPath("/opt/a", "/opt/b")
                        .build();
        Map<String, String> environment =
                PythonInstance.environment(
                        inherited, python, "square", 1, 2, "the-token", new int[] {3, 5});
        assertThat(environment)
                .contains(
                        entry("PATH", "/usr/bin"),
                        entry("MODEL_DIR", "/models"),
                        entry("PYTHONPATH", String.join(":", "/opt/a", "/opt/b", "/site")),
                        entry("PYTHONUNBUFFERED", "1"),
                        entry("FLINKROS_TOKEN", "the-token"),
                        entry("FLINKROS_SERVICE", "square"),
                        entry("FLINKROS_INSTANCE_INDEX", "1"),
                        entry("FLINKROS_PARALLELISM", "2"),
                        entry("FLINKROS_GPUS", "3,5"),
                        entry("CUDA_VISIBLE_DEVICES", "3,5"));

        Map<String, String> withoutGpus =
                PythonInstance.environment(
                        Collections.emptyMap(),
                        PythonService.of("m:C"),
                        "square",
                        0,
                        1,
                        "t",
                        new int[0]);
        assertThat(withoutGpus)
                .containsEntry("FLINKROS_GPUS", "")
                .doesNotContainKeys("CUDA_VISIBLE_DEVICES", "PYTHONPATH");
    }

    /** Every stat of a server, by the runtime's names, all {@code value}. */
    private static Map<String, Long> allStats(long value) {
        Map<String, Long> stats = new LinkedHashMap<>();
        for (String name :
                new String[] {
                    "admitted",
                    "rejectedFull",
                    "rejectedUnknownMethod",
                    "rejectedUnauthenticated",
                    "rejectedConnections",
                    "handshakeTimeouts",
                    "dispatched",
                    "batches",
                    "cancelledQueued",
                    "expiredQueued",
                    "completed",
                    "discardedResults",
                    "queueDepth",
                    "executing",
                    "cacheHits",
                    "joined",
                    "keyConflicts",
                    "cacheEvictions",
                    "cacheEntries",
                    "cacheBytes",
                    "orphansKept"
                }) {
            stats.put(name, value);
        }
        for (StatusCode code : StatusCode.values()) {
            stats.put("failed." + code.name(), value);
        }
        for (String prefix : new String[] {"queueWait", "execution"}) {
            for (String name :
                    new String[] {
                        "count",
                        "meanMicros",
                        "stdDevMicros",
                        "minMicros",
                        "p50Micros",
                        "p90Micros",
                        "p99Micros",
                        "p999Micros",
                        "maxMicros"
                    }) {
                stats.put(prefix + "." + name, value);
            }
        }
        return stats;
    }

    private static void write(Path file, Map<String, Long> stats) throws Exception {
        StringBuilder lines = new StringBuilder();
        stats.forEach((name, value) -> lines.append(name).append('=').append(value).append('\n'));
        Path temporary = file.resolveSibling(file.getFileName() + ".tmp");
        Files.write(temporary, lines.toString().getBytes(StandardCharsets.UTF_8));
        Files.move(temporary, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    @Test
    void theStatsFileBecomesServerStatsAndBatchSizes(@TempDir Path directory) throws Exception {
        Path file = directory.resolve("stats.properties");
        PythonStats stats = new PythonStats(file, "the test's process", Duration.ZERO);
        Histogram batchSizes = stats.batchSizes();
        assertThat(stats.get().admitted()).as("nothing yet").isZero();
        assertThat(batchSizes.getCount()).isZero();

        Map<String, Long> values = allStats(0);
        values.put("admitted", 40L);
        values.put("dispatched", 40L);
        values.put("batches", 4L);
        values.put("failed.INTERNAL", 2L);
        values.put("queueWait.p99Micros", 1500L);
        values.put("execution.count", 40L);
        write(file, values);
        RosServerStats read = stats.get();
        assertThat(read.admitted()).isEqualTo(40);
        assertThat(read.failed().get(StatusCode.INTERNAL)).isEqualTo(2);
        assertThat(read.queueWait().p99()).isEqualTo(Duration.ofNanos(1_500_000));
        assertThat(read.execution().count()).isEqualTo(40);
        assertThat(batchSizes.getCount()).as("one value per batch").isEqualTo(4);
        assertThat(batchSizes.getStatistics().getMean()).isEqualTo(10.0);

        values.put("dispatched", 46L);
        values.put("batches", 7L);
        write(file, values);
        assertThat(batchSizes.getCount()).isEqualTo(7);
        assertThat(batchSizes.getStatistics().getMin()).isEqualTo(2);

        // A file this jar cannot read keeps the last figures.
        Map<String, Long> partial = new LinkedHashMap<>(values);
        partial.remove("admitted");
        write(file, partial);
        assertThat(stats.get().admitted()).isEqualTo(40);
        Files.delete(file);
        assertThat(stats.get().admitted()).isEqualTo(40);
    }

    @Test
    void aStatsFileIsReadAtMostOncePerInterval(@TempDir Path directory) throws Exception {
        Path file = directory.resolve("stats.properties");
        PythonStats stats = new PythonStats(file, "the test's process", Duration.ofHours(1));
        Map<String, Long> values = allStats(1);
        write(file, values);
        assertThat(stats.get().admitted()).isEqualTo(1);
        write(file, allStats(2));
        assertThat(stats.get().admitted()).as("not read again within the interval").isEqualTo(1);
    }

    @Test
    void missingStatsAreNamed() {
        Map<String, Long> values = allStats(0);
        values.remove("queueWait.p50Micros");
        assertThatThrownBy(() -> RosServerStats.of(values, "the Python process"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("the Python process reports no stat 'queueWait.p50Micros'");
        assertThat(RosServerStats.empty().completed()).isZero();
        assertThat(RosServerStats.empty().failed().total()).isZero();
    }

    @Test
    void standardErrorLinesAreLoggedAtTheLevelTheyName() {
        String name = PythonInstance.LOGGER_PREFIX + "levels.0";
        try (LogCapture logs = LogCapture.of(name)) {
            Logger log = LoggerFactory.getLogger(name);
            for (String line :
                    new String[] {
                        "INFO flinkros.host: serving square on port 4242",
                        "WARNING flinkros.instance: method 'square' failed a batch of 3",
                        "ERROR flinkros.host: the instance's worker failed",
                        "CRITICAL root: out of memory",
                        "DEBUG flinkros.instance: polled",
                        "2026-11-26T12:15:45.050407Z  INFO service instance listening",
                        "2026-11-26T12:15:45.050407Z  WARN connection reset",
                        "Traceback (most recent call last):",
                        "RuntimeError: no weights",
                        "INFORMATION is not a level"
                    }) {
                PythonProcess.logStderr(log, line);
            }
            assertThat(logs.lines())
                    .extracting(line -> line.substring(0, line.indexOf(' ')))
                    .containsExactly(
                            "INFO", "WARN", "ERROR", "ERROR", "DEBUG", "INFO", "WARN", "WARN",
                            "WARN", "WARN");
        }
    }

    @Test
    void outputLinesAreSplitAndCut() throws Exception {
        List<String> lines = new ArrayList<>();
        StringBuilder longLine = new StringBuilder();
        for (int i = 0; i < PythonProcess.MAX_LINE_CHARS + 10; i++) {
            longLine.append('x');
        }
        PythonProcess.readLines(
                new StringReader("one\r\ntwo\n\n" + longLine + "\nlast without end"), lines::add);
        assertThat(lines).hasSize(5);
        assertThat(lines.subList(0, 3)).containsExactly("one", "two", "");
        assertThat(lines.get(3))
                .hasSize(PythonProcess.MAX_LINE_CHARS + "... (10 more characters)".length())
                .endsWith("... (10 more characters)");
        assertThat(lines.get(4)).isEqualTo("last without end");
    }
}
