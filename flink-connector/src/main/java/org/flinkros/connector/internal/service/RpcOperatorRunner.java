package org.flinkros.connector.internal.service;

import org.flinkros.client.RosException;
import org.flinkros.client.RosServer;
import org.flinkros.client.RosServerRequest;
import org.flinkros.client.StatusCode;
import org.flinkros.connector.RpcOperator;

import org.apache.flink.annotation.Internal;
import org.apache.flink.util.ExceptionUtils;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.annotation.Nullable;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The run loop of one instance: a single thread that takes requests from the instance's server one
 * at a time and runs the user's operator on each, so that invocation is serial.
 *
 * <p>It takes one request per poll on purpose: a request still in the server's queue can be
 * cancelled (its caller went away or restarted), one taken by the worker cannot.
 */
@Internal
final class RpcOperatorRunner implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RpcOperatorRunner.class);
    private static final Duration POLL_TIMEOUT = Duration.ofMillis(100);

    private final RosServer server;
    private final RpcOperator operator;
    private final Thread thread;
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();
    @Nullable private volatile Throwable fatalError;
    private final AtomicLong served = new AtomicLong();
    private volatile boolean running = true;

    RpcOperatorRunner(
            RosServer server, RpcOperator operator, String threadName, ClassLoader loader) {
        this.server = server;
        this.operator = operator;
        this.thread = new Thread(this::run, threadName);
        this.thread.setDaemon(true);
        this.thread.setContextClassLoader(loader);
    }

    void start() {
        thread.start();
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

    /** Requests answered so far. */
    long served() {
        return served.get();
    }

    private void run() {
        try {
            while (running) {
                for (RosServerRequest request : server.poll(1, POLL_TIMEOUT)) {
                    handle(request);
                }
            }
        } catch (Throwable t) {
            LOG.error("RpcOperator instance {} failed", thread.getName(), t);
            fatalError = t;
            stopped.complete(null);
        }
    }

    private void handle(RosServerRequest request) {
        byte[] result;
        try {
            result = operator.invoke(request.method(), request.payload());
        } catch (RosException e) {
            server.fail(request.id(), e.getCode(), e.getDescription());
            served.incrementAndGet();
            return;
        } catch (Exception e) {
            server.fail(request.id(), StatusCode.INTERNAL, describe(request, e));
            served.incrementAndGet();
            return;
        } catch (Error e) {
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
        served.incrementAndGet();
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
     * UNAVAILABLE, so their callers retry elsewhere) and waits for the request in progress, if any,
     * to finish.
     */
    @Override
    public void close() throws InterruptedException {
        running = false;
        server.close();
        if (thread.isAlive() && Thread.currentThread() != thread) {
            thread.join();
        }
        LOG.debug("Run loop {} stopped after {} requests", thread.getName(), served.get());
    }
}
