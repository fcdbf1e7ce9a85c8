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

import org.apache.flink.annotation.PublicEvolving;

import java.util.Collections;
import java.util.LinkedHashMap;
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
 * <p>As for every RpcOperator, invocation is serial unless the service's concurrency is raised. A
 * payload that does not decode as the method's argument fails the call with {@link
 * StatusCode#INVALID_ARGUMENT}.
 */
@PublicEvolving
public abstract class TypedRpcOperator implements RpcOperator {
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
            bindings.put(method.name(), new Binding<>(method, handler));
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

    @Override
    public final byte[] invoke(String method, byte[] payload) throws Exception {
        Binding<?, ?> binding = bindings().get(method);
        if (binding == null) {
            throw new RosException(
                    StatusCode.NOT_FOUND,
                    "the service has no method '" + method + "' (its methods: " + methods() + ")");
        }
        return binding.invoke(payload);
    }

    private static final class Binding<A, R> {
        private final Handler<A, R> handler;
        private final ThreadLocal<RosMethod.Codec<A, R>> codecs;

        Binding(RosMethod<A, R> method, Handler<A, R> handler) {
            this.handler = handler;
            this.codecs = ThreadLocal.withInitial(method::codec);
        }

        byte[] invoke(byte[] payload) throws Exception {
            RosMethod.Codec<A, R> codec = codecs.get();
            return codec.encodeResult(handler.apply(codec.decodeArgument(payload)));
        }
    }
}
