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
import org.flinkros.connector.RpcOperator;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** An instance's run loop over a real server: serial by default, concurrent on request. */
class RpcOperatorRunnerTest {

    /** Records how many invocations overlap; each waits until {@code overlap} are running. */
    private static final class Overlapping implements RpcOperator {
        final AtomicInteger running = new AtomicInteger();
        final AtomicInteger most = new AtomicInteger();
        final CountDownLatch together;

        Overlapping(int overlap) {
            together = new CountDownLatch(overlap);
        }

        @Override
        public byte[] invoke(String method, byte[] payload) throws Exception {
            most.accumulateAndGet(running.incrementAndGet(), Math::max);
            together.countDown();
            together.await(10, TimeUnit.SECONDS);
            running.decrementAndGet();
            return payload;
        }
    }

    private static void callConcurrently(RpcOperator operator, int concurrency, int calls)
            throws Exception {
        try (RosServer server = RosServer.start(RosServerOptions.defaults());
                RosClient client = RosClient.create()) {
            RpcOperatorRunner runner =
                    new RpcOperatorRunner(
                            server,
                            operator,
                            concurrency,
                            "test",
                            RpcOperatorRunnerTest.class.getClassLoader());
            runner.start();
            client.updateEndpoints(Collections.singletonList("127.0.0.1:" + server.port()));
            List<CompletableFuture<byte[]>> results = new ArrayList<>();
            for (int i = 0; i < calls; i++) {
                results.add(client.call("m", new byte[] {(byte) i}));
            }
            for (CompletableFuture<byte[]> result : results) {
                result.get(30, TimeUnit.SECONDS);
            }
            runner.close();
        }
    }

    private static RosException failure(CompletableFuture<byte[]> call) throws Exception {
        try {
            call.get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            return (RosException) e.getCause();
        }
        throw new AssertionError("expected a failure");
    }

    @Test
    void invocationIsSerialByDefault() throws Exception {
        Overlapping operator = new Overlapping(1);
        callConcurrently(operator, 1, 16);
        assertThat(operator.most.get()).isEqualTo(1);
    }

    @Test
    void concurrencyRunsThatManyAtOnce() throws Exception {
        // Each invocation waits for 4 to overlap: with fewer workers this could not finish.
        Overlapping operator = new Overlapping(4);
        callConcurrently(operator, 4, 16);
        assertThat(operator.most.get()).isEqualTo(4);
    }

    @Test
    void operatorErrorsReachTheCallerWithMessageAndRemoteStackTrace() throws Exception {
        RpcOperator failing =
                (method, payload) -> {
                    if (method.equals("missing")) {
                        throw new RosException(StatusCode.NOT_FOUND, "no such method: " + method);
                    }
                    throw new IllegalStateException("model exploded on " + payload.length);
                };
        try (RosServer server = RosServer.start(RosServerOptions.defaults());
                RosClient client = RosClient.create()) {
            RpcOperatorRunner runner =
                    new RpcOperatorRunner(server, failing, 1, "test", getClass().getClassLoader());
            runner.start();
            client.updateEndpoints(Collections.singletonList("127.0.0.1:" + server.port()));

            RosException internal = failure(client.call("predict", new byte[3]));
            assertThat(internal.code()).isEqualTo(StatusCode.INTERNAL);
            assertThat(internal.description())
                    .contains("'predict'")
                    .contains("model exploded on 3")
                    .contains("Remote stack trace")
                    .contains("RpcOperatorRunnerTest");
            RosException notFound = failure(client.call("missing", new byte[0]));
            assertThat(notFound.code()).isEqualTo(StatusCode.NOT_FOUND);
            assertThat(runner.fatalError()).isNull();
            runner.close();
        }
    }

    @Test
    void aJvmErrorStopsTheInstanceAndTheCallerMayRetryElsewhere() throws Exception {
        RpcOperator crashing =
                (method, payload) -> {
                    throw new StackOverflowError("simulated");
                };
        try (RosServer server = RosServer.start(RosServerOptions.defaults());
                RosClient client = RosClient.create()) {
            RpcOperatorRunner runner =
                    new RpcOperatorRunner(server, crashing, 1, "test", getClass().getClassLoader());
            runner.start();
            client.updateEndpoints(Collections.singletonList("127.0.0.1:" + server.port()));
            assertThat(failure(client.call("m", new byte[0])).code())
                    .isEqualTo(StatusCode.UNAVAILABLE);
            runner.stoppedOnError().get(10, TimeUnit.SECONDS);
            assertThat(runner.fatalError()).isInstanceOf(StackOverflowError.class);
            runner.close();
            // Closing the runner closed the server.
            assertThat(server.poll(1, Duration.ZERO)).isEmpty();
        }
    }
}
