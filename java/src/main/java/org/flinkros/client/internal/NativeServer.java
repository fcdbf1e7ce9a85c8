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

import org.flinkros.client.RosServerRequest;

import org.apache.flink.annotation.Internal;

/**
 * A native server, owned by one {@code RosServer}: the only way to reach the runtime's server entry
 * points. The pointer never leaves this class, so no caller can hand the runtime a freed or foreign
 * one.
 */
@Internal
public final class NativeServer {
    private final NativeHandle handle;

    private NativeServer(long pointer) {
        this.handle =
                NativeHandle.register(pointer, NativeServer::serverClose, NativeServer::serverFree);
    }

    /**
     * Starts a server from options given as {@code [name, value, ...]} with the names of {@code
     * options.properties}, and its methods.
     */
    public static NativeServer start(String[] options, String[] methods) {
        NativeBridge.ensureLoaded();
        return new NativeServer(serverStart(options, methods));
    }

    /** The options the server runs with, every default filled in: {@code [name, value, ...]}. */
    public String[] options() {
        return handle.apply(NativeServer::serverOptions);
    }

    /** The port the server listens on. */
    public int port() {
        return handle.apply(NativeServer::serverPort);
    }

    /**
     * Waits up to {@code timeoutMillis} for requests and takes at most {@code max}; null when the
     * server is closed.
     */
    public RosServerRequest[] poll(int max, long timeoutMillis) {
        return handle.applyIfOpen(pointer -> serverPoll(pointer, max, timeoutMillis), null);
    }

    /** Answers a request with a result; false if its caller is gone or the server closed. */
    public boolean complete(long id, byte[] result) {
        return handle.applyIfOpen(pointer -> serverComplete(pointer, id, result), false);
    }

    /** Answers a request with an error; false if its caller is gone or the server closed. */
    public boolean fail(long id, int code, String message) {
        return handle.applyIfOpen(pointer -> serverFail(pointer, id, code, message), false);
    }

    /**
     * Answers the first {@code count} requests of the arrays in one crossing: a result where {@code
     * codes[i]} is 0, else that error with {@code messages[i]}. Returns how many found their
     * caller; 0 once the server closed.
     */
    public int completeAll(
            int count, long[] ids, byte[][] results, int[] codes, String[] messages) {
        return handle.applyIfOpen(
                pointer -> serverCompleteAll(pointer, count, ids, results, codes, messages), 0);
    }

    /** The stats; after {@link #close()}, the final figures. */
    public NamedStats stats() {
        return NamedStats.server(handle.applyReadOnly(NativeServer::serverStats));
    }

    /** Stops accepting requests, answers pending ones UNAVAILABLE, closes the listener. */
    public void close() {
        handle.close();
    }

    private static native long serverStart(String[] options, String[] methods);

    private static native String[] serverOptions(long handle);

    private static native long[] serverStats(long handle);

    /** The names of the values of {@code serverStats}, in their order. */
    static native String[] serverStatsNames();

    private static native int serverPort(long handle);

    private static native RosServerRequest[] serverPoll(long handle, int max, long timeoutMillis);

    private static native boolean serverComplete(long handle, long id, byte[] result);

    private static native boolean serverFail(long handle, long id, int code, String message);

    private static native int serverCompleteAll(
            long handle, int count, long[] ids, byte[][] results, int[] codes, String[] messages);

    private static native void serverClose(long handle);

    private static native void serverFree(long handle);
}
