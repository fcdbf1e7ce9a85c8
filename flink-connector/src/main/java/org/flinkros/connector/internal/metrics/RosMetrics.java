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
package org.flinkros.connector.internal.metrics;

import org.flinkros.client.LatencyStats;
import org.flinkros.client.RosClientStats;
import org.flinkros.client.RosServerStats;
import org.flinkros.client.StatusCode;
import org.flinkros.client.StatusCounts;

import org.apache.flink.annotation.Internal;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;

import java.util.Locale;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Flink metrics of RpcOperator services, read from the native runtime's stats snapshots. All live
 * in a {@value #GROUP} group: under the calling operator for clients, under the service's source
 * for instances.
 */
@Internal
public final class RosMetrics {
    /** The metric group name. */
    public static final String GROUP = "ros";

    /** A snapshot is reused for this long, so one report reads the runtime once. */
    private static final long SNAPSHOT_MAX_AGE_MILLIS = 200;

    private RosMetrics() {}

    /** Registers a client's metrics: calls, failures by code, retries, in-flight, latency. */
    public static void registerClient(MetricGroup parent, Supplier<RosClientStats> stats) {
        Snapshot<RosClientStats> snapshot = new Snapshot<>(stats);
        MetricGroup group = parent.addGroup(GROUP);
        gauge(group, "calls", snapshot, RosClientStats::calls);
        gauge(group, "succeeded", snapshot, RosClientStats::succeeded);
        gauge(group, "retries", snapshot, RosClientStats::retries);
        gauge(group, "retriesRefused", snapshot, RosClientStats::retriesRefused);
        gauge(group, "ejections", snapshot, RosClientStats::ejections);
        gauge(group, "inFlight", snapshot, RosClientStats::inFlight);
        failures(group, snapshot, RosClientStats::failed);
        group.histogram("latencyMicros", new LatencyHistogram(snapshot, RosClientStats::latency));
    }

    /**
     * Registers an instance's metrics: queue depth, refusals, cancellations, queue wait and
     * execution time, batch sizes, and the result cache and single flight of keyed requests.
     */
    public static void registerServer(
            MetricGroup parent, Supplier<RosServerStats> stats, Histogram batchSizes) {
        Snapshot<RosServerStats> snapshot = new Snapshot<>(stats);
        MetricGroup group = parent.addGroup(GROUP);
        gauge(group, "queueDepth", snapshot, RosServerStats::queueDepth);
        gauge(group, "executing", snapshot, RosServerStats::executing);
        gauge(group, "admitted", snapshot, RosServerStats::admitted);
        gauge(group, "rejectedFull", snapshot, RosServerStats::rejectedFull);
        gauge(group, "rejectedUnknownMethod", snapshot, RosServerStats::rejectedUnknownMethod);
        gauge(group, "rejectedUnauthenticated", snapshot, RosServerStats::rejectedUnauthenticated);
        gauge(group, "rejectedConnections", snapshot, RosServerStats::rejectedConnections);
        gauge(group, "handshakeTimeouts", snapshot, RosServerStats::handshakeTimeouts);
        gauge(group, "cancelled", snapshot, RosServerStats::cancelledQueued);
        gauge(group, "expired", snapshot, RosServerStats::expiredQueued);
        gauge(group, "completed", snapshot, RosServerStats::completed);
        gauge(group, "discardedResults", snapshot, RosServerStats::discardedResults);
        gauge(group, "cacheHits", snapshot, RosServerStats::cacheHits);
        gauge(group, "joined", snapshot, RosServerStats::joined);
        gauge(group, "keyConflicts", snapshot, RosServerStats::keyConflicts);
        gauge(group, "cacheEvictions", snapshot, RosServerStats::cacheEvictions);
        gauge(group, "cacheEntries", snapshot, RosServerStats::cacheEntries);
        gauge(group, "cacheBytes", snapshot, RosServerStats::cacheBytes);
        gauge(group, "orphansKept", snapshot, RosServerStats::orphansKept);
        failures(group, snapshot, RosServerStats::failed);
        group.histogram(
                "queueWaitMicros", new LatencyHistogram(snapshot, RosServerStats::queueWait));
        group.histogram(
                "executionMicros", new LatencyHistogram(snapshot, RosServerStats::execution));
        group.histogram("batchSize", batchSizes);
    }

    private static <S> void gauge(
            MetricGroup group, String name, Snapshot<S> snapshot, Function<S, Long> value) {
        group.gauge(name, (Gauge<Long>) () -> value.apply(snapshot.get()));
    }

    private static <S> void failures(
            MetricGroup group, Snapshot<S> snapshot, Function<S, StatusCounts> counts) {
        MetricGroup failed = group.addGroup("failed");
        for (StatusCode code : StatusCode.values()) {
            failed.gauge(
                    code.name().toLowerCase(Locale.ROOT),
                    (Gauge<Long>) () -> counts.apply(snapshot.get()).get(code));
        }
    }

    /** The latest stats, refreshed when older than {@link #SNAPSHOT_MAX_AGE_MILLIS}. */
    private static final class Snapshot<S> {
        private final Supplier<S> source;
        private S value;
        private long takenAt;

        Snapshot(Supplier<S> source) {
            this.source = source;
        }

        synchronized S get() {
            long now = System.currentTimeMillis();
            if (value == null || now - takenAt > SNAPSHOT_MAX_AGE_MILLIS) {
                value = source.get();
                takenAt = now;
            }
            return value;
        }
    }

    /** A Flink view of a native latency histogram (microseconds); recording happens natively. */
    private static final class LatencyHistogram implements Histogram {
        private final Supplier<LatencyStats> stats;

        <S> LatencyHistogram(Snapshot<S> snapshot, Function<S, LatencyStats> latency) {
            this.stats = () -> latency.apply(snapshot.get());
        }

        @Override
        public void update(long value) {
            throw new UnsupportedOperationException("recorded by the native runtime");
        }

        @Override
        public long getCount() {
            return stats.get().count();
        }

        @Override
        public org.apache.flink.metrics.HistogramStatistics getStatistics() {
            return new LatencyStatistics(stats.get());
        }
    }
}
