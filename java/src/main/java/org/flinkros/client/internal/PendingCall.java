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

import org.apache.flink.annotation.Internal;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * A call in flight: the future its caller holds and the executor that completes it, so that no
 * callback runs on the runtime's network threads.
 */
@Internal
public final class PendingCall {
    private final CompletableFuture<byte[]> future = new CompletableFuture<>();
    private final Executor executor;

    public PendingCall(Executor executor) {
        this.executor = executor;
    }

    /** The future the caller waits on. */
    public CompletableFuture<byte[]> future() {
        return future;
    }

    /** Completes the future with a result (non-null) or with a {@link RosException}. */
    void complete(byte[] result, int code, String message) {
        run(executor, () -> completeNow(result, code, message));
    }

    /**
     * Completes several calls' futures, as {@link #complete} does each, with one task on their
     * callback executor: under load the callback thread wakes once for many results instead of once
     * for each. The runtime batches only the calls of one client, which share its executor.
     */
    static void completeAll(Object[] calls, Object[] results, int[] codes, Object[] messages) {
        if (calls.length == 0) {
            return;
        }
        run(
                ((PendingCall) calls[0]).executor,
                () -> {
                    for (int i = 0; i < calls.length; i++) {
                        ((PendingCall) calls[i])
                                .completeNow((byte[]) results[i], codes[i], (String) messages[i]);
                    }
                });
    }

    private void completeNow(byte[] result, int code, String message) {
        if (result != null) {
            future.complete(result);
        } else {
            future.completeExceptionally(NativeBridge.newException(code, message));
        }
    }

    private static void run(Executor executor, Runnable completion) {
        try {
            executor.execute(completion);
        } catch (RejectedExecutionException shutDown) {
            // The executor is gone (client closing): complete here rather than never.
            completion.run();
        }
    }

    /** Fails the future at once, on the calling thread. */
    public void fail(RosException error) {
        future.completeExceptionally(error);
    }
}
