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
package org.flinkros.client.internal;

import org.flinkros.client.RosException;
import org.flinkros.client.StatusCode;

import org.junit.jupiter.api.Test;

import java.net.URL;
import java.net.URLClassLoader;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Loading the native library, its version check, and panics at the JNI boundary. */
class NativeLibraryTest {

    @Test
    void panicInANativeMethodBecomesARosException() {
        NativeBridge.ensureLoaded();
        assertThatThrownBy(() -> NativeTestHooks.panic("boom in entry point"))
                .isInstanceOfSatisfying(
                        RosException.class,
                        e -> {
                            assertThat(e.code()).isEqualTo(StatusCode.INTERNAL);
                            assertThat(e.getMessage())
                                    .contains("native panic: boom in entry point")
                                    .containsPattern("\\(at [^)]*testing\\.rs:\\d+\\)");
                        });
        // The JVM and the library are still fine.
        assertThatThrownBy(() -> NativeTestHooks.panic("again")).isInstanceOf(RosException.class);
    }

    @Test
    void panicInARuntimeTaskFailsTheCallWithInternal() throws Exception {
        PendingCall call = new PendingCall(ForkJoinPool.commonPool());
        NativeTestHooks.panicInTask("boom in task", call);
        assertThatThrownBy(() -> call.future().get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause()
                .isInstanceOfSatisfying(
                        RosException.class,
                        e -> {
                            assertThat(e.code()).isEqualTo(StatusCode.INTERNAL);
                            assertThat(e.getMessage())
                                    .contains("boom in task")
                                    .containsPattern("\\(at [^)]*testing\\.rs:\\d+\\)");
                        });

        PendingCall fine = new PendingCall(ForkJoinPool.commonPool());
        NativeTestHooks.panicInTask("", fine);
        assertThat(fine.future().get(10, TimeUnit.SECONDS)).isEmpty();
    }

    @Test
    void versionMismatchIsRefusedNamingBothVersions() {
        NativeLibrary.checkVersion("1.2.0-SNAPSHOT", "1.2.0", "test");
        NativeLibrary.checkVersion("1.2.0", "1.2.0", "test");
        assertThatThrownBy(() -> NativeLibrary.checkVersion("1.3.0", "1.2.0", "/tmp/lib.so"))
                .isInstanceOf(UnsatisfiedLinkError.class)
                .hasMessageContaining("1.2.0")
                .hasMessageContaining("1.3.0")
                .hasMessageContaining("/tmp/lib.so");
    }

    @Test
    void bundledLibraryMatchesThisJar() {
        NativeBridge.ensureLoaded();
        assertThat(NativeBridge.nativeVersion())
                .isEqualTo(NativeLibrary.javaVersion().replace("-SNAPSHOT", ""));
    }

    @Test
    void platformNamesFollowTheBuildsClassifier() {
        String platform = NativeLibrary.platform();
        assertThat(platform).matches("(linux|osx|windows)-(x86_64|aarch_64)");
        assertThat(
                        NativeLibrary.class.getResource(
                                "/native/" + platform + "/" + System.mapLibraryName("ros_jni")))
                .as("the build packs the library for this platform")
                .isNotNull();
    }

    /**
     * A Flink job's classes come from a child-first class loader of their own; the library must
     * load there too, while another loader (this test's) already holds a copy.
     */
    @Test
    void loadsAndWorksInAnIsolatedClassLoader() throws Exception {
        NativeBridge.ensureLoaded();
        URL classes = NativeBridge.class.getProtectionDomain().getCodeSource().getLocation();
        URL tests = IsolatedRoundTrip.class.getProtectionDomain().getCodeSource().getLocation();
        URL slf4j =
                org.slf4j.LoggerFactory.class.getProtectionDomain().getCodeSource().getLocation();
        try (URLClassLoader isolated =
                new URLClassLoader(
                        new URL[] {classes, tests, slf4j}, ClassLoader.getPlatformClassLoader())) {
            Class<?> probe = Class.forName(IsolatedRoundTrip.class.getName(), true, isolated);
            assertThat(probe.getClassLoader()).isSameAs(isolated);
            Object result = probe.getMethod("run").invoke(null);
            assertThat(result).isEqualTo("ping|pong");
        }
    }
}
