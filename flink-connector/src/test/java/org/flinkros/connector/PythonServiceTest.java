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

import org.apache.flink.util.InstantiationUtil;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Collections;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Declaring a Python service: its class reference, process settings and descriptor. */
class PythonServiceTest {

    @Test
    void namesTheClassAsModuleColonClass() {
        assertThat(PythonService.of("models:Square").serviceClass()).isEqualTo("models:Square");
        assertThat(PythonService.of(" my_models.vision:Classifier ").serviceClass())
                .isEqualTo("my_models.vision:Classifier");
        assertThat(PythonService.of("models:Outer.Inner").serviceClass())
                .isEqualTo("models:Outer.Inner");
        for (String bad :
                new String[] {
                    "models",
                    "models:",
                    ":Square",
                    "models.Square",
                    "my-models:Square",
                    "models:Square:Other",
                    "1models:Square",
                    "models:Square()",
                    ""
                }) {
            assertThatThrownBy(() -> PythonService.of(bad))
                    .as(bad)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("'module:Class'")
                    .hasMessageContaining("got '" + bad + "'");
        }
        assertThatThrownBy(() -> PythonService.of(null))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void hasDefaultsAndValidatesItsSettings() {
        PythonService defaults = PythonService.of("models:Square");
        assertThat(defaults.executable()).isEmpty();
        assertThat(defaults.environment()).isEmpty();
        assertThat(defaults.workingDirectory()).isEmpty();
        assertThat(defaults.pythonPath()).isEmpty();
        assertThat(defaults.startupTimeout()).isEqualTo(Duration.ofMinutes(10));
        assertThat(defaults.stopTimeout()).isEqualTo(Duration.ofSeconds(10));

        PythonService.Builder builder = PythonService.builder("models:Square");
        assertThatThrownBy(() -> builder.environment("FLINKROS_TOKEN", "x"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'FLINKROS_TOKEN' is reserved");
        assertThatThrownBy(() -> builder.environment("A=B", "x"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'A=B'");
        assertThatThrownBy(() -> builder.executable(" "))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("executable");
        assertThatThrownBy(() -> builder.pythonPath(""))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("pythonPath");
        assertThatThrownBy(() -> builder.stopTimeout(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("stopTimeout must be positive");
        assertThatThrownBy(() -> builder.startupTimeout(Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("startupTimeout must be positive");
    }

    @Test
    void isSerializableAndShowsNoEnvironmentValue() throws Exception {
        PythonService python =
                PythonService.builder("models:Square")
                        .executable("/opt/venv/bin/python")
                        .environment("API_KEY", "s3cr3t")
                        .environment(Collections.singletonMap("MODEL_DIR", "/models"))
                        .workingDirectory("/work")
                        .pythonPath("/opt/a", "/opt/b")
                        .startupTimeout(Duration.ofMinutes(1))
                        .stopTimeout(Duration.ofSeconds(3))
                        .build();
        PythonService copy =
                InstantiationUtil.clone(python, PythonServiceTest.class.getClassLoader());
        assertThat(copy).isEqualTo(python).hasSameHashCodeAs(python);
        assertThat(copy.executable()).contains("/opt/venv/bin/python");
        assertThat(copy.environment())
                .containsExactly(
                        org.assertj.core.api.Assertions.entry("API_KEY", "s3cr3t"),
                        org.assertj.core.api.Assertions.entry("MODEL_DIR", "/models"));
        assertThat(copy.pythonPath()).containsExactly("/opt/a", "/opt/b");
        assertThat(python.toString()).contains("API_KEY").doesNotContain("s3cr3t");
    }

    @Test
    void aDescriptorOfAPythonServiceHasEverythingButAnOperator() {
        PythonService python = PythonService.of("models:Square");
        RosDescriptor descriptor =
                RosDescriptor.builder("py-square", python)
                        .parallelism(2)
                        .cpuCores(1)
                        .taskHeapMemoryMb(512)
                        .gpus(1)
                        .maxOpenAttempts(5)
                        .build();
        assertThat(descriptor.python()).isSameAs(python);
        assertThat(descriptor.operator()).isNull();
        assertThat(descriptor.uid()).isEqualTo("ros-svc-py-square");
        assertThat(descriptor.slotSharingGroup().getExternalResources())
                .containsEntry(RosDescriptor.GPU_RESOURCE, 1.0);
        assertThat(descriptor.maxOpenAttempts()).isEqualTo(5);
        assertThat(descriptor.toString()).contains("python=PythonService{models:Square");
        assertThat(RosDescriptor.builder("java", (method, payload) -> payload).build().python())
                .isNull();

        assertThat(RosDescriptor.builder("py-square", python).concurrency(2).build().concurrency())
                .isEqualTo(2);
    }

    @Test
    void theJobsExecutableIsTheDefaultUnlessTheServiceNamesOne() {
        RosDescriptor plain =
                RosDescriptor.builder("py", PythonService.of("m:C"))
                        .parallelism(2)
                        .cpuCores(1)
                        .taskHeapMemoryMb(64)
                        .managedMemoryMb(32)
                        .maxOpenAttempts(4)
                        .build();
        RosDescriptor chosen =
                RosDescriptor.builder(
                                "py",
                                PythonService.builder("m:C").executable("/own/python").build())
                        .parallelism(3)
                        .build();
        RosDescriptor defaulted = plain.withDefaultPythonExecutable("/job/python");
        assertThat(defaulted.python().executable()).contains("/job/python");
        assertThat(defaulted.toString())
                .as("everything else is kept")
                .isEqualTo(
                        plain.toString().replace("executable=default", "executable=/job/python"));
        RosDescriptor kept = chosen.withDefaultPythonExecutable("/job/python");
        assertThat(kept.python().executable()).contains("/own/python");
        assertThat(kept.parallelism()).isEqualTo(3);
        RosDescriptor java = RosDescriptor.builder("java", (method, payload) -> payload).build();
        assertThat(java.withDefaultPythonExecutable("/job/python")).isSameAs(java);
    }
}
