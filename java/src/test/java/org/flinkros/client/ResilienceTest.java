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

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collections;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The runtime's resilience features as Java sees them: options reach the native side. */
class ResilienceTest {

    private static void eventually(String what, BooleanSupplier condition) throws Exception {
        Waits.eventually(what, Duration.ofSeconds(10), condition);
    }

    private static StatusCode failureCode(CompletableFuture<byte[]> call) throws Exception {
        try {
            call.get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            return ((RosException) e.getCause()).code();
        }
        throw new AssertionError("call succeeded but was expected to fail");
    }

    @Test
    void cancellingTheFutureRemovesTheQueuedRequest() throws Exception {
        try (RosServer server = RosServer.start(RosServerOptions.defaults());
                RosClient client = RosClient.create()) {
            client.updateEndpoints(Collections.singletonList("127.0.0.1:" + server.port()));
            CompletableFuture<byte[]> call = client.call("m", new byte[] {1});
            eventually("request queued", () -> server.stats().queueDepth() == 1);

            assertThat(call.cancel(true)).isTrue();
            eventually("request removed", () -> server.stats().cancelledQueued() == 1);
            assertThat(server.stats().queueDepth()).isZero();
            assertThat(server.poll(10, Duration.ZERO)).isEmpty();
            eventually("nothing in flight", () -> client.stats().inFlight() == 0);
        }
    }

    @Test
    void statsCountCallsOutcomesAndLatency() throws Exception {
        try (ServingThread server =
                        new ServingThread(
                                RosServer.start(RosServerOptions.defaults()),
                                (s, r) -> {
                                    if (r.payload()[0] == 0) {
                                        s.complete(r.id(), r.payload());
                                    } else {
                                        s.fail(r.id(), StatusCode.INVALID_ARGUMENT, "odd");
                                    }
                                });
                RosClient client = RosClient.create()) {
            client.updateEndpoints(Collections.singletonList(server.endpoint()));
            for (int i = 0; i < 10; i++) {
                CompletableFuture<byte[]> call = client.call("m", new byte[] {(byte) (i % 2)});
                try {
                    call.get(10, TimeUnit.SECONDS);
                } catch (ExecutionException expectedForOdd) {
                    // counted below
                }
            }
            RosClientStats stats = client.stats();
            assertThat(stats.calls()).isEqualTo(10);
            assertThat(stats.succeeded()).isEqualTo(5);
            assertThat(stats.failed().get(StatusCode.INVALID_ARGUMENT)).isEqualTo(5);
            assertThat(stats.failed().total()).isEqualTo(5);
            assertThat(stats.latency().count()).isEqualTo(5);
            assertThat(stats.latency().max()).isPositive().isLessThan(Duration.ofSeconds(10));
            assertThat(stats.inFlight()).isZero();

            RosServerStats serverStats = server.server.stats();
            assertThat(serverStats.admitted()).isEqualTo(10);
            assertThat(serverStats.completed()).isEqualTo(10);
            assertThat(serverStats.failed().get(StatusCode.INVALID_ARGUMENT)).isEqualTo(5);
            assertThat(serverStats.execution().count()).isEqualTo(10);
            assertThat(serverStats.queueWait().count()).isEqualTo(10);
        }
    }

    @Test
    void tokenAndMethodsAreEnforcedAndTheTokenStaysSecret() throws Exception {
        String token = ServiceTokens.generate();
        try (ServingThread server =
                        ServingThread.echo(
                                RosServer.start(
                                        RosServerOptions.builder()
                                                .token(token)
                                                .methods(Arrays.asList("embed", "classify"))
                                                .build()));
                RosClient good = RosClient.create(RosClientOptions.builder().token(token).build());
                RosClient intruder = RosClient.create()) {
            good.updateEndpoints(Collections.singletonList(server.endpoint()));
            intruder.updateEndpoints(Collections.singletonList(server.endpoint()));

            assertThat(good.callSync("embed", new byte[] {7})).startsWith(7);
            assertThat(failureCode(good.call("train", new byte[0])))
                    .isEqualTo(StatusCode.NOT_FOUND);
            assertThatThrownBy(() -> intruder.callSync("embed", new byte[0]))
                    .isInstanceOfSatisfying(
                            RosException.class,
                            e -> {
                                assertThat(e.code()).isEqualTo(StatusCode.UNAUTHENTICATED);
                                assertThat(e.getMessage()).doesNotContain(token);
                            });
            assertThat(server.server.stats().rejectedUnauthenticated()).isEqualTo(1);
            assertThat(server.server.stats().rejectedUnknownMethod()).isEqualTo(1);
            assertThat(good.options().toString()).doesNotContain(token);
            assertThat(server.server.options().toString()).doesNotContain(token);
        }
    }

