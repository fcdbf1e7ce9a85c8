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

    RosClientStats(NamedStats stats) {
        this.calls = stats.get("calls");
        this.succeeded = stats.get("succeeded");
        this.retries = stats.get("retries");
        this.retriesRefused = stats.get("retriesRefused");
        this.ejections = stats.get("ejections");
        this.inFlight = stats.get("inFlight");
        this.failed = new StatusCounts(stats, "failed");
        this.latency = new LatencyStats(stats, "latency");
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
