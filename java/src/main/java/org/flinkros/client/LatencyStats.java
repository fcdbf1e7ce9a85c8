package org.flinkros.client;

import org.apache.flink.annotation.PublicEvolving;

import java.time.Duration;

/** A summary of a latency histogram (microsecond resolution, 3 significant digits). */
@PublicEvolving
public final class LatencyStats {
    /** How many values a snapshot array holds, in the order of the constructor. */
    static final int FIELDS = 9;

    private final long count;
    private final long meanMicros;
    private final long stdDevMicros;
    private final long minMicros;
    private final long p50Micros;
    private final long p90Micros;
    private final long p99Micros;
    private final long p999Micros;
    private final long maxMicros;

    LatencyStats(long[] values, int offset) {
        this.count = values[offset];
        this.meanMicros = values[offset + 1];
        this.stdDevMicros = values[offset + 2];
        this.minMicros = values[offset + 3];
        this.p50Micros = values[offset + 4];
        this.p90Micros = values[offset + 5];
        this.p99Micros = values[offset + 6];
        this.p999Micros = values[offset + 7];
        this.maxMicros = values[offset + 8];
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
