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
import org.flinkros.connector.OnError;
import org.flinkros.connector.RosAsyncFunction;
import org.flinkros.connector.RosMethod;
import org.flinkros.connector.RosMethodCall;
import org.flinkros.connector.TypedRpcOperator;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.functions.async.CollectionSupplier;
import org.apache.flink.streaming.api.functions.async.ResultFuture;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Collection;
import java.util.Collections;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Typed methods end to end: a typed operator behind a real server, typed clients calling it. */
class TypedApiTest {

    /** A POJO argument, serialized by Flink's POJO serializer. */
    public static class Review {
        public String text;
        public int stars;

        public Review() {}

        Review(String text, int stars) {
            this.text = text;
            this.stars = stars;
        }
    }

    static final RosMethod<Review, Double> SCORE =
            RosMethod.of("score", TypeInformation.of(Review.class), Types.DOUBLE);
    static final RosMethod<String, Integer> LENGTH =
            RosMethod.of("length", Types.STRING, Types.INT);

    static final class Model extends TypedRpcOperator {
        @Override
        protected void defineMethods(Methods methods) {
            methods.add(SCORE, review -> review.stars / 5.0 + (review.text.contains("!") ? 0.1 : 0))
                    .add(
                            LENGTH,
                            text -> {
                                if (text.isEmpty()) {
                                    throw new IllegalArgumentException("empty text");
                                }
                                return text.length();
                            });
        }
    }

    private RosServer server;
    private RosClient client;
    private RpcOperatorRunner runner;

    @BeforeEach
    void start() {
        Model model = new Model();
        server = RosServer.start(RosServerOptions.builder().methods(model.methods()).build());
        // The runner service instances use in a job, so that typed methods are tested as they run.
        runner = new RpcOperatorRunner(server, model, 1, "typed", getClass().getClassLoader());
        runner.start();
        client = RosClient.create();
        client.updateEndpoints(Collections.singletonList("127.0.0.1:" + server.port()));
    }

    @AfterEach
    void stop() throws InterruptedException {
        client.close();
        runner.close();
    }

    @Test
    void typedCallsRoundTripSyncAndAsync() throws Exception {
        assertThat(SCORE.on(client).callSync(new Review("great!", 4))).isEqualTo(0.9);
        CompletableFuture<Integer> length = LENGTH.on(client).call("hello");
        assertThat(length.get(10, TimeUnit.SECONDS)).isEqualTo(5);
        assertThat(new Model().methods()).containsExactly("score", "length");
    }

    @Test
    void undeclaredMethodsAndUndecodableArgumentsGetTypedErrors() {
        RosMethod<String, Integer> unknown = RosMethod.of("train", Types.STRING, Types.INT);
        assertThatThrownBy(() -> unknown.on(client).callSync("x"))
                .isInstanceOfSatisfying(
                        RosException.class,
                        e -> {
                            assertThat(e.code()).isEqualTo(StatusCode.NOT_FOUND);
                            assertThat(e.getMessage()).contains("'train'").contains("score");
                        });
        // Bytes that are not a Review: the method's argument type is named.
        assertThatThrownBy(() -> client.callSync("score", new byte[] {1, 2}))
                .isInstanceOfSatisfying(
                        RosException.class,
                        e -> {
                            assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
                            assertThat(e.getMessage()).contains("'score'").contains("Review");
                        });
        assertThatThrownBy(() -> LENGTH.on(client).callSync(""))
                .isInstanceOfSatisfying(
                        RosException.class,
                        e -> {
                            assertThat(e.code()).isEqualTo(StatusCode.INTERNAL);
                            assertThat(e.getMessage()).contains("empty text");
                        });
        assertThatThrownBy(() -> RosMethod.of("bad name", Types.INT, Types.INT))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'bad name'");
    }

    /** Records what an async function did with a record. */
    private static final class Recording<T> implements ResultFuture<T> {
        final CompletableFuture<Collection<T>> outcome = new CompletableFuture<>();

        @Override
        public void complete(Collection<T> result) {
            outcome.complete(result);
        }

        @Override
        public void completeExceptionally(Throwable error) {
            outcome.completeExceptionally(error);
        }

        @Override
        public void complete(CollectionSupplier<T> supplier) {
            try {
                outcome.complete(supplier.get());
            } catch (Exception e) {
                outcome.completeExceptionally(e);
            }
        }
    }

    private static <T> Collection<T> run(
            RosAsyncFunction<String, T> function, String record, RosClient client)
            throws Exception {
        Recording<T> result = new Recording<>();
        function.asyncInvoke(record, client, result);
        return result.outcome.get(10, TimeUnit.SECONDS);
    }

    @Test
    void methodCallsApplyTheirErrorPolicy() throws Exception {
        RosMethodCall<String, String, Integer, String> call =
                RosMethodCall.of(LENGTH, (String s) -> s, (String s, Integer n) -> s + "=" + n);
        assertThat(run(call, "four", client)).containsExactly("four=4");

        assertThatThrownBy(() -> run(call, "", client))
                .hasRootCauseInstanceOf(RosException.class)
                .rootCause()
                .hasMessageContaining("empty text");
        assertThat(run(call.onError(OnError.skip()), "", client)).isEmpty();
        Collection<String> fallback =
                run(
                        call.onError(
                                OnError.fallback(
                                        (String s, RosException e) -> "failed:" + e.code())),
                        "",
                        client);
        assertThat(fallback).containsExactly("failed:INTERNAL");
    }
}
