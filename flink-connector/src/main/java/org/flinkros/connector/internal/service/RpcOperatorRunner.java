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
import org.flinkros.client.RosServerRequest;
import org.flinkros.client.StatusCode;
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
 * invocation) that take requests from the instance's server and run the user's operator on each.
 *
 * <p>Each thread takes one request per poll on purpose: a request still in the server's queue can
 * be cancelled (its caller went away or restarted), one taken by a worker cannot.
 */
@Internal
final class RpcOperatorRunner implements AutoCloseable {
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
    CompletableFuture<Void> stoppedOnError() {
        return stopped;
    }

    /** The error that stopped the loop, if it stopped on its own. */
    @Nullable
    Throwable fatalError() {
        return fatalError;
    }

    /** The instance's server, which the loop takes requests from. */
    RosServer server() {
        return server;
    }

    /** Sizes of the batches the workers took. */
    Histogram batchSizes() {
        return batchSizes;
    }

    private void run() {
        try {
            while (running) {
                List<RosServerRequest> batch = server.poll(1, POLL_TIMEOUT);
                if (!batch.isEmpty()) {
                    batchSizes.update(batch.size());
                }
                for (RosServerRequest request : batch) {
                    handle(request);
                }
            }
        } catch (Throwable t) {
            LOG.error("RpcOperator instance {} failed", Thread.currentThread().getName(), t);
            fatalError = t;
            running = false;
            stopped.complete(null);
        }
    }

    private void handle(RosServerRequest request) {
        byte[] result;
        try {
            result = operator.invoke(request.method(), request.payload());
        } catch (RosException e) {
            server.fail(request.id(), e.code(), e.description());
            return;
        } catch (Exception e) {
            server.fail(request.id(), StatusCode.INTERNAL, describe(request, e));
            return;
        } catch (Error e) {
            // The instance is broken (e.g. out of memory): the caller retries elsewhere.
            server.fail(request.id(), StatusCode.UNAVAILABLE, "service instance failed: " + e);
            throw e;
        }
        if (result == null) {
            server.fail(
                    request.id(),
                    StatusCode.INTERNAL,
                    "RpcOperator.invoke returned null for method '" + request.method() + "'");
        } else {
            server.complete(request.id(), result);
        }
    }

    private static String describe(RosServerRequest request, Exception e) {
        return "RpcOperator failed on method '"
                + request.method()
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
