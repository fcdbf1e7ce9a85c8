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

import org.flinkros.client.RosServer;
import org.flinkros.client.RosServerOptions;
import org.flinkros.connector.RpcOperator;
import org.flinkros.connector.RpcOperatorContext;

import org.apache.flink.annotation.Internal;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.annotation.Nullable;
import javax.annotation.concurrent.GuardedBy;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * Brings one instance up off the task's thread: claims its GPUs, runs the user's {@link
 * RpcOperator#open} (the model load, which may take minutes), starts the gRPC server and the run
 * loop. The task is RUNNING meanwhile, so the job's checkpoints go on while a model loads.
 *
 * <p>{@link #close()} may come at any point (the task is cancelled): a startup still in progress is
 * interrupted and, once the user's code returns, releases what it took by itself.
 */
@Internal
final class InstanceStartup implements InstanceLauncher {
    private static final Logger LOG = LoggerFactory.getLogger(InstanceStartup.class);

    /** How long {@link #close()} waits for an {@code open()} in progress to give up. */
    static final Duration CLOSE_WAIT = Duration.ofSeconds(10);

    /** What the instance needs to start, given by the reader. */
    interface Steps {
        GpuAllocator.Lease claimGpus() throws Exception;

        RpcOperatorContext context(int[] gpuIndices);

        RosServerOptions serverOptions();

        RpcOperatorRunner runner(RosServer server);
    }

    private final String instance;
    private final RpcOperator operator;
    private final Steps steps;
    private final Thread thread;
    private final CompletableFuture<RpcOperatorRunner> started = new CompletableFuture<>();

    @GuardedBy("this")
    private boolean closed;

    @GuardedBy("this")
    private boolean published;

    @GuardedBy("this")
    @Nullable
    private GpuAllocator.Lease gpus;

    @GuardedBy("this")
    private boolean opened;

    @GuardedBy("this")
    @Nullable
    private RosServer server;

    @GuardedBy("this")
    @Nullable
    private RpcOperatorRunner runner;

    InstanceStartup(String instance, RpcOperator operator, Steps steps, ClassLoader loader) {
        this.instance = instance;
        this.operator = operator;
        this.steps = steps;
        this.thread = new Thread(this::run, "ros-svc-" + instance + "-open");
        thread.setDaemon(true);
        thread.setContextClassLoader(loader);
    }

    @Override
    public void start() {
        thread.start();
    }

    /** Completes with the serving instance's run loop, or with what made the startup fail. */
    @Override
    public CompletableFuture<RpcOperatorRunner> started() {
        return started;
    }

    private void run() {
        try {
            GpuAllocator.Lease lease = steps.claimGpus();
            keep(state -> state.gpus = lease);
            operator.open(steps.context(lease.indices()));
            keep(state -> state.opened = true);
            RosServer rosServer = RosServer.start(steps.serverOptions());
            keep(state -> state.server = rosServer);
            RpcOperatorRunner loop = steps.runner(rosServer);
            synchronized (this) {
                if (closed) {
                    throw new InterruptedException("instance " + instance + " closed");
                }
                runner = loop;
                server = null;
                published = true;
            }
            loop.start();
            started.complete(loop);
        } catch (Throwable t) {
            releaseQuietly();
            started.completeExceptionally(t);
        }
    }

    private interface Change {
        void apply(InstanceStartup state);
    }

    /** Records a resource taken, or gives up at once if the instance was closed meanwhile. */
    private synchronized void keep(Change change) throws InterruptedException {
        change.apply(this);
        if (closed) {
            throw new InterruptedException("instance " + instance + " closed");
        }
    }

    /**
     * Stops the instance, or the startup in progress. Waits up to {@link #CLOSE_WAIT} for an {@code
     * open()} in progress; past that, the startup releases its resources when it returns.
     */
    @Override
    public void close() throws Exception {
        boolean inProgress;
        synchronized (this) {
            closed = true;
            inProgress = !published && thread.isAlive();
        }
        if (inProgress) {
            thread.interrupt();
            thread.join(CLOSE_WAIT.toMillis());
            if (thread.isAlive()) {
                LOG.warn(
                        "RpcOperator instance {} is closed while its open() still runs; it"
                                + " releases its resources once open() returns",
                        instance);
            }
            return;
        }
        release();
    }

    private void releaseQuietly() {
        try {
            release();
        } catch (Exception e) {
            LOG.warn("Releasing RpcOperator instance {} failed", instance, e);
        }
    }

    /** Stops the run loop (or server), closes the operator and gives the GPUs back. */
    private void release() throws Exception {
        RpcOperatorRunner loop;
        RosServer rosServer;
        boolean wasOpened;
        GpuAllocator.Lease lease;
        synchronized (this) {
            loop = runner;
            rosServer = server;
            wasOpened = opened;
            lease = gpus;
            runner = null;
            server = null;
            opened = false;
            gpus = null;
        }
        Exception failure = null;
        try {
            if (loop != null) {
                loop.close();
            } else if (rosServer != null) {
                rosServer.close();
            }
            if (wasOpened) {
                operator.close();
            }
        } catch (Exception e) {
            failure = e;
        } finally {
            if (lease != null) {
                lease.close();
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
