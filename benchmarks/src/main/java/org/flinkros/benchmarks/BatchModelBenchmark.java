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
import org.flinkros.client.RosServer;
import org.flinkros.client.RosServerOptions;
import org.flinkros.client.RosServerReplies;
import org.flinkros.client.RosServerRequest;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Dynamic batching against a batch-friendly model: each batch costs 1 ms plus 5 µs per request
 * (slept, as a GPU kernel leaves the CPU free), run serially by one worker as an instance runs a
 * {@code BatchRpcOperator}: poll a batch, run the model once, answer the batch in one crossing.
 *
 * <p>Prints, in alternating rounds: throughput with 512 calls in flight at batch size 1 (what an
 * operator gets without batching) and with dynamic batching (maxBatchSize 512, maxBatchDelay 0);
 * and the median latency of one call at a time with batching on, beside the model's own median time
 * for a batch of one.
 */
public final class BatchModelBenchmark {
    private static final int IN_FLIGHT = 512;
    private static final int ROUNDS = 3;
    private static final Duration WARM_UP = Duration.ofSeconds(2);
    private static final Duration MEASURE = Duration.ofSeconds(5);
    private static final int SEQUENTIAL_CALLS = 2_000;
    private static final byte[] PAYLOAD = new byte[256];

    private BatchModelBenchmark() {}

    /** The model: 1 ms per batch plus 5 µs per request. */
    static void model(int batchSize) {
        long until = System.nanoTime() + 1_000_000L + 5_000L * batchSize;
        long left;
        while ((left = until - System.nanoTime()) > 0) {
            LockSupport.parkNanos(left);
        }
    }

    public static void main(String[] args) throws Exception {
        List<Double> single = new ArrayList<>();
        List<Double> batched = new ArrayList<>();
        List<Double> latency = new ArrayList<>();
        List<Double> modelAlone = new ArrayList<>();
        for (int round = 0; round < ROUNDS; round++) {
            single.add(throughput(1));
            batched.add(throughput(512));
            latency.add(oneAtATimeMedianMicros());
            modelAlone.add(modelMedianMicros());
        }
        System.out.println();
        System.out.println(
                "Batch-friendly model (1 ms + 5 µs per request, serial), loopback, medians of "
                        + ROUNDS
                        + " rounds");
        System.out.printf("%-58s %,12.0f calls/s%n", "512 in flight, batch size 1", median(single));
        System.out.printf(
                "%-58s %,12.0f calls/s  (%.1fx batch size 1)%n",
                "512 in flight, dynamic batching (max 512, delay 0)",
                median(batched),
                median(batched) / median(single));
        System.out.printf(
                "%-58s %12.0f µs  (model alone %.0f µs, +%.0f µs)%n",
                "1 in flight, dynamic batching, latency p50",
                median(latency),
                median(modelAlone),
                median(latency) - median(modelAlone));
    }

    /**
     * Calls per second with {@link #IN_FLIGHT} calls in flight and batches of at most {@code max}.
     */
    private static double throughput(int maxBatchSize) throws Exception {
        try (Served served = new Served(maxBatchSize)) {
            AtomicLong completed = new AtomicLong();
            Semaphore slots = new Semaphore(IN_FLIGHT);
            long warmUntil = System.nanoTime() + WARM_UP.toNanos();
            long startCount = -1;
            long startedAt = 0;
            long endAt = warmUntil + MEASURE.toNanos();
            while (true) {
                long now = System.nanoTime();
                if (startCount < 0 && now >= warmUntil) {
                    startCount = completed.get();
                    startedAt = now;
                }
                if (now >= endAt) {
                    break;
                }
                if (!slots.tryAcquire(10, TimeUnit.MILLISECONDS)) {
                    continue;
                }
                served.client
                        .call("predict", PAYLOAD)
                        .whenComplete(
                                (reply, error) -> {
                                    if (error != null) {
                                        throw new IllegalStateException(error);
                                    }
                                    completed.incrementAndGet();
                                    slots.release();
                                });
            }
            long done = completed.get() - startCount;
            double seconds = (System.nanoTime() - startedAt) / 1e9;
            slots.acquire(IN_FLIGHT);
            return done / seconds;
        }
    }

    /** Median latency in µs of calls made one at a time, batching on. */
    private static double oneAtATimeMedianMicros() throws Exception {
        try (Served served = new Served(512)) {
            for (int i = 0; i < SEQUENTIAL_CALLS / 4; i++) {
                served.client.callSync("predict", PAYLOAD);
            }
            double[] micros = new double[SEQUENTIAL_CALLS];
            for (int i = 0; i < SEQUENTIAL_CALLS; i++) {
                long start = System.nanoTime();
                served.client.callSync("predict", PAYLOAD);
                micros[i] = (System.nanoTime() - start) / 1e3;
            }
            Arrays.sort(micros);
            return micros[micros.length / 2];
        }
    }

    /** Median time in µs of the model on a batch of one, called directly. */
    private static double modelMedianMicros() {
        double[] micros = new double[SEQUENTIAL_CALLS];
        for (int i = 0; i < SEQUENTIAL_CALLS; i++) {
            long start = System.nanoTime();
            model(1);
            micros[i] = (System.nanoTime() - start) / 1e3;
        }
        Arrays.sort(micros);
        return micros[micros.length / 2];
    }

    private static double median(List<Double> values) {
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return sorted[sorted.length / 2];
    }

    /** A server with one serial worker running the model, and a client over it. */
    private static final class Served implements AutoCloseable {
        final RosServer server;
        final RosClient client;
        private final Thread worker;
        private volatile boolean running = true;

        Served(int maxBatchSize) {
            server =
                    RosServer.start(
                            RosServerOptions.builder()
                                    .maxBatchSize(maxBatchSize)
                                    .queueCapacity(4 * IN_FLIGHT)
                                    .build());
            worker = new Thread(this::serve, "model-worker");
            worker.setDaemon(true);
            worker.start();
            client = RosClient.create();
            client.updateEndpoints(List.of("127.0.0.1:" + server.port()));
        }

        private void serve() {
            RosServerReplies replies = new RosServerReplies(512);
            while (running) {
                List<RosServerRequest> batch =
                        server.poll(Integer.MAX_VALUE, Duration.ofMillis(20));
                if (batch.isEmpty()) {
                    continue;
                }
                model(batch.size());
                for (RosServerRequest request : batch) {
                    replies.complete(request.id(), request.payload());
                }
                server.completeAll(replies);
                replies.clear();
            }
        }

        @Override
        public void close() throws InterruptedException {
            running = false;
            worker.join();
            client.close();
            server.close();
        }
    }
}
