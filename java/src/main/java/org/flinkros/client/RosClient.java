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
package org.flinkros.client;

import org.flinkros.client.internal.NativeClient;
import org.flinkros.client.internal.NativeHandle;
import org.flinkros.client.internal.PendingCall;
import org.flinkros.client.internal.Preconditions;

import org.apache.flink.annotation.PublicEvolving;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A caller of one RpcOperator service: sends requests to its instances and returns their results.
 *
 * <p>The set of instances ({@code host:port} endpoints) is given from outside and may be replaced
 * at any time with {@link #updateEndpoints}; in a Flink job the connector keeps it current. Each
 * call goes to the less loaded of two randomly picked instances (power of two choices; see {@link
 * RosClientOptions#loadBalancing()}), skipping instances ejected after a failure, and is retried on
 * another instance when none answered. With no instance in the set a call fails at once with {@link
 * StatusCode#UNAVAILABLE} (see {@link RosClientOptions#startupWait()} for the exception at start).
 *
 * <p>Failures arrive as {@link RosException} carrying a {@link StatusCode}. Result futures are
 * completed on the {@link RosClientOptions#callbackExecutor() callback executor}, never on the
 * runtime's network threads. Thread-safe. {@link #close()} fails calls still in flight with {@link
 * StatusCode#CANCELLED}.
 */
@PublicEvolving
public final class RosClient implements AutoCloseable {
    private final RosClientOptions options;
    private final NativeClient handle;
    private final ExecutorService ownExecutor;
    private final Executor callbackExecutor;

    private RosClient(RosClientOptions options) {
        this.options = options;
        this.ownExecutor =
                options.callbackExecutor() == null
                        ? Executors.newSingleThreadExecutor(
                                NativeHandle.daemonThreads("ros-client-callbacks"))
                        : null;
        this.callbackExecutor = ownExecutor != null ? ownExecutor : options.callbackExecutor();
        this.handle = NativeClient.create(options.toNative());
    }

    /**
     * The options the native runtime runs with, by the names of {@code options.properties}, every
     * default filled in and the token left out.
     */
    Map<String, String> runtimeOptions() {
        String[] flat = handle.options();
        Map<String, String> options = new LinkedHashMap<>();
        for (int i = 0; i + 1 < flat.length; i += 2) {
            options.put(flat[i], flat[i + 1]);
        }
        return options;
    }

    /**
     * Creates a client with an empty endpoint set.
     *
     * @throws RosException with {@link StatusCode#INVALID_ARGUMENT} when the runtime refuses the
     *     options: a {@link RosClientOptions#clientId() client id} outside the {@link
     *     RosClientOptions#principal() principal}, or a principal without a token
     */
    public static RosClient create(RosClientOptions options) {
        return new RosClient(Objects.requireNonNull(options, "options"));
    }

    /** Creates a client with the default options and an empty endpoint set. */
    public static RosClient create() {
        return create(RosClientOptions.defaults());
    }

    /** The options this client was created with. */
    public RosClientOptions options() {
        return options;
    }

    /**
     * Replaces the set of instances. Connections to addresses that stay are kept.
     *
     * @param endpoints {@code host:port} each (IPv6 hosts in brackets)
     * @throws RosException with {@link StatusCode#INVALID_ARGUMENT} naming a malformed address, in
     *     which case the set is unchanged; with {@link StatusCode#CANCELLED} if closed
     */
    public void updateEndpoints(Collection<String> endpoints) {
        String[] addresses = endpoints.toArray(new String[0]);
        for (String address : addresses) {
            Objects.requireNonNull(address, "endpoint");
        }
        handle.updateEndpoints(addresses);
    }

    /** The current set of instances. */
    public List<String> endpoints() {
        return Arrays.asList(handle.endpoints());
    }

    /**
     * Calls {@code method} with {@code payload} on one instance, with the default timeout.
     *
     * @return the result, or a future failed with a {@link RosException}
     */
    public CompletableFuture<byte[]> call(String method, byte[] payload) {
        return call(method, payload, null);
    }

    /**
     * Calls {@code method} with {@code payload} on one instance, waiting at most {@code timeout}
     * (null for the default).
     *
     * @return the result, or a future failed with a {@link RosException}
     */
    public CompletableFuture<byte[]> call(String method, byte[] payload, Duration timeout) {
        return call(method, payload, timeout, null);
    }

    /**
     * Calls {@code method} with {@code payload} as a request with an identity (see {@link
     * IdentityKey}): an equal request queued, running or recently run on the instance answers it
     * without running again.
     *
     * @param timeout the longest wait, null for the default
     * @param key the request's identity, null for none
     * @return the result, or a future failed with a {@link RosException}
     */
    public CompletableFuture<byte[]> call(
            String method, byte[] payload, Duration timeout, IdentityKey key) {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(payload, "payload");
        long timeoutMillis =
                timeout == null
                        ? 0
                        : Math.max(
                                1,
                                Preconditions.toMillisSaturated(
                                        Preconditions.positive("timeout", timeout)));
        PendingCall pending = new PendingCall(callbackExecutor);
        long callId;
        try {
            callId =
                    handle.call(
                            method,
                            payload,
                            timeoutMillis,
                            key == null ? null : key.unsafeBytes(),
                            key != null && key.isContent(),
                            pending);
        } catch (RosException e) {
            pending.fail(e);
            return pending.future();
        }
        CompletableFuture<byte[]> result = pending.future();
        // A cancelled future drops the call: an instance still holding it in its queue removes
        // it, so the work is never done.
        result.whenComplete(
                (ignored, error) -> {
                    if (error instanceof CancellationException) {
                        handle.abort(callId);
                    }
                });
        return result;
    }

    /**
     * Calls {@code method} with {@code payload} and waits for the result.
     *
     * @throws RosException if the call fails; with {@link StatusCode#CANCELLED} if the waiting
     *     thread is interrupted (its interrupt flag is kept)
     */
    public byte[] callSync(String method, byte[] payload) {
        return callSync(method, payload, null);
    }

    /**
     * Calls {@code method} with {@code payload} and waits at most {@code timeout} (null for the
     * default) for the result.
     *
     * @throws RosException if the call fails; with {@link StatusCode#CANCELLED} if the waiting
     *     thread is interrupted (its interrupt flag is kept)
     */
    public byte[] callSync(String method, byte[] payload, Duration timeout) {
        CompletableFuture<byte[]> result = call(method, payload, timeout);
        try {
            return result.get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RosException) {
                RosException failure = (RosException) cause;
                // Rethrow a fresh exception so the stack trace shows the caller.
                throw new RosException(failure.code(), failure.description(), failure);
            }
            throw new RosException(StatusCode.INTERNAL, String.valueOf(cause), cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RosException(StatusCode.CANCELLED, "interrupted while waiting for " + method);
        }
    }

    /**
     * Asks every instance in the endpoint set to drop the still-queued requests of this client's
     * earlier attempts (epochs below {@link RosClientOptions#clientEpoch()}): a restarted caller
     * does not want their results. Requests already running finish.
     *
     * @return how many queued requests were dropped; instances that cannot be reached count 0. It
     *     fails as {@link #cancelEpochs} does.
     */
    public CompletableFuture<Long> cancelEarlierEpochs() {
        return cancelEpochs(options.clientId(), options.clientEpoch());
    }

    /**
     * Asks every instance in the endpoint set to drop the still-queued requests of {@code clientId}
     * whose epoch is below {@code belowEpoch}. Requests already running finish. A client with a
     * {@link RosClientOptions#principal() principal} may only cancel client ids within it; one
     * holding the service's token may cancel any.
     *
     * @return how many queued requests were dropped; instances that cannot be reached count 0. It
     *     fails with a {@link RosException} when an instance refuses: {@link
     *     StatusCode#PERMISSION_DENIED} for a {@code clientId} outside the client's principal
     *     (nothing was dropped), {@link StatusCode#UNAUTHENTICATED} without the right token.
     */
    public CompletableFuture<Long> cancelEpochs(String clientId, long belowEpoch) {
        Objects.requireNonNull(clientId, "clientId");
        PendingCall pending = new PendingCall(callbackExecutor);
        try {
            handle.cancelEpochs(clientId, belowEpoch, pending);
        } catch (RosException e) {
            pending.fail(e);
        }
        return pending.future().thenApply(bytes -> ByteBuffer.wrap(bytes).getLong());
    }

    /** What this client has done so far; after {@link #close()}, its final figures. */
    public RosClientStats stats() {
        return new RosClientStats(handle.stats());
    }

    /**
     * Fails calls still in flight with {@link StatusCode#CANCELLED}, closes all connections and
     * releases the client's threads. Idempotent.
     */
    @Override
    public void close() {
        handle.close();
        if (ownExecutor != null) {
            ownExecutor.shutdown();
        }
    }
}
