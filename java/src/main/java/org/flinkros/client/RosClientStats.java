package org.flinkros.client;

import org.apache.flink.annotation.PublicEvolving;

/** What a {@link RosClient} has done since it was created: a snapshot. */
@PublicEvolving
public final class RosClientStats {
    private final long calls;
    private final long succeeded;
    private final long retries;
    private final long retriesRefused;
    private final long ejections;
    private final long inFlight;
    private final StatusCounts failed;
    private final LatencyStats latency;

    /** Reads the native runtime's snapshot; the layout is the one of ros-jni's {@code stats}. */
    static RosClientStats fromArray(long[] values) {
        return new RosClientStats(values);
    }

    private RosClientStats(long[] values) {
        this.calls = values[0];
        this.succeeded = values[1];
        this.retries = values[2];
        this.retriesRefused = values[3];
        this.ejections = values[4];
        this.inFlight = values[5];
        this.failed = new StatusCounts(values, 6);
        this.latency = new LatencyStats(values, 6 + StatusCounts.FIELDS);
    }

    /** Calls made. */
    public long calls() {
        return calls;
    }

    /** Calls that returned a result. */
    public long succeeded() {
        return succeeded;
    }

    /** Failed calls, by their final code. */
    public StatusCounts failed() {
        return failed;
    }

    /** Attempts sent again to another instance. */
    public long retries() {
        return retries;
    }

    /** Retries the retry budget refused. */
    public long retriesRefused() {
        return retriesRefused;
    }

    /** Times an instance was ejected (lost connection or full queue). */
    public long ejections() {
        return ejections;
    }

    /** Calls in flight now, including those waiting for a slot. */
    public long inFlight() {
        return inFlight;
    }

    /** Latency of successful calls, from the call to its result. */
    public LatencyStats latency() {
        return latency;
    }

    @Override
    public String toString() {
        return "RosClientStats{calls="
                + calls
                + ", succeeded="
                + succeeded
                + ", failed="
                + failed
                + ", retries="
                + retries
                + ", retriesRefused="
                + retriesRefused
                + ", ejections="
                + ejections
                + ", inFlight="
                + inFlight
                + ", latency="
                + latency
                + '}';
    }
}
