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

import org.apache.flink.annotation.Internal;

/**
 * A native client, owned by one {@code RosClient}: the only way to reach the runtime's client entry
 * points. The pointer never leaves this class, so no caller can hand the runtime a freed or foreign
 * one.
 */
@Internal
public final class NativeClient {
    private final NativeHandle handle;

    private NativeClient(long pointer) {
        this.handle =
                NativeHandle.register(pointer, NativeClient::clientClose, NativeClient::clientFree);
    }

    /**
     * Creates a client from options given as {@code [name, value, ...]} with the names of {@code
     * options.properties}.
     */
    public static NativeClient create(String[] options) {
        NativeBridge.ensureLoaded();
        return new NativeClient(clientCreate(options));
    }

    /** The options the client runs with, every default filled in: {@code [name, value, ...]}. */
    public String[] options() {
        return handle.apply(NativeClient::clientOptions);
    }

    /** Replaces the endpoint set; throws {@code RosException} on a malformed address. */
    public void updateEndpoints(String[] endpoints) {
        handle.run(pointer -> clientUpdateEndpoints(pointer, endpoints));
    }

    /** The endpoint set. */
    public String[] endpoints() {
        return handle.apply(NativeClient::clientEndpoints);
    }

    /**
     * Starts a call whose outcome arrives through {@code call}; a timeout of 0 means the client's
     * default. Returns the call's id for {@link #abort}; throws {@code RosException} when closed.
     */
    public long call(
            String method,
            byte[] payload,
            long timeoutMillis,
            byte[] identityKey,
            boolean contentKey,
            PendingCall call) {
        return handle.apply(
                pointer ->
                        clientCall(
                                pointer,
                                method,
                                payload,
                                timeoutMillis,
                                identityKey,
                                contentKey,
                                call));
    }

    /** Aborts a call whose future was cancelled; nothing when the client is closed. */
    public void abort(long callId) {
        handle.applyIfOpen(
                pointer -> {
                    clientAbort(pointer, callId);
                    return null;
                },
                null);
    }

    /**
     * Asks every instance to drop the queued requests of {@code clientId} with epochs below {@code
     * belowEpoch}; the count arrives through {@code call} as 8 big-endian bytes.
     */
    public void cancelEpochs(String clientId, long belowEpoch, PendingCall call) {
        handle.run(pointer -> clientCancelEpochs(pointer, clientId, belowEpoch, call));
    }

    /** The stats; after {@link #close()}, the final figures. */
    public NamedStats stats() {
        return NamedStats.client(handle.applyReadOnly(NativeClient::clientStats));
    }

    /** Fails calls in flight with CANCELLED, waits for them, stops the client. Idempotent. */
    public void close() {
        handle.close();
    }

    private static native long clientCreate(String[] options);

    private static native String[] clientOptions(long handle);

    private static native void clientUpdateEndpoints(long handle, String[] endpoints);

    private static native String[] clientEndpoints(long handle);

    private static native long clientCall(
            long handle,
            String method,
            byte[] payload,
            long timeoutMillis,
            byte[] identityKey,
            boolean contentKey,
            PendingCall call);

    private static native void clientAbort(long handle, long callId);

    private static native void clientCancelEpochs(
            long handle, String clientId, long belowEpoch, PendingCall call);

    private static native long[] clientStats(long handle);

    /** The names of the values of {@code clientStats}, in their order. */
    static native String[] clientStatsNames();

    private static native void clientClose(long handle);

    private static native void clientFree(long handle);
}
