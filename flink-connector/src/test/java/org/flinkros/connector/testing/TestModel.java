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
package org.flinkros.connector.testing;

import org.flinkros.connector.RosMethod;
import org.flinkros.connector.RpcOperatorContext;
import org.flinkros.connector.TypedRpcOperator;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple4;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A typed test service: {@link #SQUARE} answers (x, x*x, instance, instance attempt). It can be
 * slow and can fail one instance on its first attempt, and it records what happened in a static
 * {@link Probe} (tests run on a MiniCluster in their own JVM).
 */
public final class TestModel extends TypedRpcOperator {
    private static final long serialVersionUID = 1L;

    /** x → (x, x*x, instance, attempt of the instance). */
    public static final RosMethod<Long, Tuple4<Long, Long, Integer, Integer>> SQUARE =
            RosMethod.of(
                    "square",
                    Types.LONG,
                    Types.TUPLE(Types.LONG, Types.LONG, Types.INT, Types.INT));

    /** Thrown to kill an instance, as a GPU out-of-memory would. */
    public static final class InstanceCrash extends Error {
        private static final long serialVersionUID = 1L;

        public InstanceCrash(String message) {
            super(message);
        }
    }

    /** What the instances of one service did. */
    public static final class Probe {
        /** How often each instance index was opened. */
        public final Map<Integer, AtomicInteger> opens = new ConcurrentHashMap<>();

        /** Requests executed, over all instances and attempts. */
        public final AtomicLong executed = new AtomicLong();

        /**
         * When each (instance, attempt) finished opening (loading) and first served, in
         * nanoseconds.
         */
        public final Map<String, Long> openedAt = new ConcurrentHashMap<>();

        public final Map<String, Long> firstServedAt = new ConcurrentHashMap<>();

        /** The GPU indices each instance got. */
        public final Map<Integer, int[]> gpus = new ConcurrentHashMap<>();
    }

    private static final Map<String, Probe> PROBES = new ConcurrentHashMap<>();

    /** The probe of the service with this key (one per test). */
    public static Probe probe(String key) {
        return PROBES.computeIfAbsent(key, k -> new Probe());
    }

    private final String probeKey;
    private final long delayMillis;
    private final int crashingInstance;
    private final long crashAfter;
    private final int slowLoadingInstance;
    private final long loadMillis;

    private transient int index;
    private transient int attempt;
    private transient long served;

    private TestModel(String probeKey, long delayMillis, int crashingInstance, long crashAfter) {
        this(probeKey, delayMillis, crashingInstance, crashAfter, -1, 0);
    }

    private TestModel(
            String probeKey,
            long delayMillis,
            int crashingInstance,
            long crashAfter,
            int slowLoadingInstance,
            long loadMillis) {
        this.probeKey = probeKey;
        this.delayMillis = delayMillis;
        this.crashingInstance = crashingInstance;
        this.crashAfter = crashAfter;
        this.slowLoadingInstance = slowLoadingInstance;
        this.loadMillis = loadMillis;
    }

    /** This model, but instance {@code instance} takes {@code millis} to load on each attempt. */
    public TestModel loadingSlowly(int instance, long millis) {
        return new TestModel(probeKey, delayMillis, crashingInstance, crashAfter, instance, millis);
    }

    /** A fast model. */
    public static TestModel fast(String probeKey) {
        return new TestModel(probeKey, 0, -1, 0);
    }

    /** A model that spends {@code delayMillis} on each request. */
    public static TestModel slow(String probeKey, long delayMillis) {
        return new TestModel(probeKey, delayMillis, -1, 0);
    }

    /** A model whose instance {@code instance} crashes on its first attempt after n requests. */
    public static TestModel crashing(String probeKey, long delayMillis, int instance, long n) {
        return new TestModel(probeKey, delayMillis, instance, n);
    }

    @Override
    public void open(RpcOperatorContext context) throws InterruptedException {
        index = context.instanceIndex();
        if (index == slowLoadingInstance) {
            // Simulated model load, not synchronisation.
            Thread.sleep(loadMillis);
        }
        Probe probe = probe(probeKey);
        attempt = probe.opens.computeIfAbsent(index, i -> new AtomicInteger()).getAndIncrement();
        probe.openedAt.put(index + "/" + attempt, System.nanoTime());
        probe.gpus.put(index, context.gpuIndices());
    }

    @Override
    protected void defineMethods(Methods methods) {
        methods.add(SQUARE, this::square);
    }

    private Tuple4<Long, Long, Integer, Integer> square(Long x) throws InterruptedException {
        Probe probe = probe(probeKey);
        probe.firstServedAt.putIfAbsent(index + "/" + attempt, System.nanoTime());
        if (index == crashingInstance && attempt == 0 && ++served > crashAfter) {
            throw new InstanceCrash("instance " + index + " crashed (simulated)");
        }
        if (delayMillis > 0) {
            // Simulated model work, not synchronisation.
            Thread.sleep(delayMillis);
        }
        probe.executed.incrementAndGet();
        return Tuple4.of(x, x * x, index, attempt);
    }
}
