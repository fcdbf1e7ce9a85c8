package org.flinkros.client;

import org.apache.flink.annotation.PublicEvolving;

/** What a {@link RosServer} has done since it started: a snapshot. */
@PublicEvolving
public final class RosServerStats {
    private final long admitted;
    private final long rejectedFull;
    private final long rejectedUnknownMethod;
    private final long rejectedUnauthenticated;
    private final long dispatched;
    private final long cancelledQueued;
    private final long expiredQueued;
    private final long completed;
    private final long discardedResults;
    private final long queueDepth;
    private final long executing;
    private final StatusCounts failed;
    private final LatencyStats queueWait;
    private final LatencyStats execution;

    /** Reads the native runtime's snapshot; the layout is the one of ros-jni's {@code stats}. */
    static RosServerStats fromArray(long[] values) {
        return new RosServerStats(values);
    }

    private RosServerStats(long[] values) {
        this.admitted = values[0];
        this.rejectedFull = values[1];
        this.rejectedUnknownMethod = values[2];
        this.rejectedUnauthenticated = values[3];
        this.dispatched = values[4];
        this.cancelledQueued = values[5];
        this.expiredQueued = values[6];
        this.completed = values[7];
        this.discardedResults = values[8];
        this.queueDepth = values[9];
        this.executing = values[10];
        this.failed = new StatusCounts(values, 11);
        this.queueWait = new LatencyStats(values, 11 + StatusCounts.FIELDS);
        this.execution = new LatencyStats(values, 11 + StatusCounts.FIELDS + LatencyStats.FIELDS);
    }

    /** Requests accepted into the queue. */
    public long admitted() {
        return admitted;
    }

    /** Requests refused because the queue was full ({@link StatusCode#RESOURCE_EXHAUSTED}). */
    public long rejectedFull() {
        return rejectedFull;
    }

    /** Requests refused for naming an unknown method ({@link StatusCode#NOT_FOUND}). */
    public long rejectedUnknownMethod() {
        return rejectedUnknownMethod;
    }

    /** Requests refused for lacking the token ({@link StatusCode#UNAUTHENTICATED}). */
    public long rejectedUnauthenticated() {
        return rejectedUnauthenticated;
    }

    /** Requests taken by workers. */
    public long dispatched() {
        return dispatched;
    }

    /**
     * Requests removed while queued because their caller went away or their caller's earlier
     * attempt was cancelled: work that was never done.
     */
    public long cancelledQueued() {
        return cancelledQueued;
    }

    /** Requests removed while queued because their deadline passed. */
    public long expiredQueued() {
        return expiredQueued;
    }

    /** Outcomes delivered to a waiting caller. */
    public long completed() {
        return completed;
    }

    /** Outcomes that found no caller any more. */
    public long discardedResults() {
        return discardedResults;
    }

    /** Requests waiting in the queue now. */
    public long queueDepth() {
        return queueDepth;
    }

    /** Requests being executed now. */
    public long executing() {
        return executing;
    }

    /** Requests the worker answered with an error, by code. */
    public StatusCounts failed() {
        return failed;
    }

    /** Time requests waited in the queue. */
    public LatencyStats queueWait() {
        return queueWait;
    }

    /** Time from a worker taking a request to its outcome. */
    public LatencyStats execution() {
        return execution;
    }

    @Override
    public String toString() {
        return "RosServerStats{admitted="
                + admitted
                + ", rejectedFull="
                + rejectedFull
                + ", rejectedUnknownMethod="
                + rejectedUnknownMethod
                + ", rejectedUnauthenticated="
                + rejectedUnauthenticated
                + ", dispatched="
                + dispatched
                + ", cancelledQueued="
                + cancelledQueued
                + ", expiredQueued="
                + expiredQueued
                + ", completed="
                + completed
                + ", discardedResults="
                + discardedResults
                + ", queueDepth="
                + queueDepth
                + ", executing="
                + executing
                + ", failed="
                + failed
                + ", queueWait="
                + queueWait
                + ", execution="
                + execution
                + '}';
    }
}
