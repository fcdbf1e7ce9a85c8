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

    /** Creates a client; returns its handle. */
    public static native long clientCreate(
            String clientId,
            long clientEpoch,
            long defaultTimeoutMillis,
            long startupWaitMillis,
            long connectTimeoutMillis,
            int maxMessageBytes);

    /** Replaces the client's endpoint set; throws {@code RosException} on a malformed address. */
    public static native void clientUpdateEndpoints(long handle, String[] endpoints);

    /** The client's endpoint set. */
    public static native String[] clientEndpoints(long handle);

    /**
     * Starts a call; its outcome arrives through {@link #complete}. A timeout of 0 means the
     * client's default.
     */
    public static native void clientCall(
            long handle, String method, byte[] payload, long timeoutMillis, PendingCall call);

    /** Fails calls in flight with CANCELLED, waits for them to complete, stops the client. */
    public static native void clientClose(long handle);

    /** Frees the client's memory; closes it first if needed. */
    public static native void clientFree(long handle);

    // ---- server -------------------------------------------------------------------------------

    /** Starts a server; returns its handle. */
    public static native long serverStart(
            String bindHost, int port, int queueCapacity, int maxMessageBytes);

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
}
