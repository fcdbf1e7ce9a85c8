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

import org.flinkros.client.internal.NativeServer;
import org.flinkros.client.internal.Preconditions;

import org.apache.flink.annotation.PublicEvolving;

import java.time.Duration;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One instance of an RpcOperator service, as seen by its host: a gRPC endpoint whose requests wait
 * in a bounded queue until a worker thread {@link #poll polls} them and answers each with {@link
 * #complete} or {@link #fail}.
 *
 * <p>The runtime never calls into Java on its network threads: workers pull batches, so the host
 * decides how many threads run the user's code (one, for the serial invocation RpcOperators get by
 * default). A full queue refuses requests with {@link StatusCode#RESOURCE_EXHAUSTED}; a caller that
 * goes away has its queued request removed. Thread-safe.
 */
@PublicEvolving
public final class RosServer implements AutoCloseable {
    private final RosServerOptions options;
    private final NativeServer handle;
    private final int port;

    private RosServer(RosServerOptions options) {
        this.options = options;
        this.handle =
                NativeServer.start(options.toNative(), options.methods().toArray(new String[0]));
        this.port = handle.port();
    }

    /**
     * Binds and starts serving.
     *
     * @throws RosException with {@link StatusCode#UNAVAILABLE} if the address cannot be bound
     */
    public static RosServer start(RosServerOptions options) {
        return new RosServer(Objects.requireNonNull(options, "options"));
    }

    /** The options this server was started with. */
    public RosServerOptions options() {
        return options;
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

    /** The port the server listens on (the one picked, if the options said 0). */
    public int port() {
        return port;
    }

    /**
     * Waits up to {@code timeout} for requests and takes a batch of at most {@code maxBatch}
     * requests of one method: the method of the oldest queued request, and its requests oldest
     * first. The method's batch options ({@link RosServerOptions.Builder#maxBatchSize}, {@link
     * RosServerOptions.Builder#maxBatchDelay}) bound the batch; a batch that waits to fill may keep
     * the caller past {@code timeout}, up to the batch delay. Requests whose caller's deadline
     * passed while queued are answered {@link StatusCode#DEADLINE_EXCEEDED} and not returned.
     *
     * @return the requests; empty when the timeout passed or the server is closed
     */
    public List<RosServerRequest> poll(int maxBatch, Duration timeout) {
        Preconditions.inRange("maxBatch", maxBatch, 1, Integer.MAX_VALUE);
        long timeoutMillis =
                Preconditions.toMillisSaturated(Preconditions.notNegative("timeout", timeout));
        RosServerRequest[] batch = handle.poll(maxBatch, timeoutMillis);
        return batch == null ? Collections.emptyList() : Arrays.asList(batch);
    }

    /**
     * Answers a polled request with its result.
     *
     * @return false if nobody waits for it any more (the caller went away or the server closed)
     */
    public boolean complete(long requestId, byte[] result) {
        Objects.requireNonNull(result, "result");
        return handle.complete(requestId, result);
    }

    /**
     * Answers a polled request with an error.
     *
     * @return false if nobody waits for it any more (the caller went away or the server closed)
     */
    public boolean fail(long requestId, StatusCode code, String message) {
        Objects.requireNonNull(code, "code");
        return handle.fail(requestId, code.value(), String.valueOf(message));
    }

    /**
     * Delivers many answers at once, in one crossing into the runtime.
     *
     * @return how many found their caller (the others' callers went away, or the server closed)
     */
    public int completeAll(RosServerReplies replies) {
        Objects.requireNonNull(replies, "replies");
        if (replies.size() == 0) {
            return 0;
        }
        return handle.completeAll(
                replies.size(),
                replies.ids(),
                replies.results(),
                replies.codes(),
                replies.messages());
    }

    /** Counters and latencies of this instance; after {@link #close()}, its final figures. */
    public RosServerStats stats() {
        return new RosServerStats(handle.stats());
    }

    /**
     * Stops accepting requests, answers queued and executing ones {@link StatusCode#UNAVAILABLE}
     * (so callers retry elsewhere), wakes pollers and closes the listener. Idempotent.
     */
    @Override
    public void close() {
        handle.close();
    }

    @Override
    public String toString() {
        return "RosServer{port=" + port + ", options=" + options + '}';
    }
}
