package org.flinkros.client;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Arrays;

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
        assertThat(StatusCode.fromValue(8)).isEqualTo(StatusCode.RESOURCE_EXHAUSTED);
        assertThatThrownBy(() -> StatusCode.fromValue(2))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("2");
    }
}
