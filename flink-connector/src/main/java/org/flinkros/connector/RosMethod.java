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

import org.flinkros.client.IdentityKey;
import org.flinkros.client.RosClient;
import org.flinkros.client.RosException;
import org.flinkros.client.StatusCode;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;

import java.io.IOException;
import java.io.Serializable;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.regex.Pattern;

/**
 * A typed method of an RpcOperator service: a name, the type of its argument and the type of its
 * result. Arguments and results travel in Flink's own serialization format ({@link TypeInformation}
 * serializers), never Java serialization.
 *
 * <p>Declare methods once, as constants shared by the service and its callers:
 *
 * <pre>{@code
 * public static final RosMethod<String, Float> CLASSIFY =
 *         RosMethod.of("classify", Types.STRING, Types.FLOAT);
 * }</pre>
 *
 * <p>The service implements them in a {@link TypedRpcOperator}; callers use {@link #on(RosClient)}
 * for a typed client, or {@link RosMethodCall} in {@link RosAsyncDataStream}.
 *
 * @param <A> the argument type
 * @param <R> the result type
 */
@PublicEvolving
public final class RosMethod<A, R> implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_.-]{0,127}");

    private final String name;
    private final TypeInformation<A> argumentType;
    private final TypeInformation<R> resultType;

    private RosMethod(String name, TypeInformation<A> argumentType, TypeInformation<R> resultType) {
        this.name = name;
        this.argumentType = argumentType;
        this.resultType = resultType;
    }

    /**
     * A method.
     *
     * @param name letters, digits, '_', '.', '-'; at most 128 characters
     */
    public static <A, R> RosMethod<A, R> of(
            String name, TypeInformation<A> argumentType, TypeInformation<R> resultType) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException(
                    "method name must be 1-128 letters, digits, '_', '.' or '-' and start with a"
                            + " letter or '_', got '"
                            + name
                            + "'");
        }
        return new RosMethod<>(
                name,
                Objects.requireNonNull(argumentType, "argumentType"),
                Objects.requireNonNull(resultType, "resultType"));
    }

    /** The method's name on the wire. */
    public String name() {
        return name;
    }

    /** The argument's type. */
    public TypeInformation<A> argumentType() {
        return argumentType;
    }

    /** The result's type. */
    public TypeInformation<R> resultType() {
        return resultType;
    }

    /** A typed client of this method over {@code client}. Thread-safe. */
    public Client<A, R> on(RosClient client) {
        return new Client<>(this, Objects.requireNonNull(client, "client"));
    }

    /** A fresh serializer pair for one user at a time (serializers are not thread-safe). */
    Codec<A, R> codec() {
        return new Codec<>(this);
    }

    @Override
    public String toString() {
        return "RosMethod{" + name + ": " + argumentType + " -> " + resultType + '}';
    }

    /** A typed client of one method: the "handle and method" callers hold. */
    @PublicEvolving
    public static final class Client<A, R> {
        private final RosMethod<A, R> method;
        private final RosClient client;
        private final ThreadLocal<Codec<A, R>> codecs;

        private Client(RosMethod<A, R> method, RosClient client) {
            this.method = method;
            this.client = client;
            this.codecs = ThreadLocal.withInitial(method::codec);
        }

        /**
         * Calls the method with the client's default timeout.
         *
         * @return the result, or a future failed with a {@link RosException}
         */
        public CompletableFuture<R> call(A argument) {
            return call(argument, null);
        }

        /**
         * Calls the method, waiting at most {@code timeout} (null for the client's default).
         *
         * @return the result, or a future failed with a {@link RosException}
         */
        public CompletableFuture<R> call(A argument, Duration timeout) {
            return call(argument, timeout, null);
        }

        /**
         * Calls the method as a request with an identity (see {@link IdentityKey}): an equal
         * request queued, running or recently run on the instance answers it without running again.
         *
         * @param timeout the longest wait, null for the client's default
         * @param key the request's identity, null for none
         * @return the result, or a future failed with a {@link RosException}
         */
        public CompletableFuture<R> call(A argument, Duration timeout, IdentityKey key) {
            byte[] payload;
            try {
                payload = codecs.get().encodeArgument(argument);
            } catch (RosException e) {
                CompletableFuture<R> failed = new CompletableFuture<>();
                failed.completeExceptionally(e);
                return failed;
            }
            return client.call(method.name, payload, timeout, key)
                    .thenApply(reply -> codecs.get().decodeResult(reply));
        }

        /**
         * Calls the method and waits for the result.
         *
         * @throws RosException if the call fails
         */
        public R callSync(A argument) {
            try {
                return call(argument).get();
            } catch (ExecutionException e) {
                if (e.getCause() instanceof RosException) {
                    RosException failure = (RosException) e.getCause();
                    throw new RosException(failure.code(), failure.description(), failure);
                }
                throw new RosException(StatusCode.INTERNAL, String.valueOf(e.getCause()), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RosException(
                        StatusCode.CANCELLED, "interrupted while waiting for " + method.name);
            }
        }
    }

    /** Serializers of a method's argument and result, for one thread. */
    static final class Codec<A, R> {
        private final RosMethod<A, R> method;
        private final TypeSerializer<A> arguments;
        private final TypeSerializer<R> results;
        private final DataOutputSerializer out = new DataOutputSerializer(64);
        private final DataInputDeserializer in = new DataInputDeserializer();

        private Codec(RosMethod<A, R> method) {
            SerializerConfigImpl config = new SerializerConfigImpl();
            this.method = method;
            this.arguments = method.argumentType.createSerializer(config);
            this.results = method.resultType.createSerializer(config);
        }

        byte[] encodeArgument(A argument) {
            return encode(arguments, argument, "argument");
        }

        A decodeArgument(byte[] payload) {
            return decode(arguments, payload, "argument");
        }

        byte[] encodeResult(R result) {
            return encode(results, result, "result");
        }

        R decodeResult(byte[] payload) {
            return decode(results, payload, "result");
        }

        private <T> byte[] encode(TypeSerializer<T> serializer, T value, String what) {
            out.clear();
            try {
                serializer.serialize(value, out);
            } catch (IOException | RuntimeException e) {
                throw new RosException(
                        StatusCode.INVALID_ARGUMENT,
                        "cannot encode the " + what + " of '" + method.name + "': " + e,
                        e);
            }
            return out.getCopyOfBuffer();
        }

        private <T> T decode(TypeSerializer<T> serializer, byte[] payload, String what) {
            in.setBuffer(payload);
            T value;
            try {
                value = serializer.deserialize(in);
            } catch (IOException | RuntimeException e) {
                throw new RosException(
                        StatusCode.INVALID_ARGUMENT,
                        "cannot decode the "
                                + what
                                + " of '"
                                + method.name
                                + "' ("
                                + payload.length
                                + " bytes) as "
                                + method.argumentOrResultType(what)
                                + ": "
                                + e,
                        e);
            }
            if (in.available() > 0) {
                throw new RosException(
                        StatusCode.INVALID_ARGUMENT,
                        "the "
                                + what
                                + " of '"
                                + method.name
                                + "' has "
                                + in.available()
                                + " bytes left over after decoding it as "
                                + method.argumentOrResultType(what));
            }
            return value;
        }
    }

    private TypeInformation<?> argumentOrResultType(String what) {
        return "argument".equals(what) ? argumentType : resultType;
    }
}
