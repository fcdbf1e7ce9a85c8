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

import org.apache.flink.annotation.Internal;
import org.apache.flink.annotation.PublicEvolving;

import java.util.Map;

/** What a {@link RosServer} has done since it started: a snapshot. */
@PublicEvolving
public final class RosServerStats {
    private final long admitted;
    private final long rejectedFull;
    private final long rejectedUnknownMethod;
    private final long rejectedUnauthenticated;
    private final long rejectedConnections;
    private final long handshakeTimeouts;
    private final long dispatched;
    private final long batches;
    private final long cancelledQueued;
    private final long expiredQueued;
    private final long completed;
    private final long discardedResults;
    private final long queueDepth;
    private final long executing;
    private final long cacheHits;
    private final long joined;
    private final long keyConflicts;
    private final long cacheEvictions;
    private final long cacheEntries;
    private final long cacheBytes;
    private final long orphansKept;
    private final StatusCounts failed;
    private final LatencyStats queueWait;
    private final LatencyStats execution;

    RosServerStats(NamedStats stats) {
        this.admitted = stats.get("admitted");
        this.rejectedFull = stats.get("rejectedFull");
        this.rejectedUnknownMethod = stats.get("rejectedUnknownMethod");
        this.rejectedUnauthenticated = stats.get("rejectedUnauthenticated");
        this.rejectedConnections = stats.get("rejectedConnections");
        this.handshakeTimeouts = stats.get("handshakeTimeouts");
        this.dispatched = stats.get("dispatched");
        this.batches = stats.get("batches");
        this.cancelledQueued = stats.get("cancelledQueued");
        this.expiredQueued = stats.get("expiredQueued");
        this.completed = stats.get("completed");
        this.discardedResults = stats.get("discardedResults");
        this.queueDepth = stats.get("queueDepth");
        this.executing = stats.get("executing");
        this.cacheHits = stats.get("cacheHits");
        this.joined = stats.get("joined");
        this.keyConflicts = stats.get("keyConflicts");
        this.cacheEvictions = stats.get("cacheEvictions");
        this.cacheEntries = stats.get("cacheEntries");
        this.cacheBytes = stats.get("cacheBytes");
        this.orphansKept = stats.get("orphansKept");
        this.failed = new StatusCounts(stats, "failed");
        this.queueWait = new LatencyStats(stats, "queueWait");
        this.execution = new LatencyStats(stats, "execution");
    }

    /**
     * The stats of a server that another process runs (a Python-hosted service instance), by the
     * names of the native runtime's server stats ({@code admitted}, {@code failed.INTERNAL}, {@code
     * queueWait.p99Micros}, ...).
     *
     * @param source what reported them, for the error a missing name raises
     * @throws IllegalStateException naming the first stat that {@code values} lacks
     */
    @Internal
    public static RosServerStats of(Map<String, Long> values, String source) {
        return new RosServerStats(
                NamedStats.of(
                        values,
                        source,
                        "its flink-ros runtime does not match this flink-ros jar's version"));
    }

    /** The stats of a server that has done nothing yet: every value 0. */
    @Internal
    public static RosServerStats empty() {
        return new RosServerStats(NamedStats.zero());
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

    /**
     * Connections closed on arrival because the instance held {@link
     * RosServerOptions#maxConnections()}.
     */
    public long rejectedConnections() {
        return rejectedConnections;
    }

    /**
     * Connections closed because they did not start HTTP/2 within {@link
     * RosServerOptions#handshakeTimeout()}.
     */
    public long handshakeTimeouts() {
        return handshakeTimeouts;
    }

    /** Requests taken by workers. */
    public long dispatched() {
        return dispatched;
    }

    /** Batches taken by workers; {@code dispatched() / batches()} is the mean batch size. */
    public long batches() {
        return batches;
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

    /** Requests with an identity key answered from the result cache, without running. */
    public long cacheHits() {
        return cacheHits;
    }

    /** Requests with an identity key that joined an equal request already queued or running. */
    public long joined() {
        return joined;
    }

    /** Requests whose identity key was held by a different payload; they ran on their own. */
    public long keyConflicts() {
        return keyConflicts;
    }

    /** Results the cache dropped for its bounds or their time to live. */
    public long cacheEvictions() {
        return cacheEvictions;
    }

    /** Results in the cache now. */
    public long cacheEntries() {
        return cacheEntries;
    }

    /** Bytes of results in the cache now. */
    public long cacheBytes() {
        return cacheBytes;
    }

    /** Requests with an identity key kept queued after their caller went away (orphan grace). */
    public long orphansKept() {
        return orphansKept;
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
                + ", rejectedConnections="
                + rejectedConnections
                + ", handshakeTimeouts="
                + handshakeTimeouts
                + ", dispatched="
                + dispatched
                + ", batches="
                + batches
                + ", cancelledQueued="
                + cancelledQueued
                + ", expiredQueued="
                + expiredQueued
                + ", completed="
                + completed
                + ", discardedResults="
                + discardedResults
                + ", cacheHits="
                + cacheHits
                + ", joined="
                + joined
                + ", keyConflicts="
                + keyConflicts
                + ", cacheEvictions="
                + cacheEvictions
                + ", cacheEntries="
                + cacheEntries
                + ", cacheBytes="
                + cacheBytes
                + ", orphansKept="
                + orphansKept
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
