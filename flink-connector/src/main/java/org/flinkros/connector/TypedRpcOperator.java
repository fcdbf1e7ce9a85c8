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

import org.flinkros.client.RosException;
import org.flinkros.client.StatusCode;

import org.apache.flink.annotation.Internal;
import org.apache.flink.annotation.PublicEvolving;

import javax.annotation.Nullable;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An {@link RpcOperator} whose methods are typed {@link RosMethod}s: arguments are decoded and
 * results encoded with the methods' Flink serializers, and requests for undeclared methods are
 * refused with {@link StatusCode#NOT_FOUND} before they are queued.
 *
 * <pre>{@code
 * public class SentimentModel extends TypedRpcOperator {
 *     public static final RosMethod<String, Float> CLASSIFY =
 *             RosMethod.of("classify", Types.STRING, Types.FLOAT);
 *     private transient Model model;
 *
 *     protected void defineMethods(Methods methods) {
 *         methods.add(CLASSIFY, text -> model.score(text));
 *     }
 *
 *     public void open(RpcOperatorContext context) { model = Model.load(); }
 * }
 * }</pre>
 *
 * <p>A method whose model wants batches is defined with {@link Methods#addBatch}: its handler takes
 * the arguments of a whole batch and returns their results in the same order (see {@link
 * BatchRpcOperator} for how batches form).
 *
 * <p>As for every RpcOperator, invocation is serial unless the service's concurrency is raised. A
 * payload that does not decode as the method's argument fails that call with {@link
 * StatusCode#INVALID_ARGUMENT}; the other requests of its batch still run.
 */
@PublicEvolving
public abstract class TypedRpcOperator implements BatchRpcOperator {
    private static final long serialVersionUID = 1L;

    private transient Map<String, Binding<?, ?>> bindings;

    /** Declares the operator's methods; called once per instance, before {@link #open}. */
    protected abstract void defineMethods(Methods methods);

    /** How a method is run. */
    @PublicEvolving
    @FunctionalInterface
    public interface Handler<A, R> {
        /** Runs the method on one argument. */
        R apply(A argument) throws Exception;
    }

    /** How a batch method is run. */
    @PublicEvolving
    @FunctionalInterface
    public interface BatchHandler<A, R> {
        /**
         * Runs the method on a batch of arguments.
         *
         * @return one result per argument, in the same order
         * @throws Exception to fail every request of the batch
         */
        List<R> apply(List<A> arguments) throws Exception;
    }

    /** Collects method definitions in {@link #defineMethods}. */
    @PublicEvolving
    public static final class Methods {
        private final Map<String, Binding<?, ?>> bindings = new LinkedHashMap<>();

        private Methods() {}

        /** Defines {@code method} as run by {@code handler}. */
        public <A, R> Methods add(RosMethod<A, R> method, Handler<A, R> handler) {
            if (bindings.containsKey(method.name())) {
                throw new IllegalArgumentException(
                        "method '" + method.name() + "' is defined twice");
            }
            bindings.put(method.name(), new Binding<>(method, handler, null));
            return this;
        }

        /** Defines {@code method} as run a batch at a time by {@code handler}. */
        public <A, R> Methods addBatch(RosMethod<A, R> method, BatchHandler<A, R> handler) {
            if (bindings.containsKey(method.name())) {
                throw new IllegalArgumentException(
                        "method '" + method.name() + "' is defined twice");
            }
            bindings.put(method.name(), new Binding<>(method, null, handler));
            return this;
        }
    }

    private Map<String, Binding<?, ?>> bindings() {
        if (bindings == null) {
            Methods methods = new Methods();
            defineMethods(methods);
            bindings = Collections.unmodifiableMap(methods.bindings);
        }
        return bindings;
    }

    @Override
    public final Set<String> methods() {
        return bindings().keySet();
    }

    /**
     * The methods defined with {@link Methods#addBatch}. The instance takes the others one request
     * at a time, so that every request not started stays cancellable, unless the service gives them
     * batching of their own.
     */
    @Internal
    public final Set<String> batchMethods() {
        Set<String> batched = new java.util.TreeSet<>();
        bindings()
                .forEach(
                        (name, binding) -> {
                            if (binding.batchHandler != null) {
                                batched.add(name);
                            }
                        });
        return batched;
    }

    @Override
    public final byte[] invoke(String method, byte[] payload) throws Exception {
        return binding(method).invoke(payload);
    }

    @Override
    public final void invokeBatch(String method, RpcBatch batch) throws Exception {
        binding(method).invokeBatch(batch);
    }

    private Binding<?, ?> binding(String method) {
        Binding<?, ?> binding = bindings().get(method);
        if (binding == null) {
            throw new RosException(
                    StatusCode.NOT_FOUND,
                    "the service has no method '" + method + "' (its methods: " + methods() + ")");
        }
        return binding;
    }

    private static final class Binding<A, R> {
        private final String name;
        @Nullable private final Handler<A, R> handler;
        @Nullable private final BatchHandler<A, R> batchHandler;
        private final ThreadLocal<RosMethod.Codec<A, R>> codecs;

        Binding(
                RosMethod<A, R> method,
                @Nullable Handler<A, R> handler,
                @Nullable BatchHandler<A, R> batchHandler) {
            this.name = method.name();
            this.handler = handler;
            this.batchHandler = batchHandler;
            this.codecs = ThreadLocal.withInitial(method::codec);
        }

        byte[] invoke(byte[] payload) throws Exception {
            RosMethod.Codec<A, R> codec = codecs.get();
            A argument = codec.decodeArgument(payload);
            R result;
            if (handler != null) {
                result = handler.apply(argument);
            } else {
                result = only(batchHandler.apply(Collections.singletonList(argument)), 1).get(0);
            }
            return codec.encodeResult(result);
        }

        void invokeBatch(RpcBatch batch) throws Exception {
            if (handler != null) {
                // One request at a time; each failure is that request's alone.
                for (int i = 0; i < batch.size(); i++) {
                    try {
                        batch.reply(i, invoke(batch.payload(i)));
                    } catch (Exception e) {
                        batch.fail(i, e);
                    }
                }
                return;
            }
            RosMethod.Codec<A, R> codec = codecs.get();
            List<A> arguments = new ArrayList<>(batch.size());
            List<Integer> indexes = new ArrayList<>(batch.size());
            for (int i = 0; i < batch.size(); i++) {
                try {
                    arguments.add(codec.decodeArgument(batch.payload(i)));
                    indexes.add(i);
                } catch (RosException undecodable) {
                    batch.fail(i, undecodable);
                }
            }
            if (arguments.isEmpty()) {
                return;
            }
            List<R> results = only(batchHandler.apply(arguments), arguments.size());
            for (int k = 0; k < results.size(); k++) {
                int i = indexes.get(k);
                try {
                    batch.reply(i, codec.encodeResult(results.get(k)));
                } catch (RosException unencodable) {
                    batch.fail(i, unencodable);
                }
            }
        }

        /** The results of a batch handler, which must be one per argument. */
        private List<R> only(@Nullable List<R> results, int arguments) {
            if (results == null || results.size() != arguments) {
                throw new RosException(
                        StatusCode.INTERNAL,
                        "the batch handler of method '"
                                + name
                                + "' returned "
                                + (results == null ? "null" : results.size() + " results")
                                + " for "
                                + arguments
                                + " arguments");
            }
            return results;
        }
    }
}
