package org.flinkros.tests;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

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
}
