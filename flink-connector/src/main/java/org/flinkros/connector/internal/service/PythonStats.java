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
import org.flinkros.connector.internal.FlinkInternals;

import org.apache.flink.annotation.Internal;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.HistogramStatistics;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.annotation.concurrent.GuardedBy;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

/**
 * The server stats of a Python instance, from the file its process rewrites every second (a JSON
 * object of the runtime's stat names to integers). The file is read at most once per {@code
 * interval}; until it exists, every stat is 0, and a file that cannot be read keeps the last
 * figures (said once in the log).
 *
 * <p>The process reports batches only as the counts {@code dispatched} and {@code batches}, so the
 * batch-size histogram records, for each batch taken since the last read, the mean size of those
 * batches.
 */
@Internal
final class PythonStats {
    private static final Logger LOG = LoggerFactory.getLogger(PythonStats.class);

    /** How often the file is read at most. */
    static final Duration INTERVAL = Duration.ofSeconds(1);

    private final Path file;
    private final String source;
    private final long intervalNanos;
    private final Histogram sizes = FlinkInternals.histogram(1000);

    @GuardedBy("this")
    private RosServerStats last = RosServerStats.empty();

    @GuardedBy("this")
    private long readAtNanos;

    @GuardedBy("this")
    private boolean read;

    @GuardedBy("this")
    private boolean warned;

    /**
     * @param file the stats file
     * @param source what writes it, for messages
     * @param interval how often the file is read at most
     */
    PythonStats(Path file, String source, Duration interval) {
        this.file = file;
        this.source = source;
        this.intervalNanos = interval.toNanos();
    }

    /** The latest figures. */
    synchronized RosServerStats get() {
        long now = System.nanoTime();
        if (!read || now - readAtNanos >= intervalNanos) {
            read = true;
            readAtNanos = now;
            refresh();
        }
        return last;
    }

    /** The sizes of the batches the process took, as far as its counts tell. */
    Histogram batchSizes() {
        return new Histogram() {
            @Override
            public void update(long value) {
                throw new UnsupportedOperationException("recorded from the process's stats");
            }

            @Override
            public long getCount() {
                get();
                return sizes.getCount();
            }

            @Override
            public HistogramStatistics getStatistics() {
                get();
                return sizes.getStatistics();
            }
        };
    }

    @GuardedBy("this")
    private void refresh() {
        Properties text = new Properties();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            text.load(reader);
        } catch (NoSuchFileException notYet) {
            return;
        } catch (IOException e) {
            warnOnce("cannot read " + file + ": " + e);
            return;
        }
        RosServerStats stats;
        try {
            Map<String, Long> values = new HashMap<>();
            for (String name : text.stringPropertyNames()) {
                String value = text.getProperty(name);
                try {
                    values.put(name, Long.parseLong(value));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException(
                            "stat '" + name + "' is not an integer: " + value);
                }
            }
            stats = RosServerStats.of(values, source);
        } catch (RuntimeException e) {
            warnOnce("its stats file " + file + " is not what this flink-ros jar reads: " + e);
            return;
        }
        long batches = stats.batches() - last.batches();
        long dispatched = stats.dispatched() - last.dispatched();
        if (batches > 0 && dispatched >= batches) {
            long mean = Math.round((double) dispatched / batches);
            for (long i = 0; i < batches; i++) {
                sizes.update(mean);
            }
        }
        last = stats;
    }

    @GuardedBy("this")
    private void warnOnce(String problem) {
        if (!warned) {
            warned = true;
            LOG.warn(
                    "The metrics of {} keep their last figures: {} (said once per instance)",
                    source,
                    problem);
        }
    }
}
