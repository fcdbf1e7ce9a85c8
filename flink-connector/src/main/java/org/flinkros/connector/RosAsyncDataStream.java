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
package org.flinkros.connector;

import org.flinkros.client.RosClientOptions;
import org.flinkros.connector.internal.LocalClusterSlots;
import org.flinkros.connector.internal.client.RosAsyncFunctionAdapter;
import org.flinkros.connector.internal.client.RosAsyncOperatorFactory;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.TypeExtractor;
import org.apache.flink.streaming.api.datastream.AsyncDataStream.OutputMode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.LocalStreamEnvironment;
import org.apache.flink.util.Utils;

import javax.annotation.Nullable;

import java.time.Duration;
import java.util.Objects;

/**
 * Calls an RpcOperator service from the data plane with Flink async I/O: like {@link
 * org.apache.flink.streaming.api.datastream.AsyncDataStream}, but the function gets a {@link
 * org.flinkros.client.RosClient} that the job keeps connected to the service's live instances.
 *
 * <pre>{@code
 * DataStream<Scored> scored = RosAsyncDataStream.builder(reviews, sentiment,
 *                 RosMethodCall.of(CLASSIFY, (Review r) -> r.text, Scored::new))
 *         .timeout(Duration.ofSeconds(30))
 *         .capacity(64)
 *         .outputType(TypeInformation.of(Scored.class))
 *         .build();
 * }</pre>
 *
 * <p>Until the service has its first live instance (its model may take minutes to load), records
 * wait before the operator rather than in it, so their timeouts do not run. After that, a call with
 * no live instance fails at once with {@code UNAVAILABLE}.
 */
@PublicEvolving
public final class RosAsyncDataStream {
    /** How long a record may wait for its result by default; also each call's deadline. */
    public static final Duration DEFAULT_TIMEOUT = RosClientOptions.defaults().defaultTimeout();

    /** Records in flight per subtask by default, as in Flink's async I/O. */
    public static final int DEFAULT_CAPACITY = 100;

    /** How long the operator waits for the service's first live instance by default. */
    public static final Duration DEFAULT_STARTUP_TIMEOUT = Duration.ofMinutes(10);

    private RosAsyncDataStream() {}

    /**
     * Starts calling {@code service} for each record of {@code input} with {@code function}; finish
     * with {@link Builder#build()}.
     *
     * @param input the records
     * @param service the service, from {@link RosServices#add}
     * @param function starts the call(s) for a record, e.g. a {@link RosMethodCall}
     */
    public static <IN, OUT> Builder<IN, OUT> builder(
            DataStream<IN> input, RosService service, RosAsyncFunction<IN, OUT> function) {
        return new Builder<>(input, service, function);
    }

    /**
     * How records reach a service: every setting has a default, so {@code builder(...).build()}
     * works as it is.
     */
    @PublicEvolving
    public static final class Builder<IN, OUT> {
        private final DataStream<IN> input;
        private final RosService service;
        private final RosAsyncFunction<IN, OUT> function;
        private Duration timeout = DEFAULT_TIMEOUT;
        private int capacity = DEFAULT_CAPACITY;
        private OutputMode outputMode = OutputMode.UNORDERED;
        @Nullable private TypeInformation<OUT> outputType;
        private RosClientOptions clientOptions = RosClientOptions.defaults();
        private Duration startupTimeout = DEFAULT_STARTUP_TIMEOUT;
        private int startupInstances = 1;
        @Nullable private OnError<IN, OUT> onError;

        private Builder(
                DataStream<IN> input, RosService service, RosAsyncFunction<IN, OUT> function) {
            this.input = Objects.requireNonNull(input, "input");
            this.service = Objects.requireNonNull(service, "service");
            this.function = Objects.requireNonNull(function, "function");
        }

        /**
         * How long a record may wait for its result; it is also each call's deadline. Default
         * {@link #DEFAULT_TIMEOUT} (30 s).
         */
        public Builder<IN, OUT> timeout(Duration timeout) {
            this.timeout = positive("timeout", timeout);
            return this;
        }

        /** Records in flight per subtask. Default {@link #DEFAULT_CAPACITY} (100). */
        public Builder<IN, OUT> capacity(int capacity) {
            if (capacity < 1) {
                throw new IllegalArgumentException("capacity must be at least 1, got " + capacity);
            }
            this.capacity = capacity;
            return this;
        }

        /** Emits outputs in input order. */
        public Builder<IN, OUT> ordered() {
            this.outputMode = OutputMode.ORDERED;
            return this;
        }

        /** Emits outputs as soon as they arrive (the default). */
        public Builder<IN, OUT> unordered() {
            this.outputMode = OutputMode.UNORDERED;
            return this;
        }

