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
package org.flinkros.connector.testing;

import org.apache.flink.api.common.JobID;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.Metric;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.testutils.InMemoryReporter;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The metrics a MiniCluster's {@link InMemoryReporter} holds, summed over subtasks. */
public final class ReportedMetrics {
    private final InMemoryReporter reporter;

    public ReportedMetrics(InMemoryReporter reporter) {
        this.reporter = reporter;
    }

    /** The sum of the gauges named {@code metric} under operators named like {@code task}. */
    public long sumGauges(JobID job, String task, String metric) {
        long sum = 0;
        for (Metric gauge : existing(job, task, metric)) {
            sum += ((Number) ((Gauge<?>) gauge).getValue()).longValue();
        }
        return sum;
    }

    /** The sum of the counters named {@code metric} under operators named like {@code task}. */
    public long sumCounters(JobID job, String task, String metric) {
        long sum = 0;
        for (Metric counter : existing(job, task, metric)) {
            sum += ((org.apache.flink.metrics.Counter) counter).getCount();
        }
        return sum;
    }

    /**
     * The summed counts of the histograms named {@code metric} under operators like {@code task}.
     */
    public long histogramCounts(JobID job, String task, String metric) {
        long sum = 0;
        for (Metric histogram : existing(job, task, metric)) {
            sum += ((Histogram) histogram).getCount();
        }
        return sum;
    }

    /**
     * The metrics named {@code metric} (e.g. {@code ros.calls}) of operators whose name contains
     * {@code task}, over all subtasks and attempts of the job; none if not registered (yet).
     */
    public List<Metric> find(JobID job, String task, String metric) {
        List<Metric> found = new ArrayList<>();
        for (Map.Entry<MetricGroup, Map<String, Metric>> group :
                reporter.getMetricsByGroup().entrySet()) {
            Map<String, String> variables = group.getKey().getAllVariables();
            String operator = variables.getOrDefault("<operator_name>", "");
            if (!job.toString().equals(variables.get("<job_id>")) || !operator.contains(task)) {
                continue;
            }
            for (Map.Entry<String, Metric> entry : group.getValue().entrySet()) {
                if (group.getKey().getMetricIdentifier(entry.getKey()).endsWith("." + metric)) {
                    found.add(entry.getValue());
                }
            }
        }
        return found;
    }

    private List<Metric> existing(JobID job, String task, String metric) {
        List<Metric> found = find(job, task, metric);
        // A sum over no metric at all would pass any assertion that it is zero.
        assertThat(found).as("metrics %s of %s", metric, task).isNotEmpty();
        return found;
    }
}