    @Test
    void retryOptionsReachTheRuntime() throws Exception {
        // A full instance (capacity 1, one request parked in it) and a healthy one.
        try (RosServer full = RosServer.start(RosServerOptions.builder().queueCapacity(1).build());
                ServingThread healthy =
                        ServingThread.echo(RosServer.start(RosServerOptions.defaults()));
                RosClient filler = RosClient.create()) {
            filler.updateEndpoints(Collections.singletonList("127.0.0.1:" + full.port()));
            CompletableFuture<byte[]> parked = filler.call("m", new byte[0]);
            eventually("full instance full", () -> full.stats().queueDepth() == 1);
            String fullEndpoint = "127.0.0.1:" + full.port();

            RosClientOptions.Builder roundRobin =
                    RosClientOptions.builder().loadBalancing(LoadBalancing.ROUND_ROBIN);
            try (RosClient noRetries = RosClient.create(roundRobin.maxAttempts(1).build())) {
                noRetries.updateEndpoints(Arrays.asList(fullEndpoint, healthy.endpoint()));
                // Round-robin starts with the full instance; without retries the call fails.
                assertThat(failureCode(noRetries.call("m", new byte[0])))
                        .isEqualTo(StatusCode.RESOURCE_EXHAUSTED);
            }
            try (RosClient retrying = RosClient.create(roundRobin.maxAttempts(2).build())) {
                retrying.updateEndpoints(Arrays.asList(fullEndpoint, healthy.endpoint()));
                byte[] reply = retrying.callSync("m", "x".getBytes(StandardCharsets.UTF_8));
                assertThat(new String(reply, StandardCharsets.UTF_8))
                        .isEqualTo("x|" + healthy.server.port());
                assertThat(retrying.stats().retries()).isEqualTo(1);
                assertThat(retrying.stats().ejections()).isEqualTo(1);
            }
            full.poll(1, Duration.ofSeconds(5)).forEach(r -> full.complete(r.id(), new byte[0]));
            parked.get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void aRestartedCallerCancelsTheQueuedRequestsOfItsEarlierAttempts() throws Exception {
        try (RosServer server = RosServer.start(RosServerOptions.defaults());
                RosClient before =
                        RosClient.create(RosClientOptions.builder().clientId("job/op/0").build());
                RosClient after =
                        RosClient.create(
                                RosClientOptions.builder()
                                        .clientId("job/op/0")
                                        .clientEpoch(1)
                                        .build())) {
            String endpoint = "127.0.0.1:" + server.port();
            before.updateEndpoints(Collections.singletonList(endpoint));
            after.updateEndpoints(Collections.singletonList(endpoint));
            CompletableFuture<byte[]> first = before.call("m", new byte[0]);
            CompletableFuture<byte[]> second = before.call("m", new byte[0]);
            eventually("two queued", () -> server.stats().queueDepth() == 2);

            assertThat(after.cancelEarlierEpochs().get(10, TimeUnit.SECONDS)).isEqualTo(2);
            assertThat(failureCode(first)).isEqualTo(StatusCode.CANCELLED);
            assertThat(failureCode(second)).isEqualTo(StatusCode.CANCELLED);
            assertThat(server.stats().cancelledQueued()).isEqualTo(2);
            // Its own requests are not touched, and another client's id matches nothing.
            CompletableFuture<byte[]> own = after.call("m", new byte[0]);
            eventually("own queued", () -> server.stats().queueDepth() == 1);
            assertThat(after.cancelEpochs("job/op/1", 5).get(10, TimeUnit.SECONDS)).isZero();
            server.poll(1, Duration.ofSeconds(5))
                    .forEach(r -> server.complete(r.id(), new byte[0]));
            own.get(10, TimeUnit.SECONDS);
        }
    }
}
