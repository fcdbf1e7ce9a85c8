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

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a FileSink has committed: the lines of its finished part files. In-progress and pending
 * files have names starting with a dot; they are not output (yet).
 */
final class SinkOutput {
    private SinkOutput() {}

    /** As {@link #finishedLines}, over {@code dir} and the bucket directories below it. */
    static List<String> finishedLinesRecursively(Path dir) throws IOException {
        List<String> lines = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return lines;
        }
        try (java.util.stream.Stream<Path> buckets = Files.walk(dir)) {
            for (Path bucket : (Iterable<Path>) buckets.filter(Files::isDirectory)::iterator) {
                lines.addAll(finishedLines(bucket));
            }
        }
        return lines;
    }

    /**
     * The lines of the finished part files in {@code dir} (a sink without buckets writes all its
     * files there). Reads while the sink writes: the listing looks at names only, because
     * in-progress files are renamed at any moment, and finished files never change again.
     */
    static List<String> finishedLines(Path dir) throws IOException {
        List<String> lines = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return lines;
        }
        DirectoryStream.Filter<Path> finished =
                file -> !file.getFileName().toString().startsWith(".") && Files.isRegularFile(file);
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, finished)) {
            for (Path file : files) {
                lines.addAll(Files.readAllLines(file, StandardCharsets.UTF_8));
            }
        }
        return lines;
    }

    /**
     * Checks that the square job's output ({@code x,square,...} lines) holds every number from 0 to
     * {@code records - 1} exactly once, with its square.
     */
    static void assertEveryNumberSquaredOnce(List<String> lines, long records) {
        Set<Long> seen = new TreeSet<>();
        for (String line : lines) {
            String[] fields = line.split(",");
            long x = Long.parseLong(fields[0]);
            assertThat(seen.add(x)).as("duplicate output for %s", x).isTrue();
            assertThat(Long.parseLong(fields[1])).as("square of %s", x).isEqualTo(x * x);
        }
        assertThat(seen).hasSize((int) records);
        assertThat(seen).allSatisfy(x -> assertThat(x).isBetween(0L, records - 1));
    }
}
