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
package org.flinkros.client;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Collections;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Clients authenticated as principals act only for their own client ids: a foreign principal's
 * cancel is refused and cancels nothing, while its own cancels and the owner's still work.
 */
class PrincipalTest {
    private static final String SERVICE_TOKEN = "the-service-token-of-this-test";

    @Test
    void credentialsMatchTheKnownAnswers() {
        // Computed independently (Python's hmac module, openssl dgst -hmac); the native runtime's
        // unit tests check the same vectors.
        assertThat(ServiceTokens.credential("0123456789abcdef-secret", "job-1/op-2"))
                .isEqualTo("7e223127d828fd47256ae439c1ba4d5cb88f8f98c4669175fcc3f60bd5e946c1");
        assertThat(ServiceTokens.credential("s3cret-token-for-this-service", "tenant-a"))
                .isEqualTo("b23c693d2b7f49a71fb8644b148f855f2ee2d1ef74eaf7b85f440fbb481b9d26");
    }

    @Test
    void credentialsRefuseBadPrincipalsAndNeverEchoTheToken() {
        for (String bad : new String[] {"", "has space", "tab\there", "ünï", "p".repeat(257)}) {
            assertThatThrownBy(() -> ServiceTokens.credential(SERVICE_TOKEN, bad))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("principal")
                    .hasMessageNotContaining(SERVICE_TOKEN);
            assertThatThrownBy(() -> RosClientOptions.builder().principal(bad))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("principal");
        }
        String shortSecret = "tooShort";
        assertThatThrownBy(() -> ServiceTokens.credential(shortSecret, "job/a"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageNotContaining(shortSecret);
        assertThat(ServiceTokens.credential(SERVICE_TOKEN, "p".repeat(256))).hasSize(64);
    }

    @Test
    void aClientIdOutsideThePrincipalIsRefusedWhenTheClientIsCreated() {
        RosClientOptions outside = principal("job/a").clientId("job/b/0").build();
        assertThatThrownBy(() -> RosClient.create(outside))
                .isInstanceOfSatisfying(
                        RosException.class,
                        e -> assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT))
                .hasMessageContaining("'job/b/0'")
                .hasMessageContaining("'job/a'");
        assertThat(outside.toString())
                .contains("principal=job/a")
                .doesNotContain(credential("job/a"));
    }

    @Test
    void aForeignPrincipalCannotCancelAndItsOwnCancelsWork() throws Exception {
        try (RosServer server =
                        RosServer.start(RosServerOptions.builder().token(SERVICE_TOKEN).build());
                RosClient b = client(principal("job/b").clientId("job/b/0"), server);
                RosClient a =
                        client(principal("job/a").clientId("job/a/0").clientEpoch(3), server)) {
            // No worker polls yet, so B's calls stay queued.
            CompletableFuture<byte[]> first = b.call("m", new byte[] {1});
            CompletableFuture<byte[]> second = b.call("m", new byte[] {2});
            Waits.eventually(
                    "B's calls queued",
                    Duration.ofSeconds(10),
                    () -> server.stats().queueDepth() == 2);

            for (String foreign : new String[] {"job/b/0", "job/b"}) {
                assertThatThrownBy(() -> a.cancelEpochs(foreign, 100).get(10, TimeUnit.SECONDS))
                        .isInstanceOf(ExecutionException.class)
                        .cause()
                        .isInstanceOfSatisfying(
                                RosException.class,
                                e -> assertThat(e.code()).isEqualTo(StatusCode.PERMISSION_DENIED))
                        .hasMessageContaining("'" + foreign + "'")
                        .hasMessageContaining("'job/a'")
                        .hasMessageNotContaining(SERVICE_TOKEN);
            }
            assertThat(server.stats().cancelledQueued()).isZero();
            assertThat(server.stats().queueDepth()).isEqualTo(2);

            // B's requests still run and complete.
            answerAll(server, 2);
            assertThat(first.get(10, TimeUnit.SECONDS)).containsExactly(1);
            assertThat(second.get(10, TimeUnit.SECONDS)).containsExactly(2);

            // A's own earlier attempt is A's to cancel.
            try (RosClient before = client(principal("job/a").clientId("job/a/0"), server)) {
                CompletableFuture<byte[]> stale = before.call("m", new byte[0]);
                Waits.eventually(
                        "A's call queued",
                        Duration.ofSeconds(10),
                        () -> server.stats().queueDepth() == 1);
                assertThat(a.cancelEarlierEpochs().get(10, TimeUnit.SECONDS)).isEqualTo(1);
                assertThatThrownBy(() -> stale.get(10, TimeUnit.SECONDS))
                        .cause()
                        .isInstanceOfSatisfying(
                                RosException.class,
                                e -> assertThat(e.code()).isEqualTo(StatusCode.CANCELLED));
            }
        }
    }

    @Test
    void theOwnerCancelsAnyClient() throws Exception {
        try (RosServer server =
                        RosServer.start(RosServerOptions.builder().token(SERVICE_TOKEN).build());
                RosClient b = client(principal("job/b").clientId("job/b/0"), server);
                RosClient owner =
                        client(
                                RosClientOptions.builder()
                                        .clientId("coordinator/op")
                                        .token(SERVICE_TOKEN),
                                server)) {
            CompletableFuture<byte[]> queued = b.call("m", new byte[0]);
            Waits.eventually(
                    "B's call queued",
                    Duration.ofSeconds(10),
                    () -> server.stats().queueDepth() == 1);
            assertThat(owner.cancelEpochs("job/b/0", 1).get(10, TimeUnit.SECONDS)).isEqualTo(1);
            assertThatThrownBy(() -> queued.get(10, TimeUnit.SECONDS))
                    .cause()
                    .isInstanceOfSatisfying(
                            RosException.class,
                            e -> assertThat(e.code()).isEqualTo(StatusCode.CANCELLED));
        }
    }

    private static String credential(String principal) {
        return ServiceTokens.credential(SERVICE_TOKEN, principal);
    }

    private static RosClientOptions.Builder principal(String principal) {
        return RosClientOptions.builder().principal(principal).token(credential(principal));
    }

    private static RosClient client(RosClientOptions.Builder options, RosServer server) {
        RosClient client = RosClient.create(options.build());
        client.updateEndpoints(Collections.singletonList("127.0.0.1:" + server.port()));
        return client;
    }

    /** Answers {@code count} queued requests with their own payloads. */
    private static void answerAll(RosServer server, int count) {
        int answered = 0;
        while (answered < count) {
            for (RosServerRequest request : server.poll(count - answered, Duration.ofSeconds(5))) {
                server.complete(request.id(), request.payload());
                answered++;
            }
        }
    }
}
