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

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A local environment's cluster gets slots for the data plane and every service instance. */
class LocalClusterSlotsTest {
    private static final RpcOperator ECHO = (method, payload) -> payload;

    private static int slots(StreamExecutionEnvironment env) {
        return env.getConfiguration().get(TaskManagerOptions.NUM_TASK_SLOTS);
    }

    @Test
    void sizesTheLocalClusterForTheDataPlaneAndEveryInstance() {
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.createLocalEnvironment(3, new Configuration());
        RosServices.add(env, RosDescriptor.builder("a", ECHO).parallelism(2).build());
        assertThat(slots(env)).isEqualTo(3 + 2);
        RosServices.add(env, RosDescriptor.builder("b", ECHO).parallelism(4).build());
        assertThat(slots(env)).isEqualTo(3 + 2 + 4);
        LocalClusterSlots.fitDataPlane(env, 5);
        assertThat(slots(env)).isEqualTo(5 + 2 + 4);
    }

    @Test
    void spreadsTheSlotsOverSeveralLocalTaskManagers() {
        Configuration config = new Configuration();
        config.set(TaskManagerOptions.MINI_CLUSTER_NUM_TASK_MANAGERS, 2);
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.createLocalEnvironment(2, config);
        RosServices.add(env, RosDescriptor.builder("a", ECHO).parallelism(3).build());
        assertThat(slots(env)).isEqualTo(3);
    }

    @Test
    void tooFewSlotsSetByTheUserFailNamingTheNumberToSet() {
        Configuration config = new Configuration();
        config.set(TaskManagerOptions.NUM_TASK_SLOTS, 4);
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.createLocalEnvironment(4, config);
        assertThatThrownBy(
                        () ->
                                RosServices.add(
                                        env,
                                        RosDescriptor.builder("a", ECHO).parallelism(2).build()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("4 task slots")
                .hasMessageContaining("needs 6")
                .hasMessageContaining("'taskmanager.numberOfTaskSlots' to at least 6");
        config.set(TaskManagerOptions.NUM_TASK_SLOTS, 6);
        StreamExecutionEnvironment enough =
                StreamExecutionEnvironment.createLocalEnvironment(4, config);
        RosServices.add(enough, RosDescriptor.builder("a", ECHO).parallelism(2).build());
        assertThat(slots(enough)).isEqualTo(6);
    }
}
