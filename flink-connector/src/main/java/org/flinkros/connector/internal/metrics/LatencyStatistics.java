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

import org.apache.flink.annotation.Internal;
import org.apache.flink.metrics.HistogramStatistics;

import java.time.Duration;

/**
 * Statistics of a native latency histogram, in microseconds. The native side keeps the full
 * histogram; this view offers the quantiles it reports (0.5, 0.9, 0.99, 0.999), answering other
 * quantiles with the next one above.
 */
@Internal
final class LatencyStatistics extends HistogramStatistics {
    private final LatencyStats stats;

    LatencyStatistics(LatencyStats stats) {
        this.stats = stats;
    }

    private static long micros(Duration duration) {
        return duration.toNanos() / 1000;
    }

    @Override
    public double getQuantile(double quantile) {
        Duration value;
        if (quantile <= 0.5) {
            value = stats.p50();
        } else if (quantile <= 0.9) {
            value = stats.p90();
        } else if (quantile <= 0.99) {
            value = stats.p99();
        } else if (quantile <= 0.999) {
            value = stats.p999();
        } else {
            value = stats.max();
        }
        return micros(value);
    }

    @Override
    public long[] getValues() {
        return new long[] {
            micros(stats.min()),
            micros(stats.p50()),
            micros(stats.p90()),
            micros(stats.p99()),
            micros(stats.p999()),
            micros(stats.max())
        };
    }

    @Override
    public int size() {
        return (int) Math.min(Integer.MAX_VALUE, stats.count());
    }

    @Override
    public double getMean() {
        return micros(stats.mean());
    }

    @Override
    public double getStdDev() {
        return micros(stats.stdDev());
    }

    @Override
    public long getMax() {
        return micros(stats.max());
    }

    @Override
    public long getMin() {
        return micros(stats.min());
    }
}
