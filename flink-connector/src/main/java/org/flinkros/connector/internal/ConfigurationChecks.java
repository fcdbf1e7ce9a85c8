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
package org.flinkros.connector.internal;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.configuration.ExternalResourceOptions;
import org.apache.flink.configuration.JobManagerOptions;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.configuration.RestartStrategyOptions;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/**
 * Job settings that undo what a service is for, found when the service is added. Each finding is a
 * sentence naming the option to change.
 */
@Internal
public final class ConfigurationChecks {
    private static final String GPU = "gpu";

    private ConfigurationChecks() {}

    /**
     * Fails if the cluster cannot offer the GPUs a service asks for: when its configuration is
     * known ({@code localCluster}: this environment starts the cluster itself) or declares its
     * external resources. A remote cluster whose client configuration says nothing about them
     * cannot be checked here.
     *
     * @return whether the GPUs could be checked
     * @throws IllegalArgumentException naming the missing resource
     */
    public static boolean checkGpus(
            ReadableConfig config, boolean localCluster, String service, int gpusPerInstance) {
        if (gpusPerInstance == 0) {
            return true;
        }
        Optional<List<String>> declared =
                config.getOptional(ExternalResourceOptions.EXTERNAL_RESOURCE_LIST);
        if (!localCluster && !declared.isPresent()) {
            return false;
        }
        List<String> resources = declared.orElse(Collections.emptyList());
        String amountKey = ExternalResourceOptions.getAmountConfigOptionForResource(GPU);
        long amount =
                config.getOptional(ConfigOptions.key(amountKey).longType().noDefaultValue())
                        .orElse(0L);
        if (!resources.contains(GPU) || amount < gpusPerInstance) {
            throw new IllegalArgumentException(
                    "RpcOperator service '"
                            + service
                            + "' asks for "
                            + gpusPerInstance
                            + " GPU(s) per instance, but the cluster declares "
                            + (resources.contains(GPU)
                                    ? amount + " of the external resource '" + GPU + "'"
                                    : "no external resource '"
                                            + GPU
                                            + "' (external-resources: "
                                            + resources
                                            + ")")
                            + "; declare it with '"
                            + ExternalResourceOptions.EXTERNAL_RESOURCE_LIST.key()
                            + ": "
                            + GPU
                            + "' and '"
                            + amountKey
                            + "'");
        }
        return true;
    }

    /** What in {@code config} works against a service's isolation or progress. */
    public static List<String> findings(ReadableConfig config) {
        List<String> findings = new ArrayList<>();
        if (config.get(JobManagerOptions.SCHEDULER) == JobManagerOptions.SchedulerType.Adaptive) {
            findings.add(
                    "the adaptive scheduler restarts the whole job on any failure, the service"
                            + " and its model load included; set '"
                            + JobManagerOptions.SCHEDULER.key()
                            + ": Default' to restart only the failed region");
        }
        String failover = config.get(JobManagerOptions.EXECUTION_FAILOVER_STRATEGY);
        if (!"region".equalsIgnoreCase(failover)) {
            findings.add(
                    "'"
                            + JobManagerOptions.EXECUTION_FAILOVER_STRATEGY.key()
                            + ": "
                            + failover
                            + "' restarts the whole job on any failure; set it to 'region' so"
                            + " that the service and the data plane fail independently");
        }
        if (config.get(ExecutionOptions.RUNTIME_MODE) == RuntimeExecutionMode.BATCH
                && !config.getOptional(RestartStrategyOptions.RESTART_STRATEGY).isPresent()) {
            findings.add(
                    "BATCH jobs have no restart strategy unless one is set, so a failed service"
                            + " instance fails the job; set '"
                            + RestartStrategyOptions.RESTART_STRATEGY.key()
                            + "'");
        }
        boolean checkpointing =
                config.getOptional(CheckpointingOptions.CHECKPOINTING_INTERVAL)
                        .map(Duration::toMillis)
                        .filter(interval -> interval > 0)
                        .isPresent();
        if (checkpointing && !config.get(CheckpointingOptions.ENABLE_UNALIGNED)) {
            findings.add(
                    "with aligned checkpoints, a data plane backpressured by the service holds"
                            + " every checkpoint back until its queued records are through; set '"
                            + CheckpointingOptions.ENABLE_UNALIGNED.key()
                            + ": true'");
        }
        return findings;
    }
}
