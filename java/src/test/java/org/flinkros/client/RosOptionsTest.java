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

import org.flinkros.client.internal.NativeClient;
import org.flinkros.client.internal.NativeTestHooks;
import org.flinkros.client.internal.OptionTable;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Invalid options are refused with messages that name the value. */
class RosOptionsTest {

    @Test
    void clientOptionsRejectInvalidValuesNamingThem() {
        RosClientOptions.Builder builder = RosClientOptions.builder();
        assertThatThrownBy(() -> builder.defaultTimeout(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("defaultTimeout")
                .hasMessageContaining("PT0S");
        assertThatThrownBy(() -> builder.startupWait(Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("startupWait");
        assertThatThrownBy(() -> builder.maxMessageBytes(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxMessageBytes")
                .hasMessageContaining("got 0");
        assertThatThrownBy(() -> builder.clientId(" "))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("clientId");
        assertThatThrownBy(() -> builder.clientEpoch(-3))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("-3");
        assertThatThrownBy(() -> builder.principal("job op"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("principal")
                .hasMessageContaining("job op");
    }

    @Test
    void resilienceOptionsRejectInvalidValuesNamingThem() {
        RosClientOptions.Builder builder = RosClientOptions.builder();
        assertThatThrownBy(() -> builder.maxAttempts(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxAttempts");
        assertThatThrownBy(() -> builder.retryBudgetRatio(1.5))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("1.5");
        assertThatThrownBy(() -> builder.retryBudgetRatio(Double.NaN))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> builder.maxInFlight(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxInFlight");
        assertThatThrownBy(() -> builder.keepAliveTimeout(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("keepAliveTimeout");
        assertThatThrownBy(() -> builder.ejection(Duration.ofSeconds(2), Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("ejectionMax");
        String shortSecret = "tooShort";
        assertThatThrownBy(() -> builder.token(shortSecret))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("8 characters")
                .hasMessageNotContaining(shortSecret);
        assertThatThrownBy(() -> RosServerOptions.builder().methods(Arrays.asList("ok", " ")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("method");
    }

    @Test
    void generatedTokensAreValidAndDistinct() {
        String a = ServiceTokens.generate();
        String b = ServiceTokens.generate();
        assertThat(ServiceTokens.validate(a)).isEqualTo(a);
        assertThat(a).isNotEqualTo(b).hasSizeGreaterThanOrEqualTo(32);
    }

    @Test
    void serverOptionsRejectInvalidValuesNamingThem() {
        RosServerOptions.Builder builder = RosServerOptions.builder();
        assertThatThrownBy(() -> builder.port(70000))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("port")
                .hasMessageContaining("70000");
        assertThatThrownBy(() -> builder.queueCapacity(0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("queueCapacity");
        assertThatThrownBy(() -> builder.bindHost(""))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("bindHost");
    }

    @Test
    void defaultsAreSensible() {
        RosClientOptions client = RosClientOptions.defaults();
        assertThat(client.defaultTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(client.startupWait()).isZero();
        assertThat(client.callbackExecutor()).isNull();
        RosServerOptions server = RosServerOptions.defaults();
        assertThat(server.port()).isZero();
        assertThat(server.queueCapacity()).isEqualTo(1024);
    }

    @Test
    void statusCodesKeepGrpcNumbers() {
        assertThat(StatusCode.UNAVAILABLE.value()).isEqualTo(14);
        assertThat(StatusCode.PERMISSION_DENIED.value()).isEqualTo(7);
        assertThat(StatusCode.PERMISSION_DENIED.isPermanent()).isTrue();
        assertThat(StatusCode.fromValue(8)).isEqualTo(StatusCode.RESOURCE_EXHAUSTED);
        assertThatThrownBy(() -> StatusCode.fromValue(2))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("2");
    }

    @TempDir static Path pki;

    @BeforeAll
    static void writeCertificates() {
        NativeTestHooks.writeTestPki(pki.toString(), "svc.flink-ros");
    }

    @Test
    void everyClientOptionReachesTheRuntimeUnderItsOwnName() {
        // Distinct values everywhere, so that an option read into another's field shows.
        RosClientOptions options =
                RosClientOptions.builder()
                        .clientId("job/op/3")
                        .clientEpoch(7)
                        .defaultTimeout(Duration.ofMillis(30_001))
                        .startupWait(Duration.ofMillis(2))
                        .noInstanceWait(Duration.ofMillis(23))
                        .connectTimeout(Duration.ofMillis(5_003))
                        .maxMessageBytes(1_000_004)
                        .loadBalancing(LoadBalancing.ROUND_ROBIN)
                        .transport(Transport.UNARY)
                        .affinityLoadFactor(1.5)
                        .maxAttempts(5)
                        .retryBudgetRatio(0.35)
                        .retryMinPerSecond(11)
                        .maxInFlight(12)
                        .keepAliveInterval(Duration.ofMillis(10_013))
                        .keepAliveTimeout(Duration.ofMillis(5_014))
                        .ejection(Duration.ofMillis(115), Duration.ofMillis(10_016))
                        .token(ServiceTokens.credential(ServiceTokens.generate(), "job/op"))
                        .principal("job/op")
                        .serviceName("svc")
                        .tlsCaFile(pki.resolve("ca.pem").toString())
                        .tlsServerName("svc.flink-ros")
                        .build();
        Map<String, String> sent = pairs(options.toNative());
        assertThat(sent.keySet())
                .as("every option of the table is sent")
                .containsExactlyInAnyOrderElementsOf(OptionTable.CLIENT.names());
        // The connector rebuilds options with toBuilder(): it must keep every one.
        assertThat(pairs(options.toBuilder().build().toNative())).isEqualTo(sent);
        try (RosClient client = RosClient.create(options)) {
            Map<String, String> expected = new LinkedHashMap<>(sent);
            expected.remove("token");
            assertThat(client.runtimeOptions()).isEqualTo(expected);
        }
    }

    @Test
    void everyServerOptionReachesTheRuntimeUnderItsOwnName() {
        RosServerOptions options =
                RosServerOptions.builder()
                        .bindHost("localhost")
                        .queueCapacity(17)
                        .maxMessageBytes(1_000_018)
                        .keepAliveInterval(Duration.ofMillis(10_019))
                        .keepAliveTimeout(Duration.ofMillis(5_020))
                        .maxConnections(21)
                        .handshakeTimeout(Duration.ofMillis(10_022))
                        .maxBatchSize(24)
                        .maxBatchDelay(Duration.ofNanos(24_500))
                        .batching("m", 26, Duration.ofNanos(27_000))
                        .resultCacheMaxEntries(28)
                        .resultCacheMaxBytes(29_000)
                        .resultCacheTtl(Duration.ofMillis(30_030))
                        .orphanGrace(Duration.ofMillis(31))
                        .tls(
                                pki.resolve("instance.pem").toString(),
                                pki.resolve("instance.key").toString())
                        .token(ServiceTokens.generate())
                        .build();
        Map<String, String> sent = pairs(options.toNative());
        assertThat(sent.keySet().stream().filter(name -> !name.contains("@")))
                .as("every option of the table is sent")
                .containsExactlyInAnyOrderElementsOf(OptionTable.SERVER.names());
        // A part of a microsecond counts as a whole one; per-method values go as option@method.
        assertThat(sent)
                .containsEntry("maxBatchDelayMicros", "25")
                .containsEntry("maxBatchSize@m", "26")
                .containsEntry("maxBatchDelayMicros@m", "27");
        assertThat(pairs(options.toBuilder().build().toNative())).isEqualTo(sent);
        try (RosServer server = RosServer.start(options)) {
            Map<String, String> expected = new LinkedHashMap<>(sent);
            expected.remove("token");
            assertThat(server.runtimeOptions()).isEqualTo(expected);
        }
    }

    @Test
    void bothSidesStartFromTheSameDefaults() {
        try (RosClient client = RosClient.create(RosClientOptions.defaults());
                RosServer server = RosServer.start(RosServerOptions.defaults())) {
            assertThat(client.runtimeOptions())
                    .isEqualTo(pairs(RosClientOptions.defaults().toNative()));
            Map<String, String> serverDefaults = pairs(RosServerOptions.defaults().toNative());
            serverDefaults.put("bindHost", OptionTable.SERVER.defaultText("bindHost"));
            assertThat(server.runtimeOptions()).isEqualTo(serverDefaults);
        }
    }

    @Test
    void theRuntimeRefusesWhatTheBuildersRefuse() {
        // The builders check against the table first; the runtime checks the same table.
        assertThatThrownBy(
                        () ->
                                NativeClient.create(
                                        new String[] {"clientId", "c", "maxAttempts", "101"}))
                .isInstanceOf(RosException.class)
                .hasMessageContaining("maxAttempts must be in [1, 100], got 101");
        assertThatThrownBy(() -> RosClientOptions.builder().maxAttempts(101))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxAttempts must be in [1, 100], got 101");
        assertThatThrownBy(() -> NativeClient.create(new String[] {"maxAtempts", "3"}))
                .isInstanceOf(RosException.class)
                .hasMessageContaining("unknown Client option 'maxAtempts'");
    }

    private static Map<String, String> pairs(String[] flat) {
        Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < flat.length; i += 2) {
            map.put(flat[i], flat[i + 1]);
        }
        return map;
    }
}
