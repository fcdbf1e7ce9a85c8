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

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;

/** A worker that polls a real {@link RosServer} and answers with a handler, as a host would. */
final class ServingThread implements AutoCloseable {
    final RosServer server;
    final AtomicLong served = new AtomicLong();
    private final Thread thread;
    private volatile boolean running = true;

    /** The handler answers each request through the server (complete or fail). */
    ServingThread(RosServer server, BiConsumer<RosServer, RosServerRequest> handler) {
        this.server = server;
        this.thread =
                new Thread(
                        () -> {
                            while (running) {
                                for (RosServerRequest request :
                                        server.poll(32, Duration.ofMillis(20))) {
                                    handler.accept(server, request);
                                    served.incrementAndGet();
                                }
                            }
                        },
                        "test-serving-" + server.port());
        thread.setDaemon(true);
        thread.start();
    }

    /** Answers with the payload followed by '|' and the server's port. */
    static ServingThread echo(RosServer server) {
        return new ServingThread(
                server,
                (s, request) -> {
                    byte[] tag = ("|" + s.port()).getBytes(java.nio.charset.StandardCharsets.UTF_8);
                    byte[] out = new byte[request.payload().length + tag.length];
                    System.arraycopy(request.payload(), 0, out, 0, request.payload().length);
                    System.arraycopy(tag, 0, out, request.payload().length, tag.length);
                    s.complete(request.id(), out);
                });
    }

    String endpoint() {
        return "127.0.0.1:" + server.port();
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        server.close();
        thread.join();
    }
}
