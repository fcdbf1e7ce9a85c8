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
package org.flinkros.connector.internal.service;

import org.flinkros.client.RosException;
import org.flinkros.client.RosServer;
import org.flinkros.client.RosServerReplies;
import org.flinkros.client.RosServerRequest;
import org.flinkros.client.RosServerStats;
import org.flinkros.client.StatusCode;
import org.flinkros.connector.BatchRpcOperator;
import org.flinkros.connector.RpcBatch;
import org.flinkros.connector.RpcOperator;
import org.flinkros.connector.internal.FlinkInternals;

import org.apache.flink.annotation.Internal;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.util.ExceptionUtils;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.annotation.Nullable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The run loop of one instance: {@code concurrency} threads (one by default, hence serial
 * invocation) that take requests from the instance's server and run the user's operator on them.
 *
 * <p>For a {@link BatchRpcOperator} each thread takes a batch of one method per poll (formed by the
 * server's batch options), hands it to the operator in one call and answers it in one crossing into
 * the runtime. For any other operator each thread takes one request per poll on purpose: a request
 * still in the server's queue can be cancelled (its caller went away or restarted), one taken by a
 * worker cannot.
 */
@Internal
final class RpcOperatorRunner implements ServingInstance, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RpcOperatorRunner.class);
    private static final Duration POLL_TIMEOUT = Duration.ofMillis(100);

    private final RosServer server;
    private final RpcOperator operator;
    private final List<Thread> threads = new ArrayList<>();
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();
    private final Histogram batchSizes = FlinkInternals.histogram(1000);
    @Nullable private volatile Throwable fatalError;
    private volatile boolean running = true;

    RpcOperatorRunner(
            RosServer server,
            RpcOperator operator,
            int concurrency,
            String threadName,
            ClassLoader loader) {
        this.server = server;
        this.operator = operator;
        for (int i = 0; i < concurrency; i++) {
            Thread thread =
                    new Thread(this::run, concurrency == 1 ? threadName : threadName + "-" + i);
            thread.setDaemon(true);
            thread.setContextClassLoader(loader);
            threads.add(thread);
        }
    }

    void start() {
        threads.forEach(Thread::start);
    }

    /** Completes when the loop stops on its own: the operator threw a JVM {@link Error}. */
    @Override
    public CompletableFuture<Void> stoppedOnError() {
        return stopped;
    }

    /** The error that stopped the loop, if it stopped on its own. */
    @Nullable
    @Override
    public Throwable fatalError() {
        return fatalError;
    }

    /** The instance's server, which the loop takes requests from. */
    RosServer server() {
        return server;
    }

    @Override
    public int port() {
        return server.port();
    }

    @Override
    public RosServerStats stats() {
        return server.stats();
    }

    /** Sizes of the batches the workers took. */
    @Override
    public Histogram batchSizes() {
        return batchSizes;
    }

    private void run() {
        // A plain operator runs as a batch operator whose batches hold one request.
        boolean batches = operator instanceof BatchRpcOperator;
        BatchRpcOperator batchOperator = batches ? (BatchRpcOperator) operator : this::invokeOne;
        RosServerReplies replies = new RosServerReplies(batches ? 64 : 1);
        try {
            while (running) {
                List<RosServerRequest> batch =
                        server.poll(batches ? Integer.MAX_VALUE : 1, POLL_TIMEOUT);
                if (!batch.isEmpty()) {
                    batchSizes.update(batch.size());
                    handle(batchOperator, batch, replies);
                }
            }
        } catch (Throwable t) {
            LOG.error("RpcOperator instance {} failed", Thread.currentThread().getName(), t);
            fatalError = t;
            running = false;
            stopped.complete(null);
        }
    }

    /** How a plain operator's batch of one runs. */
    private void invokeOne(String method, RpcBatch batch) throws Exception {
        byte[] result = operator.invoke(method, batch.payload(0));
        if (result == null) {
            throw new RosException(
                    StatusCode.INTERNAL,
                    "RpcOperator.invoke returned null for method '" + method + "'");
        }
        batch.reply(0, result);
    }

    private void handle(
            BatchRpcOperator batchOperator,
            List<RosServerRequest> requests,
            RosServerReplies replies) {
        String method = requests.get(0).method();
        RpcBatch batch = RpcBatch.of(requests);
        try {
            batchOperator.invokeBatch(method, batch);
        } catch (RosException e) {
            batch.failUnanswered(e.code(), e.description());
        } catch (Exception e) {
            batch.failUnanswered(StatusCode.INTERNAL, describe(method, e));
        } catch (Error e) {
            // The instance is broken (e.g. out of memory): the callers retry elsewhere.
            batch.failUnanswered(StatusCode.UNAVAILABLE, "service instance failed: " + e);
            answer(batch, method, replies);
            throw e;
        }
        answer(batch, method, replies);
    }

    private void answer(RpcBatch batch, String method, RosServerReplies replies) {
        batch.answer(replies, method);
        server.completeAll(replies);
        replies.clear();
    }

    private static String describe(String method, Exception e) {
        return "RpcOperator failed on method '"
                + method
                + "': "
                + e
                + "\nRemote stack trace:\n"
                + ExceptionUtils.stringifyException(e);
    }

    /**
     * Stops taking requests, closes the server (queued and executing requests are answered
     * UNAVAILABLE, so their callers retry elsewhere) and waits for requests in progress, if any, to
     * finish.
     */
    @Override
    public void close() throws InterruptedException {
        running = false;
        server.close();
        for (Thread thread : threads) {
            if (thread.isAlive() && Thread.currentThread() != thread) {
                thread.join();
            }
        }
    }
}
