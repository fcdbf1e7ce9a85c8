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
package org.flinkros.examples.failover;

import org.flinkros.connector.RosAsyncDataStream;
import org.flinkros.connector.RosDescriptor;
import org.flinkros.connector.RosMethod;
import org.flinkros.connector.RosMethodCall;
import org.flinkros.connector.RosService;
import org.flinkros.connector.RosServices;
import org.flinkros.connector.RpcOperatorContext;
import org.flinkros.connector.TypedRpcOperator;

import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.time.Duration;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * What a data-plane failure costs when the model loads slowly: the same job twice, once with the
 * model served by an RpcOperator service and once embedded in a map (what jobs do without
 * flink-ros). Mid-stream a data-plane task fails once; the demo prints how long the output stopped
 * and how often the model was loaded.
 *
 * <p>Run it with {@code mvn -B -q -Pfailover-demo -DskipTests verify}. Arguments (all optional):
 * {@code --load-seconds S} (default 10), {@code --records N} (default 3000, sent at 300/s), {@code
 * --fail-at K} (default 1000).
 */
public final class FailoverDemo {
    /** x to x*x, by a model that takes a while to load. */
    static final RosMethod<Long, Long> SQUARE = RosMethod.of("square", Types.LONG, Types.LONG);

    private static final int RECORDS_PER_SECOND = 300;

    /** What one run saw; the demo's jobs run on an embedded cluster in this JVM. */
    static final AtomicInteger LOADS = new AtomicInteger();

    static final AtomicLong FAILED_AT = new AtomicLong();
    static final ConcurrentLinkedQueue<Long> OUTPUT_TIMES = new ConcurrentLinkedQueue<>();
    static final AtomicBoolean FAILED = new AtomicBoolean();

    private FailoverDemo() {}

    public static void main(String[] args) throws Exception {
        long loadMillis =
                TimeUnit.SECONDS.toMillis(Long.parseLong(arg(args, "--load-seconds", "10")));
        long records = Long.parseLong(arg(args, "--records", "3000"));
        long failAt = Long.parseLong(arg(args, "--fail-at", "1000"));

        Result served = run(true, loadMillis, records, failAt);
        Result embedded = run(false, loadMillis, records, failAt);

        System.out.printf(
                "%nA data-plane failure after %d of %d records, with a model that loads in %d s:%n",
                failAt, records, loadMillis / 1000);
        System.out.printf("%-28s %22s %12s%n", "", "output stopped for", "model loads");
        System.out.printf(
                "%-28s %20.2f s %12d%n",
                "served by an RpcOperator", served.gapSeconds, served.loads);
        System.out.printf(
                "%-28s %20.2f s %12d%n", "embedded in a map", embedded.gapSeconds, embedded.loads);
        System.out.flush();
    }

    static final class Result {
        final double gapSeconds;
        final int loads;

        Result(double gapSeconds, int loads) {
            this.gapSeconds = gapSeconds;
            this.loads = loads;
        }
    }

    /** Runs the job once; the gap is from the failure to the next output. */
    static Result run(boolean served, long loadMillis, long records, long failAt) throws Exception {
        LOADS.set(0);
        FAILED.set(false);
        OUTPUT_TIMES.clear();

        Configuration config = new Configuration();
        config.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        config.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
        config.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ZERO);
        config.set(CheckpointingOptions.ENABLE_UNALIGNED, true);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(config);
        env.setParallelism(1);
        env.enableCheckpointing(200);

        DataStream<Long> numbers =
                env.fromSequence(0, records - 1).map(new Pace()).map(new FailOnce(failAt));
        DataStream<Long> squares;
        if (served) {
            RosService model =
                    RosServices.add(
                            env,
                            RosDescriptor.builder("square", new SlowModel(loadMillis)).build());
            squares =
                    RosAsyncDataStream.builder(
                                    numbers,
                                    model,
                                    RosMethodCall.of(
                                            SQUARE, (Long x) -> x, (Long x, Long square) -> square))
                            .timeout(Duration.ofSeconds(60))
                            .capacity(16)
                            .ordered()
                            .outputType(Types.LONG)
                            .build();
        } else {
            squares = numbers.map(new EmbeddedModel(loadMillis));
        }
        squares.sinkTo(new OutputTimes());
        env.execute(served ? "model served by flink-ros" : "model embedded in a map");

        long failedAt = FAILED_AT.get();
        long next =
                OUTPUT_TIMES.stream().filter(t -> t > failedAt).min(Long::compare).orElse(failedAt);
        return new Result((next - failedAt) / 1e9, LOADS.get());
    }

    /** The model, as an RpcOperator: loads once per instance. */
    static final class SlowModel extends TypedRpcOperator {
        private static final long serialVersionUID = 1L;
        private final long loadMillis;

        SlowModel(long loadMillis) {
            this.loadMillis = loadMillis;
        }

        @Override
        public void open(RpcOperatorContext context) throws InterruptedException {
            LOADS.incrementAndGet();
            Thread.sleep(loadMillis); // stands for reading weights onto a device
        }

        @Override
        protected void defineMethods(Methods methods) {
            methods.add(SQUARE, x -> x * x);
        }
    }

    /** The same model embedded in the data plane: loads with every (re)start of its task. */
    static final class EmbeddedModel extends RichMapFunction<Long, Long> {
        private static final long serialVersionUID = 1L;
        private final long loadMillis;

        EmbeddedModel(long loadMillis) {
            this.loadMillis = loadMillis;
        }

        @Override
        public void open(OpenContext context) throws InterruptedException {
            LOADS.incrementAndGet();
            Thread.sleep(loadMillis);
        }

        @Override
        public Long map(Long x) {
            return x * x;
        }
    }

    /** Sends records at a steady rate, as a live stream would. */
    static final class Pace implements MapFunction<Long, Long> {
        private static final long serialVersionUID = 1L;

        @Override
        public Long map(Long x) {
            LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(1) / RECORDS_PER_SECOND);
            return x;
        }
    }

    /** Fails the data plane once, at record {@code failAt}: a bad record, a lost TaskManager. */
    static final class FailOnce implements MapFunction<Long, Long> {
        private static final long serialVersionUID = 1L;
        private final long failAt;

        FailOnce(long failAt) {
            this.failAt = failAt;
        }

        @Override
        public Long map(Long x) {
            if (x == failAt && FAILED.compareAndSet(false, true)) {
                FAILED_AT.set(System.nanoTime());
                throw new IllegalStateException("data-plane failure (injected) at record " + x);
            }
            return x;
        }
    }

    /** Notes when each output arrives. */
    static final class OutputTimes implements Sink<Long> {
        private static final long serialVersionUID = 1L;

        @Override
        public SinkWriter<Long> createWriter(WriterInitContext context) {
            return new SinkWriter<Long>() {
                @Override
                public void write(Long element, Context context) {
                    OUTPUT_TIMES.add(System.nanoTime());
                }

                @Override
                public void flush(boolean endOfInput) {}

                @Override
                public void close() {}
            };
        }
    }

    private static String arg(String[] args, String name, String defaultValue) {
        for (int i = 0; i < args.length - 1; i++) {
            if (args[i].equals(name)) {
                return args[i + 1];
            }
        }
        return defaultValue;
    }
}
