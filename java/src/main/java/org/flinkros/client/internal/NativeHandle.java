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

import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongConsumer;
import java.util.function.LongFunction;

/**
 * Owns a pointer to a native object.
 *
 * <p>{@link #close()} releases the object's resources (threads, sockets) at once but keeps its
 * memory, so that a native call racing with close never touches freed memory: it sees a closed
 * object and fails cleanly. The memory is freed by a {@link Cleaner} once the handle is
 * unreachable, which also closes objects their owner forgot to close.
 */
@Internal
public final class NativeHandle {
    private static final Cleaner CLEANER = Cleaner.create(daemonThreads("ros-native-cleaner"));

    private final long pointer;
    private final LongConsumer closer;
    private final AtomicBoolean closed;

    private NativeHandle(long pointer, LongConsumer closer, AtomicBoolean closed) {
        this.pointer = pointer;
        this.closer = closer;
        this.closed = closed;
    }

    /**
     * Wraps {@code pointer}; {@code close} releases its resources, {@code free} (which must close
     * first if needed) its memory.
     */
    public static NativeHandle register(long pointer, LongConsumer close, LongConsumer free) {
        if (pointer == 0) {
            throw new IllegalStateException("native object was not created");
        }
        AtomicBoolean closed = new AtomicBoolean();
        NativeHandle handle = new NativeHandle(pointer, close, closed);
        // Native log events are drained while any native object is open.
        NativeLogBridge.retain();
        // The action must not refer to the handle, or it would never become unreachable.
        CLEANER.register(
                handle,
                () -> {
                    if (closed.compareAndSet(false, true)) {
                        NativeLogBridge.release();
                    }
                    free.accept(pointer);
                });
        return handle;
    }

    /** Runs {@code operation} on the pointer unless the handle is closed. */
    public void run(LongConsumer operation) {
        checkOpen();
        try {
            operation.accept(pointer);
        } finally {
            // Keeps the handle (and so its memory) alive until the native call returns.
            Reference.reachabilityFence(this);
        }
    }

    /** Applies {@code operation} to the pointer unless the handle is closed. */
    public <T> T apply(LongFunction<T> operation) {
        checkOpen();
        try {
            return operation.apply(pointer);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Applies a read-only {@code operation} that stays valid after close (the native object's
     * memory lives until the handle is unreachable): for final stats of a closed client or server.
     */
    public <T> T applyReadOnly(LongFunction<T> operation) {
        try {
            return operation.apply(pointer);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Applies {@code operation} to the pointer, or returns {@code whenClosed} if the handle is
     * closed (also when it closes during the call).
     */
    public <T> T applyIfOpen(LongFunction<T> operation, T whenClosed) {
        if (closed.get()) {
            return whenClosed;
        }
        try {
            return operation.apply(pointer);
        } catch (RosException e) {
            if (closed.get()) {
                return whenClosed;
            }
            throw e;
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** Whether {@link #close()} was called. */
    public boolean isClosed() {
        return closed.get();
    }

    /** Releases the native object's resources. Idempotent. */
    public void close() {
        if (closed.compareAndSet(false, true)) {
            try {
                closer.accept(pointer);
            } finally {
                NativeLogBridge.release();
                Reference.reachabilityFence(this);
            }
        }
    }

    private void checkOpen() {
        if (closed.get()) {
            throw new RosException(StatusCode.CANCELLED, "already closed");
        }
    }

    /**
     * Daemon threads without a context class loader, so that they never pin a Flink job's user
     * class loader.
     */
    public static ThreadFactory daemonThreads(String name) {
        AtomicInteger counter = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, name + "-" + counter.incrementAndGet());
            thread.setDaemon(true);
            thread.setContextClassLoader(null);
            return thread;
        };
    }
}
