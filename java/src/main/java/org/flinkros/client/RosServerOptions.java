package org.flinkros.client;

import org.flinkros.client.internal.Preconditions;

import org.apache.flink.annotation.PublicEvolving;

/**
 * How a {@link RosServer} listens and queues. Immutable; build one with {@link #builder()}. Every
 * setter rejects invalid values with an {@link IllegalArgumentException} that names the value.
 */
@PublicEvolving
public final class RosServerOptions {
    private final String bindHost;
    private final int port;
    private final int queueCapacity;
    private final int maxMessageBytes;

    private RosServerOptions(Builder builder) {
        this.bindHost = builder.bindHost;
        this.port = builder.port;
        this.queueCapacity = builder.queueCapacity;
        this.maxMessageBytes = builder.maxMessageBytes;
    }

    /** A builder with the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** The defaults. */
    public static RosServerOptions defaults() {
        return builder().build();
    }

    /** Address to bind. Default {@code 127.0.0.1}. */
    public String bindHost() {
        return bindHost;
    }

    /** Port to bind; 0 (the default) picks a free one, see {@link RosServer#port()}. */
    public int port() {
        return port;
    }

    /**
     * Requests that may wait for a worker; more are refused with {@link
     * StatusCode#RESOURCE_EXHAUSTED}. Default 1024.
     */
    public int queueCapacity() {
        return queueCapacity;
    }

    /** Largest request or response, in bytes. Default 64 MiB. */
    public int maxMessageBytes() {
        return maxMessageBytes;
    }

    @Override
    public String toString() {
        return "RosServerOptions{bindHost="
                + bindHost
                + ", port="
                + port
                + ", queueCapacity="
                + queueCapacity
                + ", maxMessageBytes="
                + maxMessageBytes
                + '}';
    }

    /** Builder of {@link RosServerOptions}. */
    @PublicEvolving
    public static final class Builder {
        private String bindHost = "127.0.0.1";
        private int port = 0;
        private int queueCapacity = 1024;
        private int maxMessageBytes = 64 * 1024 * 1024;

        private Builder() {}

        /** See {@link RosServerOptions#bindHost()}. */
        public Builder bindHost(String bindHost) {
            this.bindHost = Preconditions.notBlank("bindHost", bindHost).trim();
            return this;
        }

        /** See {@link RosServerOptions#port()}. */
        public Builder port(int port) {
            this.port = Preconditions.inRange("port", port, 0, 65535);
            return this;
        }

        /** See {@link RosServerOptions#queueCapacity()}. */
        public Builder queueCapacity(int queueCapacity) {
            this.queueCapacity =
                    Preconditions.inRange("queueCapacity", queueCapacity, 1, Integer.MAX_VALUE);
            return this;
        }

        /** See {@link RosServerOptions#maxMessageBytes()}. */
        public Builder maxMessageBytes(int maxMessageBytes) {
            this.maxMessageBytes =
                    Preconditions.inRange("maxMessageBytes", maxMessageBytes, 1, Integer.MAX_VALUE);
            return this;
        }

        /** The options. */
        public RosServerOptions build() {
            return new RosServerOptions(this);
        }
    }
}
