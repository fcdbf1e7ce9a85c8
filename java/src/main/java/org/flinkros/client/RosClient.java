package org.flinkros.client;

import org.flinkros.client.internal.NativeBridge;
import org.flinkros.client.internal.NativeHandle;
import org.flinkros.client.internal.PendingCall;
import org.flinkros.client.internal.Preconditions;

import org.apache.flink.annotation.PublicEvolving;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
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
 * at any time with {@link #updateEndpoints}; in a Flink job the connector keeps it current. Calls
 * go to the instances round-robin. With no instance in the set a call fails at once with {@link
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
    private final NativeHandle handle;
    private final ExecutorService ownExecutor;
    private final Executor callbackExecutor;

    private RosClient(RosClientOptions options) {
        NativeBridge.ensureLoaded();
        this.options = options;
        this.ownExecutor =
                options.callbackExecutor() == null
                        ? Executors.newSingleThreadExecutor(
                                NativeHandle.daemonThreads("ros-client-callbacks"))
                        : null;
        this.callbackExecutor = ownExecutor != null ? ownExecutor : options.callbackExecutor();
        long pointer =
                NativeBridge.clientCreate(
                        options.clientId(),
                        options.clientEpoch(),
                        Preconditions.toMillisSaturated(options.defaultTimeout()),
                        Preconditions.toMillisSaturated(options.startupWait()),
                        Preconditions.toMillisSaturated(options.connectTimeout()),
                        options.maxMessageBytes(),
                        options.loadBalancing() == LoadBalancing.ROUND_ROBIN,
                        options.maxAttempts(),
                        options.retryBudgetRatio(),
                        options.retryMinPerSecond(),
                        options.maxInFlight(),
                        Preconditions.toMillisSaturated(options.keepAliveInterval()),
                        Preconditions.toMillisSaturated(options.keepAliveTimeout()),
                        Preconditions.toMillisSaturated(options.ejectionMin()),
                        Preconditions.toMillisSaturated(options.ejectionMax()),
                        options.token(),
                        options.serviceName());
        this.handle =
                NativeHandle.register(pointer, NativeBridge::clientClose, NativeBridge::clientFree);
    }

    /** Creates a client with an empty endpoint set. */
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
        handle.run(pointer -> NativeBridge.clientUpdateEndpoints(pointer, addresses));
    }

    /** The current set of instances. */
    public List<String> endpoints() {
        return Arrays.asList(handle.apply(NativeBridge::clientEndpoints));
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
                    handle.apply(
                            pointer ->
                                    NativeBridge.clientCall(
                                            pointer, method, payload, timeoutMillis, pending));
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
                        handle.applyIfOpen(
                                pointer -> {
                                    NativeBridge.clientAbort(pointer, callId);
                                    return null;
                                },
                                null);
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
                throw new RosException(failure.getCode(), failure.getDescription(), failure);
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
     * @return how many queued requests were dropped; instances that cannot be reached count 0
     */
    public CompletableFuture<Long> cancelEarlierEpochs() {
        return cancelEpochs(options.clientId(), options.clientEpoch());
    }

    /**
     * Asks every instance in the endpoint set to drop the still-queued requests of {@code clientId}
     * whose epoch is below {@code belowEpoch}. Requests already running finish.
     *
     * @return how many queued requests were dropped; instances that cannot be reached count 0
     */
    public CompletableFuture<Long> cancelEpochs(String clientId, long belowEpoch) {
        Objects.requireNonNull(clientId, "clientId");
        PendingCall pending = new PendingCall(callbackExecutor);
        try {
            handle.run(
                    pointer ->
                            NativeBridge.clientCancelEpochs(
                                    pointer, clientId, belowEpoch, pending));
        } catch (RosException e) {
            pending.fail(e);
        }
        return pending.future().thenApply(bytes -> ByteBuffer.wrap(bytes).getLong());
    }

    /** What this client has done so far; after {@link #close()}, its final figures. */
    public RosClientStats stats() {
        return RosClientStats.fromArray(handle.applyReadOnly(NativeBridge::clientStats));
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
