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

import org.flinkros.client.internal.NativeTestHooks;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** RosClient and RosServer through JNI, with real gRPC on loopback. */
class RosClientServerTest {

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String text(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    private static RosException failure(CompletableFuture<byte[]> future) throws Exception {
        try {
            future.get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            assertThat(e.getCause()).isInstanceOf(RosException.class);
            return (RosException) e.getCause();
        }
        throw new AssertionError("call succeeded but was expected to fail");
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void roundTripsAsyncAndSyncAcrossTwoInstances(Transport transport) throws Exception {
        try (ServingThread a = ServingThread.echo(RosServer.start(RosServerOptions.defaults()));
                ServingThread b = ServingThread.echo(RosServer.start(RosServerOptions.defaults()));
                RosClient client =
                        RosClient.create(RosClientOptions.builder().transport(transport).build())) {
            client.updateEndpoints(Arrays.asList(a.endpoint(), b.endpoint()));
            assertThat(client.endpoints()).containsExactly(a.endpoint(), b.endpoint());

            List<CompletableFuture<byte[]>> calls = new ArrayList<>();
            for (int i = 0; i < 2000; i++) {
                calls.add(client.call("echo", utf8("r" + i)));
            }
            for (int i = 0; i < calls.size(); i++) {
                assertThat(text(calls.get(i).get(10, TimeUnit.SECONDS))).startsWith("r" + i + "|");
            }
            assertThat(a.served.get()).isPositive();
            assertThat(b.served.get()).isPositive();
            assertThat(a.served.get() + b.served.get()).isEqualTo(2000);

            assertThat(text(client.callSync("echo", utf8("sync")))).startsWith("sync|");
            assertThat(client.callSync("echo", new byte[0], Duration.ofSeconds(5))).isNotEmpty();
        }
    }

    @Test
    void keyedCallsOfTheSameRequestRunOnceAcrossTwoInstances() throws Exception {
        try (ServingThread a = ServingThread.echo(RosServer.start(RosServerOptions.defaults()));
                ServingThread b = ServingThread.echo(RosServer.start(RosServerOptions.defaults()));
                // With two instances, a load factor of 2 never turns a key away from its instance
                // (the bounded loads have their own tests): every repeat finds its result.
                RosClient client =
                        RosClient.create(
                                RosClientOptions.builder().affinityLoadFactor(2.0).build())) {
            client.updateEndpoints(Arrays.asList(a.endpoint(), b.endpoint()));
            for (int round = 0; round < 3; round++) {
                for (int i = 0; i < 100; i++) {
                    byte[] reply =
                            client.call("echo", utf8("r" + i), null, IdentityKey.of(i))
                                    .get(10, TimeUnit.SECONDS);
                    assertThat(text(reply)).startsWith("r" + i + "|");
                }
            }
            // Deterministic by content: equal calls share one run, different ones do not.
            for (int i = 0; i < 2; i++) {
                client.call("echo", utf8("same"), null, IdentityKey.content())
                        .get(10, TimeUnit.SECONDS);
            }
            assertThat(
                            text(
                                    client.call("echo", utf8("other"), null, IdentityKey.content())
                                            .get(10, TimeUnit.SECONDS)))
                    .startsWith("other|");
            assertThat(a.served.get() + b.served.get()).as("distinct requests run").isEqualTo(102);
            RosServerStats first = a.server.stats();
            RosServerStats second = b.server.stats();
            assertThat(first.cacheHits() + second.cacheHits()).isEqualTo(201);
            assertThat(first.cacheEntries() + second.cacheEntries()).isEqualTo(102);
            assertThat(first.cacheBytes()).isPositive();
        }
    }

    @Test
    void resultsAndFailuresArrivingTogetherReachTheirOwnCallers() throws Exception {
        // Under load the runtime hands many outcomes to Java in one crossing: each must still
        // reach its own future, failures included.
        try (ServingThread mixed =
                        new ServingThread(
                                RosServer.start(RosServerOptions.defaults()),
                                (s, r) -> {
                                    String text = text(r.payload());
                                    if (Integer.parseInt(text) % 3 == 0) {
                                        s.fail(r.id(), StatusCode.INVALID_ARGUMENT, "bad " + text);
                                    } else {
                                        s.complete(r.id(), utf8("ok " + text));
                                    }
                                });
                RosClient client = RosClient.create()) {
            client.updateEndpoints(Collections.singletonList(mixed.endpoint()));
            List<CompletableFuture<byte[]>> calls = new ArrayList<>();
            for (int i = 0; i < 3000; i++) {
                calls.add(client.call("m", utf8(Integer.toString(i))));
            }
            for (int i = 0; i < calls.size(); i++) {
                if (i % 3 == 0) {
                    RosException error = failure(calls.get(i));
                    assertThat(error.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
                    assertThat(error.description()).isEqualTo("bad " + i);
                } else {
                    assertThat(text(calls.get(i).get(10, TimeUnit.SECONDS))).isEqualTo("ok " + i);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(StatusCode.class)
    void everyStatusCodeReachesTheCallerUnchanged(StatusCode code) throws Exception {
        try (ServingThread failing =
                        new ServingThread(
                                RosServer.start(RosServerOptions.defaults()),
                                (s, r) -> s.fail(r.id(), code, "failed with " + code.name()));
                RosClient client = RosClient.create()) {
            client.updateEndpoints(Collections.singletonList(failing.endpoint()));
            RosException error = failure(client.call("m", new byte[] {1}));
            assertThat(error.code()).isEqualTo(code);
            assertThat(error.description()).contains("failed with " + code.name());
            assertThat(error.isRetryable()).isEqualTo(code.isRetryable());

            assertThatThrownBy(() -> client.callSync("m", new byte[0]))
                    .isInstanceOfSatisfying(
                            RosException.class, e -> assertThat(e.code()).isEqualTo(code));
        }
    }

    @Test
    void closingTheClientFailsCallsInFlightWithCancelled() throws Exception {
        CountDownLatch polled = new CountDownLatch(3);
        RosServer server = RosServer.start(RosServerOptions.defaults());
        // Takes requests but never answers them.
        try (ServingThread silent = new ServingThread(server, (s, r) -> polled.countDown())) {
            RosClient client = RosClient.create();
            client.updateEndpoints(Collections.singletonList(silent.endpoint()));
            List<CompletableFuture<byte[]>> calls = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                calls.add(client.call("m", new byte[0], Duration.ofMinutes(5)));
            }
            assertThat(polled.await(10, TimeUnit.SECONDS)).isTrue();

            client.close();
            for (CompletableFuture<byte[]> call : calls) {
                assertThat(failure(call).code()).isEqualTo(StatusCode.CANCELLED);
            }
            assertThat(failure(client.call("m", new byte[0])).code())
                    .isEqualTo(StatusCode.CANCELLED);
            assertThatThrownBy(() -> client.updateEndpoints(Collections.emptyList()))
                    .isInstanceOf(RosException.class);
            client.close(); // idempotent
        }
    }

    @Test
    void emptyEndpointSetFailsUnavailableAtOnce() throws Exception {
        try (RosClient client = RosClient.create()) {
            long start = System.nanoTime();
            RosException error = failure(client.call("m", new byte[0]));
            assertThat(error.code()).isEqualTo(StatusCode.UNAVAILABLE);
            assertThat(Duration.ofNanos(System.nanoTime() - start))
                    .isLessThan(Duration.ofSeconds(1));
        }
    }

    @Test
    void malformedEndpointIsRejectedNamingIt() {
        try (RosClient client = RosClient.create()) {
            assertThatThrownBy(() -> client.updateEndpoints(Arrays.asList("127.0.0.1:1", "oops")))
                    .isInstanceOfSatisfying(
                            RosException.class,
                            e -> {
                                assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
                                assertThat(e.getMessage()).contains("oops");
                            });
            assertThat(client.endpoints()).isEmpty();
        }
    }

    @Test
    void fullQueueRefusesWithResourceExhausted() throws Exception {
        try (RosServer server =
                        RosServer.start(RosServerOptions.builder().queueCapacity(1).build());
                RosClient client = RosClient.create()) {
            client.updateEndpoints(Collections.singletonList("127.0.0.1:" + server.port()));
            // Nobody polls yet: one request fills the queue, the other four are refused.
            List<CompletableFuture<byte[]>> calls = new ArrayList<>();
            CountDownLatch refused = new CountDownLatch(4);
            for (int i = 0; i < 5; i++) {
                CompletableFuture<byte[]> call = client.call("m", utf8("r" + i));
                call.whenComplete((r, e) -> refused.countDown());
                calls.add(call);
            }
            assertThat(refused.await(10, TimeUnit.SECONDS)).isTrue();
            List<RosServerRequest> batch = server.poll(10, Duration.ofSeconds(10));
            assertThat(batch).hasSize(1);
            assertThat(server.complete(batch.get(0).id(), utf8("done"))).isTrue();

            int succeeded = 0;
            List<String> refusals = new ArrayList<>();
            for (CompletableFuture<byte[]> call : calls) {
                try {
                    assertThat(text(call.get(10, TimeUnit.SECONDS))).isEqualTo("done");
                    succeeded++;
                } catch (ExecutionException e) {
                    RosException error = (RosException) e.getCause();
                    assertThat(error.code()).isEqualTo(StatusCode.RESOURCE_EXHAUSTED);
                    refusals.add(error.description());
                }
            }
            assertThat(succeeded).isEqualTo(1);
            // The instance refused the first with its capacity; then it sat out a backoff, so
            // the client refused the rest itself, saying every instance is busy.
            assertThat(refusals).hasSize(4).anySatisfy(d -> assertThat(d).contains("capacity 1"));
        }
    }

    @Test
    void polledRequestCarriesTheCallersIdentity() throws Exception {
        try (RosServer server = RosServer.start(RosServerOptions.defaults());
                RosClient client =
                        RosClient.create(
                                RosClientOptions.builder()
                                        .clientId("job/op/3")
                                        .clientEpoch(2)
                                        .build())) {
            client.updateEndpoints(Collections.singletonList("127.0.0.1:" + server.port()));
            CompletableFuture<byte[]> call =
                    client.call("predict", utf8("x"), Duration.ofSeconds(20));
            List<RosServerRequest> batch = server.poll(1, Duration.ofSeconds(10));
            assertThat(batch).hasSize(1);
            RosServerRequest request = batch.get(0);
            assertThat(request.clientId()).isEqualTo("job/op/3");
            assertThat(request.clientEpoch()).isEqualTo(2);
            assertThat(request.method()).isEqualTo("predict");
            assertThat(text(request.payload())).isEqualTo("x");
            assertThat(request.timeoutMillis()).isBetween(1L, 20_000L);
            server.complete(request.id(), utf8("y"));
            assertThat(text(call.get(10, TimeUnit.SECONDS))).isEqualTo("y");
        }
    }

    @Test
    void aClientClosesFromAResultCallbackRunOnARuntimeThread() throws Exception {
        Executor direct = Runnable::run;
        try (RosServer server = RosServer.start(RosServerOptions.defaults())) {
            RosClient client =
                    RosClient.create(RosClientOptions.builder().callbackExecutor(direct).build());
            client.updateEndpoints(Collections.singletonList("127.0.0.1:" + server.port()));
            CompletableFuture<String> closedOn = new CompletableFuture<>();
            client.call("m", utf8("x"))
                    .whenComplete(
                            (reply, error) -> {
                                try {
                                    client.close();
                                    closedOn.complete(Thread.currentThread().getName());
                                } catch (Throwable t) {
                                    closedOn.completeExceptionally(t);
                                }
                            });
            // Answered only now, so the callback runs where the result arrives: a runtime thread.
            RosServerRequest request = server.poll(1, Duration.ofSeconds(10)).get(0);
            server.complete(request.id(), utf8("z"));
            // The close ran there, returned, and left the client closed.
            assertThat(closedOn.get(10, TimeUnit.SECONDS)).startsWith("ros-runtime");
            assertThat(failure(client.call("m", utf8("y"))).code()).isEqualTo(StatusCode.CANCELLED);
            client.close();
        }
    }

    @Test
    void resultsAreCompletedOnTheCallbackExecutorNotOnRuntimeThreads() throws Exception {
        AtomicReference<String> completingThread = new AtomicReference<>();
        Executor recording =
                task -> {
                    completingThread.set(Thread.currentThread().getName());
                    task.run();
                };
        try (ServingThread echo = ServingThread.echo(RosServer.start(RosServerOptions.defaults()));
                RosClient client =
                        RosClient.create(
                                RosClientOptions.builder().callbackExecutor(recording).build())) {
            client.updateEndpoints(Collections.singletonList(echo.endpoint()));
            client.call("m", utf8("x")).get(10, TimeUnit.SECONDS);
            // The executor was handed the completion (it ran inline on the runtime thread only
            // because this test's executor is a direct one).
            assertThat(completingThread.get()).startsWith("ros-runtime");
        }

        // With the default executor, a callback attached before the result arrives runs on the
        // client's own callback thread.
        try (RosServer server = RosServer.start(RosServerOptions.defaults());
                RosClient client = RosClient.create()) {
            client.updateEndpoints(Collections.singletonList("127.0.0.1:" + server.port()));
            CompletableFuture<String> callbackThread =
                    client.call("m", utf8("y")).thenApply(r -> Thread.currentThread().getName());
            RosServerRequest request = server.poll(1, Duration.ofSeconds(10)).get(0);
            server.complete(request.id(), utf8("z"));
            assertThat(callbackThread.get(10, TimeUnit.SECONDS)).startsWith("ros-client-callbacks");
        }
    }

    @Test
    void closedServerStopsPollingAndAnswering() throws Exception {
        RosServer server = RosServer.start(RosServerOptions.defaults());
        server.close();
        assertThat(server.poll(10, Duration.ofSeconds(5))).isEmpty();
        assertThat(server.complete(1, new byte[0])).isFalse();
        assertThat(server.fail(1, StatusCode.INTERNAL, "x")).isFalse();
        server.close();
    }

    @Test
    void bindingATakenPortFailsUnavailableNamingTheAddress() {
        try (RosServer first = RosServer.start(RosServerOptions.defaults())) {
            assertThatThrownBy(
                            () ->
                                    RosServer.start(
                                            RosServerOptions.builder().port(first.port()).build()))
                    .isInstanceOfSatisfying(
                            RosException.class,
                            e -> {
                                assertThat(e.code()).isEqualTo(StatusCode.UNAVAILABLE);
                                assertThat(e.getMessage()).contains(":" + first.port());
                            });
        }
    }

    @Test
    void callersThatTrustTheServicesAuthorityAreServedOverTls(@TempDir Path pki) throws Exception {
        NativeTestHooks.writeTestPki(pki.toString(), "svc.flink-ros");
        RosServerOptions tls =
                RosServerOptions.builder()
                        .tls(
                                pki.resolve("instance.pem").toString(),
                                pki.resolve("instance.key").toString())
                        .build();
        try (ServingThread instance = ServingThread.echo(RosServer.start(tls));
                RosClient trusting =
                        RosClient.create(
                                RosClientOptions.builder()
                                        .tlsCaFile(pki.resolve("ca.pem").toString())
                                        .tlsServerName("svc.flink-ros")
                                        .build());
                RosClient plain =
                        RosClient.create(RosClientOptions.builder().maxAttempts(1).build())) {
            trusting.updateEndpoints(Collections.singletonList(instance.endpoint()));
            assertThat(new String(trusting.callSync("echo", utf8("hi")), StandardCharsets.UTF_8))
                    .startsWith("hi");
            plain.updateEndpoints(Collections.singletonList(instance.endpoint()));
            assertThatThrownBy(() -> plain.call("echo", utf8("hi")).get(10, TimeUnit.SECONDS))
                    .cause()
                    .isInstanceOfSatisfying(
                            RosException.class,
                            e -> assertThat(e.code()).isEqualTo(StatusCode.UNAVAILABLE));
            assertThat(instance.server.stats().admitted()).isEqualTo(1);
        }
    }
}
