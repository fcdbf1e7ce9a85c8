package org.flinkros.client;

import org.flinkros.client.internal.Preconditions;

import org.apache.flink.annotation.PublicEvolving;

import javax.annotation.Nullable;

import java.io.Serializable;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executor;

/**
 * How a {@link RosClient} identifies itself, routes, retries, waits and delivers results.
 * Immutable; build one with {@link #builder()}, or change a copy with {@link #toBuilder()}. Every
 * setter rejects invalid values with an {@link IllegalArgumentException} that names the value.
 * Serializable (without the callback executor), so that a Flink job can carry it.
 */
@PublicEvolving
public final class RosClientOptions implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Largest message size accepted by the runtime: 2 GiB - 1. */
    public static final int MAX_MESSAGE_BYTES_LIMIT = Integer.MAX_VALUE;

    private final String clientId;
    private final long clientEpoch;
    private final Duration defaultTimeout;
    private final Duration startupWait;
    private final Duration connectTimeout;
    private final int maxMessageBytes;

    /** Not serialized: a deserialized copy completes results on a thread of its own. */
    @Nullable private final transient Executor callbackExecutor;

    private final LoadBalancing loadBalancing;
    private final int maxAttempts;
    private final double retryBudgetRatio;
    private final int retryMinPerSecond;
    private final int maxInFlight;
    private final Duration keepAliveInterval;
    private final Duration keepAliveTimeout;
    private final Duration ejectionMin;
    private final Duration ejectionMax;
    @Nullable private final String token;
    @Nullable private final String serviceName;

    private RosClientOptions(Builder builder) {
        this.clientId = builder.clientId;
        this.clientEpoch = builder.clientEpoch;
        this.defaultTimeout = builder.defaultTimeout;
        this.startupWait = builder.startupWait;
        this.connectTimeout = builder.connectTimeout;
        this.maxMessageBytes = builder.maxMessageBytes;
        this.callbackExecutor = builder.callbackExecutor;
        this.loadBalancing = builder.loadBalancing;
        this.maxAttempts = builder.maxAttempts;
        this.retryBudgetRatio = builder.retryBudgetRatio;
        this.retryMinPerSecond = builder.retryMinPerSecond;
        this.maxInFlight = builder.maxInFlight;
        this.keepAliveInterval = builder.keepAliveInterval;
        this.keepAliveTimeout = builder.keepAliveTimeout;
        this.ejectionMin = builder.ejectionMin;
        this.ejectionMax = builder.ejectionMax;
        this.token = builder.token;
        this.serviceName = builder.serviceName;
    }

    /** A builder with the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** The defaults. */
    public static RosClientOptions defaults() {
        return builder().build();
    }

    /** A builder starting from these options. */
    public Builder toBuilder() {
        Builder builder = new Builder();
        builder.clientId = clientId;
        builder.clientEpoch = clientEpoch;
        builder.defaultTimeout = defaultTimeout;
        builder.startupWait = startupWait;
        builder.connectTimeout = connectTimeout;
        builder.maxMessageBytes = maxMessageBytes;
        builder.callbackExecutor = callbackExecutor;
        builder.loadBalancing = loadBalancing;
        builder.maxAttempts = maxAttempts;
        builder.retryBudgetRatio = retryBudgetRatio;
        builder.retryMinPerSecond = retryMinPerSecond;
        builder.maxInFlight = maxInFlight;
        builder.keepAliveInterval = keepAliveInterval;
        builder.keepAliveTimeout = keepAliveTimeout;
        builder.ejectionMin = ejectionMin;
        builder.ejectionMax = ejectionMax;
        builder.token = token;
        builder.serviceName = serviceName;
        return builder;
    }

    /** Who calls; in Flink {@code <job>/<operator>/<subtask>}. Default {@code ros-client}. */
    public String clientId() {
        return clientId;
    }

    /** The caller's attempt number, sent with every request. Default 0. */
    public long clientEpoch() {
        return clientEpoch;
    }

    /** Deadline of a call that does not give its own. Default 30 s. */
    public Duration defaultTimeout() {
        return defaultTimeout;
    }

    /**
     * How long calls made before the first endpoints arrive wait for them. Default 0: an empty
     * endpoint set fails calls with {@link StatusCode#UNAVAILABLE} at once.
     */
    public Duration startupWait() {
        return startupWait;
    }

    /** Time allowed to open a connection to an instance. Default 5 s. */
    public Duration connectTimeout() {
        return connectTimeout;
    }

    /** Largest request or response, in bytes. Default 64 MiB. */
    public int maxMessageBytes() {
        return maxMessageBytes;
    }

    /**
     * Where result futures are completed, or null for a thread owned by the client. Callbacks
     * chained on a result future run there; never on the runtime's network threads.
     */
    @Nullable
    public Executor callbackExecutor() {
        return callbackExecutor;
    }

    /** How calls are spread over instances. Default {@link LoadBalancing#POWER_OF_TWO_CHOICES}. */
    public LoadBalancing loadBalancing() {
        return loadBalancing;
    }

    /**
     * Attempts per call, the first included. A call that fails with {@link StatusCode#UNAVAILABLE}
     * or {@link StatusCode#RESOURCE_EXHAUSTED} (no response was produced) is sent again to a
     * different instance, up to this many times in all. 1 disables retries. Default 3.
     */
    public int maxAttempts() {
        return maxAttempts;
    }

    /**
     * Retries may not exceed this fraction of calls (plus {@link #retryMinPerSecond()}), so that a
     * failing service is not hammered. Default 0.2.
     */
    public double retryBudgetRatio() {
        return retryBudgetRatio;
    }

    /** Retries allowed per second regardless of the ratio, for quiet clients. Default 10. */
    public int retryMinPerSecond() {
        return retryMinPerSecond;
    }

    /**
     * Calls in flight at most. Further calls wait for a slot (their futures stay pending) rather
     * than piling up in the transport. Default 1024.
     */
    public int maxInFlight() {
        return maxInFlight;
    }

    /** Interval of HTTP/2 keepalive pings, which detect half-open connections. Default 10 s. */
    public Duration keepAliveInterval() {
        return keepAliveInterval;
    }

    /**
     * How long a keepalive ping may go unanswered before the connection counts as lost (its calls
     * then fail over). Default 5 s.
     */
    public Duration keepAliveTimeout() {
        return keepAliveTimeout;
    }

    /**
     * How long an instance sits out after a lost connection or a full queue; doubles while it keeps
     * failing. Default 100 ms.
     */
    public Duration ejectionMin() {
        return ejectionMin;
    }

    /** Longest time an instance sits out. Default 10 s. */
    public Duration ejectionMax() {
        return ejectionMax;
    }

    /** The service's secret token, sent with every call; null for none. */
    @Nullable
    public String token() {
        return token;
    }

    /**
     * The name of the service this client calls, used in error messages (an oversized request names
     * the service, the method and the option that sets the limit); null for none. In a Flink job
     * the connector sets it.
     */
    @Nullable
    public String serviceName() {
        return serviceName;
    }

    /** Builder of {@link RosClientOptions}. */
    @PublicEvolving
    public static final class Builder {
        private String clientId = "ros-client";
        private long clientEpoch = 0;
        private Duration defaultTimeout = Duration.ofSeconds(30);
        private Duration startupWait = Duration.ZERO;
        private Duration connectTimeout = Duration.ofSeconds(5);
        private int maxMessageBytes = 64 * 1024 * 1024;
        @Nullable private Executor callbackExecutor;
        private LoadBalancing loadBalancing = LoadBalancing.POWER_OF_TWO_CHOICES;
        private int maxAttempts = 3;
        private double retryBudgetRatio = 0.2;
        private int retryMinPerSecond = 10;
        private int maxInFlight = 1024;
        private Duration keepAliveInterval = Duration.ofSeconds(10);
        private Duration keepAliveTimeout = Duration.ofSeconds(5);
        private Duration ejectionMin = Duration.ofMillis(100);
        private Duration ejectionMax = Duration.ofSeconds(10);
        @Nullable private String token;
        @Nullable private String serviceName;

        private Builder() {}

        /** See {@link RosClientOptions#clientId()}. */
        public Builder clientId(String clientId) {
            this.clientId = Preconditions.notBlank("clientId", clientId);
            return this;
        }

        /** See {@link RosClientOptions#clientEpoch()}. */
        public Builder clientEpoch(long clientEpoch) {
            this.clientEpoch = Preconditions.notNegative("clientEpoch", clientEpoch);
            return this;
        }

        /** See {@link RosClientOptions#defaultTimeout()}. */
        public Builder defaultTimeout(Duration defaultTimeout) {
            this.defaultTimeout = Preconditions.positive("defaultTimeout", defaultTimeout);
            return this;
        }

        /** See {@link RosClientOptions#startupWait()}. */
        public Builder startupWait(Duration startupWait) {
            this.startupWait = Preconditions.notNegative("startupWait", startupWait);
            return this;
        }

        /** See {@link RosClientOptions#connectTimeout()}. */
        public Builder connectTimeout(Duration connectTimeout) {
            this.connectTimeout = Preconditions.positive("connectTimeout", connectTimeout);
            return this;
        }

        /** See {@link RosClientOptions#maxMessageBytes()}. */
        public Builder maxMessageBytes(int maxMessageBytes) {
            this.maxMessageBytes =
                    Preconditions.inRange(
                            "maxMessageBytes", maxMessageBytes, 1, MAX_MESSAGE_BYTES_LIMIT);
            return this;
        }

        /** See {@link RosClientOptions#callbackExecutor()}. */
        public Builder callbackExecutor(@Nullable Executor callbackExecutor) {
            this.callbackExecutor = callbackExecutor;
            return this;
        }

        /** See {@link RosClientOptions#loadBalancing()}. */
        public Builder loadBalancing(LoadBalancing loadBalancing) {
            this.loadBalancing = Objects.requireNonNull(loadBalancing, "loadBalancing");
            return this;
        }

        /** See {@link RosClientOptions#maxAttempts()}. */
        public Builder maxAttempts(int maxAttempts) {
            this.maxAttempts = Preconditions.inRange("maxAttempts", maxAttempts, 1, 100);
            return this;
        }

        /** See {@link RosClientOptions#retryBudgetRatio()}. */
        public Builder retryBudgetRatio(double retryBudgetRatio) {
            if (!(retryBudgetRatio >= 0 && retryBudgetRatio <= 1)) {
                throw new IllegalArgumentException(
                        "retryBudgetRatio must be in [0, 1], got " + retryBudgetRatio);
            }
            this.retryBudgetRatio = retryBudgetRatio;
            return this;
        }

        /** See {@link RosClientOptions#retryMinPerSecond()}. */
        public Builder retryMinPerSecond(int retryMinPerSecond) {
            this.retryMinPerSecond =
                    Preconditions.inRange(
                            "retryMinPerSecond", retryMinPerSecond, 0, Integer.MAX_VALUE);
            return this;
        }

        /** See {@link RosClientOptions#maxInFlight()}. */
        public Builder maxInFlight(int maxInFlight) {
            this.maxInFlight = Preconditions.inRange("maxInFlight", maxInFlight, 1, 1 << 28);
            return this;
        }

        /** See {@link RosClientOptions#keepAliveInterval()}. */
        public Builder keepAliveInterval(Duration keepAliveInterval) {
            this.keepAliveInterval = Preconditions.positive("keepAliveInterval", keepAliveInterval);
            return this;
        }

        /** See {@link RosClientOptions#keepAliveTimeout()}. */
        public Builder keepAliveTimeout(Duration keepAliveTimeout) {
            this.keepAliveTimeout = Preconditions.positive("keepAliveTimeout", keepAliveTimeout);
            return this;
        }

        /**
         * See {@link RosClientOptions#ejectionMin()} and {@link RosClientOptions#ejectionMax()}.
         */
        public Builder ejection(Duration min, Duration max) {
            Preconditions.positive("ejectionMin", min);
            Preconditions.positive("ejectionMax", max);
            if (max.compareTo(min) < 0) {
                throw new IllegalArgumentException(
                        "ejectionMax (" + max + ") must not be below ejectionMin (" + min + ")");
            }
            this.ejectionMin = min;
            this.ejectionMax = max;
            return this;
        }

        /** See {@link RosClientOptions#token()}; null for none. */
        public Builder token(@Nullable String token) {
            this.token = token == null ? null : ServiceTokens.validate(token);
            return this;
        }

        /** See {@link RosClientOptions#serviceName()}; null for none. */
        public Builder serviceName(@Nullable String serviceName) {
            this.serviceName =
                    serviceName == null ? null : Preconditions.notBlank("serviceName", serviceName);
            return this;
        }

        /** The options. */
        public RosClientOptions build() {
            return new RosClientOptions(this);
        }
    }

    @Override
    public String toString() {
        return "RosClientOptions{clientId="
                + clientId
                + ", clientEpoch="
                + clientEpoch
                + ", defaultTimeout="
                + defaultTimeout
                + ", startupWait="
                + startupWait
                + ", connectTimeout="
                + connectTimeout
                + ", maxMessageBytes="
                + maxMessageBytes
                + ", callbackExecutor="
                + (callbackExecutor == null ? "own thread" : callbackExecutor)
                + ", loadBalancing="
                + loadBalancing
                + ", maxAttempts="
                + maxAttempts
                + ", retryBudgetRatio="
                + retryBudgetRatio
                + ", retryMinPerSecond="
                + retryMinPerSecond
                + ", maxInFlight="
                + maxInFlight
                + ", keepAliveInterval="
                + keepAliveInterval
                + ", keepAliveTimeout="
                + keepAliveTimeout
                + ", ejectionMin="
                + ejectionMin
                + ", ejectionMax="
                + ejectionMax
                + ", token="
                + (token == null ? "none" : "<redacted>")
                + ", serviceName="
                + serviceName
                + '}';
    }
}
