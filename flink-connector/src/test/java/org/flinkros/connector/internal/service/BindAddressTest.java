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
package org.flinkros.connector.internal.service;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.TaskManagerOptions;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An instance binds where it was told, else where its TaskManager binds, else where it is found.
 */
class BindAddressTest {

    @Test
    void serverOptionsComeFirst() {
        Configuration taskManager = new Configuration();
        taskManager.set(TaskManagerOptions.BIND_HOST, "10.0.0.7");
        assertThat(BindAddress.of("0.0.0.0", taskManager, "10.0.0.8")).isEqualTo("0.0.0.0");
    }

    @Test
    void thenTheTaskManagersBindAddress() {
        Configuration taskManager = new Configuration();
        taskManager.set(TaskManagerOptions.BIND_HOST, " 10.0.0.7 ");
        assertThat(BindAddress.of(null, taskManager, "10.0.0.8")).isEqualTo("10.0.0.7");
    }

    @Test
    void otherwiseTheAnnouncedAddressNeverAllInterfaces() {
        assertThat(BindAddress.of(null, new Configuration(), "10.0.0.8")).isEqualTo("10.0.0.8");
    }
}