        /**
         * The output type; needed when the function is a lambda or a {@link RosMethodCall} built
         * from lambdas. Default: extracted from the function.
         */
        public Builder<IN, OUT> outputType(TypeInformation<OUT> outputType) {
            this.outputType = Objects.requireNonNull(outputType, "outputType");
            return this;
        }

        /**
         * Tunes each subtask's client (load balancing, retries, in-flight limit, keepalive...). The
         * job sets the client's identity, token and deadline ({@link #timeout}) itself, and lowers
         * its message limit to the service's.
         */
        public Builder<IN, OUT> clientOptions(RosClientOptions clientOptions) {
            this.clientOptions = Objects.requireNonNull(clientOptions, "clientOptions");
            return this;
        }

        /**
         * How long the first record waits for the service's live instances ({@link
         * #startupInstances}). With none by then the subtask fails with {@code UNAVAILABLE}; with
         * fewer than asked for it warns and starts with those. Default {@link
         * #DEFAULT_STARTUP_TIMEOUT} (10 minutes).
         */
        public Builder<IN, OUT> startupTimeout(Duration startupTimeout) {
            this.startupTimeout = positive("startupTimeout", startupTimeout);
            return this;
        }

        /**
         * How many live instances the first record of each subtask (and of each restart) waits for,
         * within {@link #startupTimeout}. Default 1: calls start with the first instance that
         * serves, and the others take calls as they come. Set it to the service's parallelism to
         * start on the whole service: the first records then do not pile up at the instances that
         * loaded first, and keyed calls ({@link RosMethodCall#identifiedBy}) reach from the start
         * the instance they will reach on a replay (an instance that joins later takes over its
         * share of the keys, and a replay of a record called before runs again).
         */
        public Builder<IN, OUT> startupInstances(int startupInstances) {
            if (startupInstances < 1) {
                throw new IllegalArgumentException(
                        "startupInstances must be at least 1, got " + startupInstances);
            }
            if (service.parallelism() > 0 && startupInstances > service.parallelism()) {
                throw new IllegalArgumentException(
                        "startupInstances is "
                                + startupInstances
                                + " but RpcOperator service '"
                                + service.name()
                                + "' has "
                                + service.parallelism()
                                + " instances; ask for at most that many");
            }
            this.startupInstances = startupInstances;
            return this;
        }

        /**
         * What happens to a record whose call fails (after the client's retries) or times out:
         * {@link OnError#fail()}, {@link OnError#skip()} or {@link OnError#fallback}. Default: the
         * function decides (a {@link RosMethodCall} by its own policy; a plain function fails the
         * record, and so the job, unless it overrides {@link RosAsyncFunction#timeout}). A policy
         * set here takes every failure the function reports and every timeout.
         */
        public Builder<IN, OUT> onError(OnError<IN, OUT> onError) {
            this.onError = Objects.requireNonNull(onError, "onError");
            return this;
        }

        /** Adds the calling operator to the job; returns its output. */
        public SingleOutputStreamOperator<OUT> build() {
            TypeInformation<OUT> outType =
                    outputType != null
                            ? outputType
                            : TypeExtractor.getUnaryOperatorReturnType(
                                    function,
                                    RosAsyncFunction.class,
                                    0,
                                    1,
                                    new int[] {2, 0},
                                    input.getType(),
                                    Utils.getCallLocationName(),
                                    true);

            service.registerClientOperator();
            if (input.getExecutionEnvironment() instanceof LocalStreamEnvironment) {
                LocalClusterSlots.fitDataPlane(
                        input.getExecutionEnvironment(),
                        Math.max(
                                input.getParallelism(),
                                input.getExecutionEnvironment().getParallelism()));
            }
            RosAsyncFunctionAdapter<IN, OUT> adapter =
                    new RosAsyncFunctionAdapter<>(
                            function,
                            service.name(),
                            clientOptions.toBuilder()
                                    .defaultTimeout(timeout)
                                    // Instances restarting together hold records back (up to
                                    // their timeout) instead of failing them.
                                    .noInstanceWait(timeout)
                                    .token(service.token())
                                    .serviceName(service.name())
                                    // Refuse what the instances would refuse, before sending it.
                                    .maxMessageBytes(
                                            Math.min(
                                                    clientOptions.maxMessageBytes(),
                                                    service.maxMessageBytes()))
                                    .build(),
                            onError);
            RosAsyncOperatorFactory<IN, OUT> factory =
                    new RosAsyncOperatorFactory<>(
                            adapter,
                            service,
                            service.token(),
                            timeout,
                            capacity,
                            outputMode,
                            startupTimeout,
                            startupInstances);
            return input.transform("RosAsync: " + service.name(), outType, factory);
        }

        private static Duration positive(String name, Duration value) {
            Objects.requireNonNull(value, name);
            if (value.isNegative() || value.isZero()) {
                throw new IllegalArgumentException(name + " must be positive, got " + value);
            }
            return value;
        }
    }
}
