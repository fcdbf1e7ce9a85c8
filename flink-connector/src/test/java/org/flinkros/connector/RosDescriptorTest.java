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
package org.flinkros.connector;

import org.apache.flink.api.common.operators.SlotSharingGroup;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Declaring a service: names, resources and their validation. */
class RosDescriptorTest {
    private static final RpcOperator ECHO = (method, payload) -> payload;

    @Test
    void derivesUidAndSlotSharingGroupFromTheName() {
        RosDescriptor descriptor =
                RosDescriptor.builder("embedder-v2", ECHO)
                        .parallelism(3)
                        .cpuCores(2.5)
                        .taskHeapMemoryMb(1024)
                        .build();
        assertThat(descriptor.uid()).isEqualTo("ros-svc-embedder-v2");
        SlotSharingGroup group = descriptor.slotSharingGroup();
        assertThat(group.getName()).isEqualTo("ros-embedder-v2");
        assertThat(group.getCpuCores()).contains(2.5);
        assertThat(group.getTaskHeapMemory().map(m -> m.getMebiBytes())).contains(1024);
        assertThat(descriptor.parallelism()).isEqualTo(3);
    }

    @Test
    void declaresNoResourceProfileByDefaultSoInstancesTakeOrdinarySlots() {
        RosDescriptor descriptor = RosDescriptor.builder("plain", ECHO).parallelism(2).build();
        assertThat(descriptor.hasResourceProfile()).isFalse();
        SlotSharingGroup group = descriptor.slotSharingGroup();
        assertThat(group.getName()).isEqualTo("ros-plain");
        assertThat(group.getCpuCores()).isEmpty();
        assertThat(group.getTaskHeapMemory()).isEmpty();
        assertThat(group.getExternalResources()).isEmpty();
        assertThat(descriptor.maxOpenAttempts()).isEqualTo(3);
    }

    @Test
    void declaredResourcesNeedCpuAndHeapNamingTheFix() {
        assertThatThrownBy(() -> RosDescriptor.builder("on-gpu", ECHO).gpus(1).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'on-gpu'")
                .hasMessageContaining("gpus=1")
                .hasMessageContaining(".cpuCores(..) and .taskHeapMemoryMb(..)");
        RosDescriptor gpu =
                RosDescriptor.builder("on-gpu", ECHO)
                        .cpuCores(1)
                        .taskHeapMemoryMb(256)
                        .gpus(1)
                        .build();
        assertThat(gpu.hasResourceProfile()).isTrue();
        assertThat(gpu.slotSharingGroup().getExternalResources())
                .containsEntry(RosDescriptor.GPU_RESOURCE, 1.0);
    }

    @Test
    void rejectsInvalidValuesNamingThem() {
        assertThatThrownBy(() -> RosDescriptor.builder("has space", ECHO))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'has space'");
        assertThatThrownBy(() -> RosDescriptor.builder("", ECHO))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> RosDescriptor.builder("ok", ECHO).parallelism(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("parallelism")
                .hasMessageContaining("0");
        assertThatThrownBy(() -> RosDescriptor.builder("ok", ECHO).cpuCores(Double.NaN))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cpuCores");
        assertThatThrownBy(() -> RosDescriptor.builder("ok", ECHO).taskHeapMemoryMb(-5))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("-5");
        assertThatThrownBy(() -> RosDescriptor.builder("ok", ECHO).maxOpenAttempts(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxOpenAttempts");
        assertThatThrownBy(() -> RosDescriptor.builder("ok", ECHO).serverOptions(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessageContaining("serverOptions");
    }
}
