package org.flinkros.client;

import org.flinkros.client.internal.Preconditions;

import org.apache.flink.annotation.PublicEvolving;

import javax.annotation.Nullable;

import java.time.Duration;
import java.util.concurrent.Executor;

/**
 * How a {@link RosClient} identifies itself, waits and delivers results. Immutable; build one with
 * {@link #builder()}. Every setter rejects invalid values with an {@link IllegalArgumentException}
 * that names the value.
 */
@PublicEvolving
public final class RosClientOptions {
    /** Largest message size accepted by the runtime: 2 GiB - 1. */
    public static final int MAX_MESSAGE_BYTES_LIMIT = Integer.MAX_VALUE;

    private final String clientId;
    private final long clientEpoch;
    private final Duration defaultTimeout;
    private final Duration startupWait;
    private final Duration connectTimeout;
    private final int maxMessageBytes;
    @Nullable private final Executor callbackExecutor;

    private RosClientOptions(Builder builder) {
        this.clientId = builder.clientId;
        this.clientEpoch = builder.clientEpoch;
        this.defaultTimeout = builder.defaultTimeout;
        this.startupWait = builder.startupWait;
        this.connectTimeout = builder.connectTimeout;
        this.maxMessageBytes = builder.maxMessageBytes;
        this.callbackExecutor = builder.callbackExecutor;
    }

    /** A builder with the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** The defaults. */
    public static RosClientOptions defaults() {
        return builder().build();
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
                + '}';
    }
}
