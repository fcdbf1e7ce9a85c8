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
package org.flinkros.client;

import org.flinkros.client.internal.NamedStats;

import org.apache.flink.annotation.PublicEvolving;

import java.time.Duration;

/** A summary of a latency histogram (microsecond resolution, 3 significant digits). */
@PublicEvolving
public final class LatencyStats {
    private final long count;
    private final long meanMicros;
    private final long stdDevMicros;
    private final long minMicros;
    private final long p50Micros;
    private final long p90Micros;
    private final long p99Micros;
    private final long p999Micros;
    private final long maxMicros;

    LatencyStats(NamedStats stats, String prefix) {
        this.count = stats.get(prefix + ".count");
        this.meanMicros = stats.get(prefix + ".meanMicros");
        this.stdDevMicros = stats.get(prefix + ".stdDevMicros");
        this.minMicros = stats.get(prefix + ".minMicros");
        this.p50Micros = stats.get(prefix + ".p50Micros");
        this.p90Micros = stats.get(prefix + ".p90Micros");
        this.p99Micros = stats.get(prefix + ".p99Micros");
        this.p999Micros = stats.get(prefix + ".p999Micros");
        this.maxMicros = stats.get(prefix + ".maxMicros");
    }

    /** Values recorded. */
    public long count() {
        return count;
    }

    /** Mean. */
    public Duration mean() {
        return Duration.ofNanos(meanMicros * 1000);
    }

    /** Standard deviation. */
    public Duration stdDev() {
        return Duration.ofNanos(stdDevMicros * 1000);
    }

    /** Smallest value. */
    public Duration min() {
        return Duration.ofNanos(minMicros * 1000);
    }

    /** Median. */
    public Duration p50() {
        return Duration.ofNanos(p50Micros * 1000);
    }

    /** 90th percentile. */
    public Duration p90() {
        return Duration.ofNanos(p90Micros * 1000);
    }

    /** 99th percentile. */
    public Duration p99() {
        return Duration.ofNanos(p99Micros * 1000);
    }

    /** 99.9th percentile. */
    public Duration p999() {
        return Duration.ofNanos(p999Micros * 1000);
    }

    /** Largest value. */
    public Duration max() {
        return Duration.ofNanos(maxMicros * 1000);
    }

    @Override
    public String toString() {
        return "LatencyStats{count="
                + count
                + ", mean="
                + meanMicros
                + "us, p50="
                + p50Micros
                + "us, p90="
                + p90Micros
                + "us, p99="
                + p99Micros
                + "us, p999="
                + p999Micros
                + "us, max="
                + maxMicros
                + "us}";
    }
}
