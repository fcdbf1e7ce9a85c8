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
package org.flinkros.examples.batching;

import org.flinkros.client.RosServerOptions;
import org.flinkros.connector.RosAsyncDataStream;
import org.flinkros.connector.RosDescriptor;
import org.flinkros.connector.RosMethod;
import org.flinkros.connector.RosMethodCall;
import org.flinkros.connector.RosService;
import org.flinkros.connector.RosServices;
import org.flinkros.connector.TypedRpcOperator;

import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Records per second of a Flink job (embedded cluster, parallelism 1) whose records go through a
 * batch-friendly model: each batch costs 1 ms plus 5 µs per record (slept, as a GPU leaves the CPU
 * free). Once with the model served by an RpcOperator service with dynamic batching, called through
 * {@code RosAsyncDataStream}; once embedded in a map, one record per call, as jobs do without
 * flink-ros. Prints both, their ratio, and the share of the model's own ceiling (a full batch back
 * to back) that the served job reaches.
 *
 * <p>Run it with {@code mvn -B -q -Pbatching-bench -DskipTests verify}. Arguments (optional):
 * {@code --records N} (default 200000 served, a tenth of it embedded), {@code --capacity C}
 * (records in flight, default 1024), {@code --max-batch B} (default 256).
 */
public final class BatchingJobBenchmark {
    static final RosMethod<Long, Long> PREDICT = RosMethod.of("predict", Types.LONG, Types.LONG);

    private BatchingJobBenchmark() {}

    /** The model: 1 ms per batch plus 5 µs per record. */
    static void model(int batchSize) {
        long until = System.nanoTime() + 1_000_000L + 5_000L * batchSize;
        long left;
        while ((left = until - System.nanoTime()) > 0) {
            LockSupport.parkNanos(left);
        }
    }

    public static void main(String[] args) throws Exception {
        long records = Long.parseLong(arg(args, "--records", "200000"));
        int capacity = Integer.parseInt(arg(args, "--capacity", "1024"));
        int maxBatch = Integer.parseInt(arg(args, "--max-batch", "256"));

        double served = run(true, records, capacity, maxBatch);
        double embedded = run(false, Math.max(1, records / 10), capacity, maxBatch);
        long ceilingStart = System.nanoTime();
        for (int i = 0; i < 200; i++) {
            model(maxBatch);
        }
        double ceiling = 200.0 * maxBatch / ((System.nanoTime() - ceilingStart) / 1e9);

        System.out.printf(
                "%nA job through a batch-friendly model (1 ms + 5 µs per record), parallelism 1:%n");
        System.out.printf(
                "%-52s %,12.0f records/s%n", "embedded in a map, one record per call", embedded);
        System.out.printf(
                "%-52s %,12.0f records/s  (%.1fx embedded)%n",
                "served, RosAsyncDataStream, dynamic batching", served, served / embedded);
        System.out.printf(
                "%-52s %,12.0f records/s  (served job reaches %.0f %%)%n",
                "model's ceiling, batches of " + maxBatch + " back to back",
                ceiling,
                100 * served / ceiling);
        System.out.flush();
    }

    /** Runs the job once and returns its records per second. */
    static double run(boolean served, long records, int capacity, int maxBatch) throws Exception {
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.getExecutionEnvironment(new Configuration());
        env.setParallelism(1);
        DataStream<Long> numbers = env.fromSequence(0, records - 1);
        DataStream<Long> predictions;
        if (served) {
            RosService model =
                    RosServices.add(
                            env,
                            RosDescriptor.builder("model", new BatchModel())
                                    .serverOptions(
                                            RosServerOptions.builder()
                                                    .maxBatchSize(maxBatch)
                                                    .queueCapacity(Math.max(1024, 2 * capacity))
                                                    .build())
                                    .build());
            predictions =
                    RosAsyncDataStream.builder(
                                    numbers,
                                    model,
                                    RosMethodCall.of(PREDICT, (Long x) -> x, (Long x, Long y) -> y))
                            .timeout(Duration.ofSeconds(60))
                            .capacity(capacity)
                            .outputType(Types.LONG)
                            .build();
        } else {
            predictions = numbers.map(new EmbeddedModel());
        }
        FIRST_OUTPUT.set(0);
        LAST_OUTPUT.set(0);
        predictions.map(new Stamp()).sinkTo(new DiscardingSink<>());
        env.execute(served ? "batch model served" : "batch model embedded");
        // From the first output to the last: the job's steady rate, without its start-up.
        return (records - 1) / ((LAST_OUTPUT.get() - FIRST_OUTPUT.get()) / 1e9);
    }

    /** When the first and the last output passed (the job runs in this JVM). */
    static final AtomicLong FIRST_OUTPUT = new AtomicLong();

    static final AtomicLong LAST_OUTPUT = new AtomicLong();

    /** Notes when outputs pass. */
    static final class Stamp implements MapFunction<Long, Long> {
        private static final long serialVersionUID = 1L;

        @Override
        public Long map(Long value) {
            long now = System.nanoTime();
            FIRST_OUTPUT.compareAndSet(0, now);
            LAST_OUTPUT.set(now);
            return value;
        }
    }

    /** The model served: one call of the model per batch. */
    static final class BatchModel extends TypedRpcOperator {
        private static final long serialVersionUID = 1L;

        @Override
        protected void defineMethods(Methods methods) {
            methods.addBatch(
                    PREDICT,
                    xs -> {
                        model(xs.size());
                        List<Long> ys = new ArrayList<>(xs.size());
                        for (Long x : xs) {
                            ys.add(x + 1);
                        }
                        return ys;
                    });
        }
    }

    /** The same model embedded: one record per call. */
    static final class EmbeddedModel implements MapFunction<Long, Long> {
        private static final long serialVersionUID = 1L;

        @Override
        public Long map(Long x) {
            model(1);
            return x + 1;
        }
    }

    private static String arg(String[] args, String name, String fallback) {
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals(name)) {
                return args[i + 1];
            }
        }
        return fallback;
    }
}
