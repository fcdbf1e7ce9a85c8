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

import org.flinkros.connector.RosDescriptor;
import org.flinkros.connector.RosServices;
import org.flinkros.connector.RpcOperator;

import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.configuration.ExternalResourceOptions;
import org.apache.flink.configuration.JobManagerOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Collections;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Settings that undo a service, and resources a cluster cannot offer. */
class ConfigurationChecksTest {
    private static final RpcOperator ECHO = (method, payload) -> payload;

    @Test
    void theDefaultsRaiseNothing() {
        assertThat(ConfigurationChecks.findings(new Configuration())).isEmpty();
    }

    @Test
    void eachHarmfulSettingIsNamed() {
        Configuration config = new Configuration();
        config.set(JobManagerOptions.SCHEDULER, JobManagerOptions.SchedulerType.Adaptive);
        config.set(JobManagerOptions.EXECUTION_FAILOVER_STRATEGY, "full");
        config.set(ExecutionOptions.RUNTIME_MODE, RuntimeExecutionMode.BATCH);
        List<String> findings = ConfigurationChecks.findings(config);
        assertThat(findings).hasSize(3);
        assertThat(findings.get(0)).contains("jobmanager.scheduler");
        assertThat(findings.get(1)).contains("jobmanager.execution.failover-strategy: full");
        assertThat(findings.get(2)).contains("restart-strategy.type");

        config.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        assertThat(ConfigurationChecks.findings(config)).hasSize(2);
    }

    @Test
    void alignedCheckpointsAreFlagged() {
        Configuration config = new Configuration();
        config.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, Duration.ofSeconds(10));
        assertThat(ConfigurationChecks.findings(config))
                .singleElement()
                .satisfies(
                        f -> assertThat(f).contains(CheckpointingOptions.ENABLE_UNALIGNED.key()));
        config.set(CheckpointingOptions.ENABLE_UNALIGNED, true);
        assertThat(ConfigurationChecks.findings(config)).isEmpty();
    }

    @Test
    void gpusThatTheClusterDoesNotDeclareFailNamingTheResource() {
        assertThatThrownBy(() -> ConfigurationChecks.checkGpus(new Configuration(), true, "m", 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("asks for 1 GPU(s) per instance")
                .hasMessageContaining("no external resource 'gpu'")
                .hasMessageContaining("external-resources: gpu")
                .hasMessageContaining("external-resource.gpu.amount");

        Configuration oneGpu = new Configuration();
        oneGpu.set(
                ExternalResourceOptions.EXTERNAL_RESOURCE_LIST, Collections.singletonList("gpu"));
        oneGpu.setString("external-resource.gpu.amount", "1");
        assertThat(ConfigurationChecks.checkGpus(oneGpu, false, "m", 1)).isTrue();
        assertThatThrownBy(() -> ConfigurationChecks.checkGpus(oneGpu, false, "m", 2))
                .hasMessageContaining("declares 1 of the external resource 'gpu'");

        // A remote cluster whose client configuration is silent cannot be checked.
        assertThat(ConfigurationChecks.checkGpus(new Configuration(), false, "m", 1)).isFalse();
        assertThat(ConfigurationChecks.checkGpus(new Configuration(), true, "m", 0)).isTrue();
    }

    @Test
    void addingAGpuServiceToALocalClusterWithoutGpusFails() {
        StreamExecutionEnvironment local =
                StreamExecutionEnvironment.createLocalEnvironment(1, new Configuration());
        assertThatThrownBy(
                        () ->
                                RosServices.add(
                                        local,
                                        RosDescriptor.builder("on-gpu", ECHO)
                                                .cpuCores(1)
                                                .taskHeapMemoryMb(64)
                                                .gpus(1)
                                                .build()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'on-gpu'")
                .hasMessageContaining("no external resource 'gpu'");
    }
}
