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
        assertThat(descriptor.getUid()).isEqualTo("ros-svc-embedder-v2");
        SlotSharingGroup group = descriptor.getSlotSharingGroup();
        assertThat(group.getName()).isEqualTo("ros-embedder-v2");
        assertThat(group.getCpuCores()).contains(2.5);
        assertThat(group.getTaskHeapMemory().map(m -> m.getMebiBytes())).contains(1024);
        assertThat(descriptor.getParallelism()).isEqualTo(3);
    }

    @Test
    void declaresNoResourceProfileByDefaultSoInstancesTakeOrdinarySlots() {
        RosDescriptor descriptor = RosDescriptor.builder("plain", ECHO).parallelism(2).build();
        assertThat(descriptor.hasResourceProfile()).isFalse();
        SlotSharingGroup group = descriptor.getSlotSharingGroup();
        assertThat(group.getName()).isEqualTo("ros-plain");
        assertThat(group.getCpuCores()).isEmpty();
        assertThat(group.getTaskHeapMemory()).isEmpty();
        assertThat(group.getExternalResources()).isEmpty();
        assertThat(descriptor.getMaxOpenAttempts()).isEqualTo(3);
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
        assertThat(gpu.getSlotSharingGroup().getExternalResources())
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
        assertThatThrownBy(() -> RosDescriptor.builder("ok", ECHO).queueCapacity(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("queueCapacity");
    }
}
