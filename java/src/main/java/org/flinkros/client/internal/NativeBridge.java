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
import org.flinkros.client.RosServerRequest;
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

    // ---- client -------------------------------------------------------------------------------

    /**
     * Creates a client from options given as {@code [name, value, ...]} with the names of {@code
     * options.properties}; returns its handle.
     */
    public static native long clientCreate(String[] options);

    /** The options the client runs with, every default filled in: {@code [name, value, ...]}. */
    public static native String[] clientOptions(long handle);

    /** Replaces the client's endpoint set; throws {@code RosException} on a malformed address. */
    public static native void clientUpdateEndpoints(long handle, String[] endpoints);

    /** The client's endpoint set. */
    public static native String[] clientEndpoints(long handle);

    /**
     * Starts a call; its outcome arrives through {@link #complete}. A timeout of 0 means the
     * client's default. Returns the call's id for {@link #clientAbort}.
     */
    public static native long clientCall(
            long handle, String method, byte[] payload, long timeoutMillis, PendingCall call);

    /** Aborts a call whose future was cancelled; an instance drops it if still queued. */
    public static native void clientAbort(long handle, long callId);

    /**
     * Asks every instance to drop the queued requests of {@code clientId} with epochs below {@code
     * belowEpoch}; the count arrives through {@code call} as 8 big-endian bytes.
     */
    public static native void clientCancelEpochs(
            long handle, String clientId, long belowEpoch, PendingCall call);

    /** The client's stats: values named by {@link #clientStatsNames()}. */
    public static native long[] clientStats(long handle);

    /** The names of the values of {@link #clientStats}, in their order. */
    static native String[] clientStatsNames();

    /** Fails calls in flight with CANCELLED, waits for them to complete, stops the client. */
    public static native void clientClose(long handle);

    /** Frees the client's memory; closes it first if needed. */
    public static native void clientFree(long handle);

    // ---- server -------------------------------------------------------------------------------

    /**
     * Starts a server from options given as {@code [name, value, ...]} with the names of {@code
     * options.properties}, and its methods; returns its handle.
     */
    public static native long serverStart(String[] options, String[] methods);

    /** The options the server runs with, every default filled in: {@code [name, value, ...]}. */
    public static native String[] serverOptions(long handle);

    /** The server's stats: values named by {@link #serverStatsNames()}. */
    public static native long[] serverStats(long handle);

    /** The names of the values of {@link #serverStats}, in their order. */
    static native String[] serverStatsNames();

    /** The port the server listens on. */
    public static native int serverPort(long handle);

    /** Waits up to {@code timeoutMillis} for requests and takes at most {@code max}. */
    public static native RosServerRequest[] serverPoll(long handle, int max, long timeoutMillis);

    /** Answers a request with a result; false if its caller is gone. */
    public static native boolean serverComplete(long handle, long id, byte[] result);

    /** Answers a request with an error; false if its caller is gone. */
    public static native boolean serverFail(long handle, long id, int code, String message);

    /** Stops accepting requests, answers pending ones UNAVAILABLE, closes the listener. */
    public static native void serverClose(long handle);

    /** Frees the server's memory; closes it first if needed. */
    public static native void serverFree(long handle);

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

    // ---- test hooks ---------------------------------------------------------------------------

    /** Panics inside a native method; the panic must surface as a {@code RosException}. */
    public static native void testOnlyPanic(String message);

    /** Panics inside a runtime task; the call must complete exceptionally with INTERNAL. */
    public static native void testOnlyPanicInTask(String message, PendingCall call);

    /** Emits {@code count} native log events at {@code level} (1 = ERROR … 5 = TRACE). */
    public static native void testOnlyLog(int level, int count, String message);
}
