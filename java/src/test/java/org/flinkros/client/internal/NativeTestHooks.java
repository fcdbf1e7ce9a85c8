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

/**
 * Entry points that exist only in the test build of the native library (Cargo feature {@code
 * test-hooks}), which the build loads for this module's tests instead of the released one.
 */
public final class NativeTestHooks {
    private NativeTestHooks() {}

    static {
        NativeBridge.ensureLoaded();
    }

    /** Panics inside a native method; the panic must surface as a {@code RosException}. */
    static native void panic(String message);

    /** Panics inside a runtime task; the call must complete exceptionally with INTERNAL. */
    static native void panicInTask(String message, PendingCall call);

    /** Emits {@code count} native log events at {@code level} (1 = ERROR … 5 = TRACE). */
    static native void log(int level, int count, String message);

    /**
     * Writes a certificate authority ({@code ca.pem}) and a certificate it issued for {@code name}
     * ({@code instance.pem}, key {@code instance.key}) into {@code dir}.
     */
    public static native void writeTestPki(String dir, String name);
}
