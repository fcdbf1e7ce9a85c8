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

import org.apache.flink.annotation.Internal;

/**
 * The native methods of the runtime and the one method the runtime calls back. Handles are pointers
 * owned by {@code RosClient} and {@code RosServer}: {@code *Close} releases a handle's resources
 * (threads, sockets) and may be called again; {@code *Free} releases its memory and must be the
 * last call on it.
 */
@Internal
public final class NativeBridge {
    private NativeBridge() {}

    static {
        NativeLibrary.load();
    }

    /** Makes sure the library is loaded (and its version checked). */
    public static void ensureLoaded() {}

    /** The version of the native library (its Cargo package version). */
    static native String nativeVersion();

    // ---- logging ------------------------------------------------------------------------------

    /**
     * Waits up to {@code timeoutMillis} for native log events and takes at most {@code max}, as
     * {@code [level, target, message]} triples (level "1" = ERROR … "5" = TRACE).
     */
    static native String[] logDrain(int max, long timeoutMillis);

    /** Sets the most detailed native level forwarded: 0 = off, 1 = ERROR … 5 = TRACE. */
    static native void logLevel(int level);

    /** Native log events dropped because they were not drained fast enough. */
    static native long logDropped();

    // ---- upcall from the runtime --------------------------------------------------------------

    /**
     * Called by the runtime (on its own threads) with a call's outcome: a result, or a status code
     * and message. Never throws.
     */
    static void complete(PendingCall call, byte[] result, int code, String message) {
        call.complete(result, code, message);
    }

    /**
     * Called by the runtime with the outcomes of several calls at once, as {@link #complete} takes
     * each: {@code calls[i]} gets {@code results[i]}, or {@code codes[i]} and {@code messages[i]}.
     * The arrays are {@code Object[]} so that the runtime builds them without resolving more
     * classes. Never throws.
     */
    static void completeAll(Object[] calls, Object[] results, int[] codes, Object[] messages) {
        PendingCall.completeAll(calls, results, codes, messages);
    }

    /** Called by the runtime to build the exception a native method throws. */
    static RosException newException(int code, String message) {
        StatusCode status;
        try {
            status = StatusCode.fromValue(code);
        } catch (IllegalArgumentException unknown) {
            return new RosException(
                    StatusCode.INTERNAL, "unknown status code " + code + ": " + message);
        }
        return new RosException(status, message);
    }
}
