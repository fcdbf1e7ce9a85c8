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
package org.flinkros.benchmarks;

import org.flinkros.client.RosClient;
import org.flinkros.client.RosClientOptions;
import org.flinkros.client.RosServer;
import org.flinkros.client.RosServerOptions;
import org.flinkros.client.RosServerRequest;
import org.flinkros.client.Transport;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * ROS: a {@link RosServer} whose Java workers poll and echo, as an RpcOperator's workers do, and
 * two {@link RosClient}s over it: one on the multiplexed stream (the default), one calling unary
 * {@code Invoke}s. Every call crosses JNI on each side.
 */
final class RosEcho implements AutoCloseable {
    private static final int WORKERS = 2;
    private static final int BATCH = 64;

    private final RosServer server;
    private final RosClient client;
    private final RosClient unaryClient;
    private final List<Thread> workers = new ArrayList<>();
    private volatile boolean running = true;

    RosEcho() {
        server = RosServer.start(RosServerOptions.defaults());
        for (int i = 0; i < WORKERS; i++) {
            Thread worker = new Thread(this::serve, "ros-echo-worker-" + i);
            worker.setDaemon(true);
            worker.start();
            workers.add(worker);
        }
        client = RosClient.create();
        client.updateEndpoints(List.of("127.0.0.1:" + server.port()));
        unaryClient =
                RosClient.create(RosClientOptions.builder().transport(Transport.UNARY).build());
        unaryClient.updateEndpoints(List.of("127.0.0.1:" + server.port()));
    }

    private void serve() {
        while (running) {
            for (RosServerRequest request : server.poll(BATCH, Duration.ofMillis(20))) {
                server.complete(request.id(), request.payload());
            }
        }
    }

    CompletableFuture<byte[]> call(byte[] payload) {
        return client.call("echo", payload);
    }

    CompletableFuture<byte[]> callUnary(byte[] payload) {
        return unaryClient.call("echo", payload);
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        for (Thread worker : workers) {
            worker.join();
        }
        client.close();
        unaryClient.close();
        server.close();
    }
}
