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

import org.flinkros.client.RosClient;
import org.flinkros.client.RosServer;
import org.flinkros.client.RosServerOptions;
import org.flinkros.client.RosServerRequest;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a server and a client round trip; loaded by a separate class loader in a test. */
public final class IsolatedRoundTrip {
    private IsolatedRoundTrip() {}

    /** Returns the reply to "ping". */
    public static String run() throws Exception {
        try (RosServer server = RosServer.start(RosServerOptions.defaults());
                RosClient client = RosClient.create()) {
            client.updateEndpoints(Collections.singletonList("127.0.0.1:" + server.port()));
            java.util.concurrent.CompletableFuture<byte[]> reply =
                    client.call("m", "ping".getBytes(StandardCharsets.UTF_8));
            List<RosServerRequest> batch = server.poll(1, Duration.ofSeconds(10));
            RosServerRequest request = batch.get(0);
            server.complete(
                    request.id(),
                    (new String(request.payload(), StandardCharsets.UTF_8) + "|pong")
                            .getBytes(StandardCharsets.UTF_8));
            return new String(reply.get(10, TimeUnit.SECONDS), StandardCharsets.UTF_8);
        }
    }
}
