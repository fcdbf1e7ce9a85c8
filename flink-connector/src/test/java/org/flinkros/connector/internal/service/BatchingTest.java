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

import org.flinkros.client.RosClient;
import org.flinkros.client.RosException;
import org.flinkros.client.RosServer;
import org.flinkros.client.RosServerOptions;
import org.flinkros.client.StatusCode;
import org.flinkros.connector.BatchRpcOperator;
import org.flinkros.connector.RosMethod;
import org.flinkros.connector.RpcBatch;
import org.flinkros.connector.RpcOperator;
import org.flinkros.connector.TypedRpcOperator;
import org.flinkros.connector.testing.Clusters;

import org.apache.flink.api.common.typeinfo.Types;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Dynamic batching end to end: batch operators behind a real server and the production run loop,
 * called by a real client.
 */
class BatchingTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    private RosServer server;
    private RosClient client;
    private RpcOperatorRunner runner;

    /**
     * Answers "ok:x" with "x", fails "bad" on its own, leaves "skip" unanswered and, when the batch
     * holds a "boom", throws once it has answered the rest; records every batch's size. Its first
     * batch waits for {@link #release} when {@link #gate} is set, so that the requests behind it
     * queue up.
     */
    static final class Recorder implements BatchRpcOperator {
        final List<Integer> sizes = new CopyOnWriteArrayList<>();
        final CountDownLatch release = new CountDownLatch(1);
        volatile boolean gate;

        @Override
        public void invokeBatch(String method, RpcBatch batch) throws Exception {
            if (gate && sizes.isEmpty()) {
                release.await();
            }
            sizes.add(batch.size());
            boolean boom = false;
            for (int i = 0; i < batch.size(); i++) {
                String text = new String(batch.payload(i), StandardCharsets.UTF_8);
                if (text.startsWith("ok:")) {
                    batch.reply(i, text.substring(3).getBytes(StandardCharsets.UTF_8));
                } else if (text.equals("bad")) {
                    batch.fail(i, new RosException(StatusCode.INVALID_ARGUMENT, "bad item"));
                } else if (text.equals("boom")) {
                    boom = true;
                }
            }
            if (boom) {
                throw new IllegalStateException("the batch failed");
            }
        }
    }

    private void start(RpcOperator op, RosServerOptions.Builder options) {
        server = RosServer.start(options.methods(op.methods()).build());
        runner = new RpcOperatorRunner(server, op, 1, "batching", getClass().getClassLoader());
        runner.start();
        client = RosClient.create();
        client.updateEndpoints(Collections.singletonList("127.0.0.1:" + server.port()));
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (client != null) {
            client.close();
        }
        if (runner != null) {
            runner.close();
        }
    }

    private CompletableFuture<byte[]> call(String text) {
        return client.call("m", text.getBytes(StandardCharsets.UTF_8));
    }

    private static String text(CompletableFuture<byte[]> call) throws Exception {
        return new String(call.get(30, TimeUnit.SECONDS), StandardCharsets.UTF_8);
    }

    /** Queues {@code texts} behind a gated first request, then lets the operator run. */
    private List<CompletableFuture<byte[]>> queuedBehindGate(Recorder model, List<String> texts)
            throws Exception {
        model.gate = true;
        CompletableFuture<byte[]> first = call("ok:first");
        Clusters.eventually(WAIT, "the first request taken", () -> server.stats().executing() == 1);
        List<CompletableFuture<byte[]>> calls =
                texts.stream().map(this::call).collect(Collectors.toList());
        Clusters.eventually(
                WAIT,
                texts.size() + " requests queued",
                () -> server.stats().queueDepth() == texts.size());
        model.release.countDown();
        assertThat(text(first)).isEqualTo("first");
        return calls;
    }

    @Test
    void batchesFormUnderLoadUpToMaxBatchSize() throws Exception {
        Recorder model = new Recorder();
        start(model, RosServerOptions.builder().maxBatchSize(8));
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 39; i++) {
            texts.add("ok:" + i);
        }
        List<CompletableFuture<byte[]>> calls = queuedBehindGate(model, texts);
        for (int i = 0; i < calls.size(); i++) {
            assertThat(text(calls.get(i))).isEqualTo(Integer.toString(i));
        }
        // The gated batch of one, then the 39 queued ones in full batches of 8, oldest first.
        assertThat(model.sizes).containsExactly(1, 8, 8, 8, 8, 7);
        assertThat(runner.batchSizes().getStatistics().getMax()).isEqualTo(8);
        assertThat(server.stats().batches()).isEqualTo(6);
    }

    @Test
    void oneCallAtATimeMakesBatchesOfOne() throws Exception {
        Recorder model = new Recorder();
        start(model, RosServerOptions.builder().maxBatchSize(64));
        for (int i = 0; i < 20; i++) {
            assertThat(text(call("ok:" + i))).isEqualTo(Integer.toString(i));
        }
        assertThat(model.sizes).hasSize(20).containsOnly(1);
    }

    @Test
    void aBatchWaitsUpToMaxBatchDelayToFillAndNoLongerOnceFull() throws Exception {
        Recorder model = new Recorder();
        Duration delay = Duration.ofMillis(200);
        start(
                model,
                RosServerOptions.builder()
                        .maxBatchSize(4)
                        .batching("m", 4, delay)
                        .batching("other", 4, Duration.ofSeconds(20)));
        long started = System.nanoTime();
        assertThat(text(call("ok:alone"))).isEqualTo("alone");
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(delay);

        // A delay far longer than the test: four calls fill the batch, which then goes at once.
        started = System.nanoTime();
        List<CompletableFuture<byte[]>> full = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            full.add(client.call("other", ("ok:" + i).getBytes(StandardCharsets.UTF_8)));
        }
        for (int i = 0; i < 4; i++) {
            assertThat(text(full.get(i))).isEqualTo(Integer.toString(i));
        }
        assertThat(Duration.ofNanos(System.nanoTime() - started))
                .isLessThan(Duration.ofSeconds(10));
        assertThat(model.sizes).containsExactly(1, 4);
    }

    @Test
    void perItemAndWholeBatchFailuresReachExactlyTheirCallers() throws Exception {
        Recorder model = new Recorder();
        start(model, RosServerOptions.builder());
        List<CompletableFuture<byte[]>> calls =
                queuedBehindGate(model, List.of("ok:a", "bad", "skip", "ok:b"));
        assertThat(text(calls.get(0))).isEqualTo("a");
        assertFailure(calls.get(1), StatusCode.INVALID_ARGUMENT, "bad item");
        assertFailure(calls.get(2), StatusCode.INTERNAL, "returned without answering request");
        assertThat(text(calls.get(3))).isEqualTo("b");
        assertThat(model.sizes).containsExactly(1, 4);
    }

    @Test
    void aThrowFailsTheUnansweredRequestsOfItsBatchOnly() throws Exception {
        Recorder model = new Recorder();
        start(model, RosServerOptions.builder());
        List<CompletableFuture<byte[]>> calls =
                queuedBehindGate(model, List.of("ok:a", "boom", "skip", "ok:b"));
        assertThat(text(calls.get(0))).isEqualTo("a");
        assertFailure(calls.get(1), StatusCode.INTERNAL, "the batch failed");
        assertFailure(calls.get(2), StatusCode.INTERNAL, "the batch failed");
        assertThat(text(calls.get(3))).isEqualTo("b");
        assertThat(model.sizes).containsExactly(1, 4);
        // The instance keeps serving.
        assertThat(text(call("ok:after"))).isEqualTo("after");
    }

    static final RosMethod<String, Integer> LENGTHS =
            RosMethod.of("lengths", Types.STRING, Types.INT);
    static final RosMethod<String, Integer> WRONG = RosMethod.of("wrong", Types.STRING, Types.INT);

    /** A typed batch model: one call of its handler per batch. */
    static final class TypedBatchModel extends TypedRpcOperator {
        final List<Integer> sizes = new CopyOnWriteArrayList<>();

        @Override
        protected void defineMethods(Methods methods) {
            methods.addBatch(
                            LENGTHS,
                            texts -> {
                                sizes.add(texts.size());
                                return texts.stream()
                                        .map(String::length)
                                        .collect(Collectors.toList());
                            })
                    .addBatch(WRONG, texts -> List.of());
        }
    }

    @Test
    void typedBatchMethodsDecodeEachItemAndAnswerInOrder() throws Exception {
        TypedBatchModel model = new TypedBatchModel();
        start(model, RosServerOptions.builder().batching("lengths", 16, Duration.ofSeconds(20)));
        List<CompletableFuture<Integer>> calls = new ArrayList<>();
        for (String text : List.of("a", "bb", "ccc")) {
            calls.add(LENGTHS.on(client).call(text));
        }
        // Not a string: fails alone, with the argument type named; the others still run.
        CompletableFuture<byte[]> undecodable = client.call("lengths", new byte[] {5});
        List<CompletableFuture<Integer>> more = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            more.add(LENGTHS.on(client).call("x".repeat(i)));
        }
        assertThat(calls.get(0).get(30, TimeUnit.SECONDS)).isEqualTo(1);
        assertThat(calls.get(1).get(30, TimeUnit.SECONDS)).isEqualTo(2);
        assertThat(calls.get(2).get(30, TimeUnit.SECONDS)).isEqualTo(3);
        for (int i = 0; i < 12; i++) {
            assertThat(more.get(i).get(30, TimeUnit.SECONDS)).isEqualTo(i);
        }
        assertFailure(undecodable, StatusCode.INVALID_ARGUMENT, "String");
        // The 16 requests formed one batch; the handler saw the 15 that decoded.
        assertThat(model.sizes).containsExactly(15);

        assertThatThrownBy(() -> WRONG.on(client).callSync("x"))
                .isInstanceOfSatisfying(
                        RosException.class,
                        e -> {
                            assertThat(e.code()).isEqualTo(StatusCode.INTERNAL);
                            assertThat(e.getMessage()).contains("returned 0 results for 1");
                        });
    }

    static final RosMethod<String, Integer> SLOW_LENGTH =
            RosMethod.of("slowLength", Types.STRING, Types.INT);

    /** A typed model with a method run one request at a time and a batch method. */
    static final class MixedModel extends TypedRpcOperator {
        @Override
        protected void defineMethods(Methods methods) {
            methods.add(
                            SLOW_LENGTH,
                            text -> {
                                Thread.sleep(20);
                                return text.length();
                            })
                    .addBatch(
                            LENGTHS,
                            texts ->
                                    texts.stream()
                                            .map(String::length)
                                            .collect(Collectors.toList()));
        }
    }

    @Test
    void aTypedMethodWithoutABatchHandlerTakesOneRequestAtATime() throws Exception {
        MixedModel model = new MixedModel();
        RosServerOptions given =
                RosServerOptions.builder().batching("configured", 8, Duration.ZERO).build();
        RosServerOptions options = InstanceBatching.apply(given.toBuilder(), given, model).build();
        assertThat(options.maxBatchSize("slowLength")).isEqualTo(1);
        assertThat(options.maxBatchSize("lengths")).isEqualTo(64);
        assertThat(options.maxBatchSize("configured")).isEqualTo(8);

        RosServerOptions defaults = RosServerOptions.defaults();
        start(model, InstanceBatching.apply(defaults.toBuilder(), defaults, model));
        List<CompletableFuture<Integer>> calls = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            calls.add(SLOW_LENGTH.on(client).call("x".repeat(i)));
        }
        for (int i = 0; i < 10; i++) {
            assertThat(calls.get(i).get(30, TimeUnit.SECONDS)).isEqualTo(i);
        }
        // They queued behind one another (20 ms each), and still went one per batch.
        assertThat(server.stats().batches()).isEqualTo(10);
        assertThat(server.stats().dispatched()).isEqualTo(10);
    }

    private static void assertFailure(
            CompletableFuture<byte[]> call, StatusCode code, String message) {
        assertThatThrownBy(() -> call.get(30, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause()
                .isInstanceOfSatisfying(
                        RosException.class,
                        e -> {
                            assertThat(e.code()).isEqualTo(code);
                            assertThat(e.getMessage()).contains(message);
                        });
    }
}
