package org.flinkros.client;

import org.flinkros.client.internal.Preconditions;

import org.apache.flink.annotation.PublicEvolving;

import javax.annotation.Nullable;

import java.time.Duration;
import java.util.Collection;
import java.util.Collections;
import java.util.Set;
import java.util.TreeSet;

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
    private final Set<String> methods;
    @Nullable private final String token;
    private final Duration keepAliveInterval;
    private final Duration keepAliveTimeout;

    private RosServerOptions(Builder builder) {
        this.bindHost = builder.bindHost;
        this.port = builder.port;
        this.queueCapacity = builder.queueCapacity;
        this.maxMessageBytes = builder.maxMessageBytes;
        this.methods = Collections.unmodifiableSet(new TreeSet<>(builder.methods));
        this.token = builder.token;
        this.keepAliveInterval = builder.keepAliveInterval;
        this.keepAliveTimeout = builder.keepAliveTimeout;
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

    /**
     * The methods the instance has. A request naming another is refused with {@link
     * StatusCode#NOT_FOUND} before it is queued. Empty (the default): any method is queued and the
     * worker decides.
     */
    public Set<String> methods() {
        return methods;
    }

    /** The service's secret token; calls without it are refused. Null (the default): none. */
    @Nullable
    public String token() {
        return token;
    }

    /** Interval of HTTP/2 keepalive pings to callers, which detect dead ones. Default 10 s. */
    public Duration keepAliveInterval() {
        return keepAliveInterval;
    }

    /**
     * How long a keepalive ping may go unanswered before the connection is dropped. Default 5 s.
     */
    public Duration keepAliveTimeout() {
        return keepAliveTimeout;
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
                + ", methods="
                + methods
                + ", token="
                + (token == null ? "none" : "<redacted>")
                + ", keepAliveInterval="
                + keepAliveInterval
                + ", keepAliveTimeout="
                + keepAliveTimeout
                + '}';
    }

    /** Builder of {@link RosServerOptions}. */
    @PublicEvolving
    public static final class Builder {
        private String bindHost = "127.0.0.1";
        private int port = 0;
        private int queueCapacity = 1024;
        private int maxMessageBytes = 64 * 1024 * 1024;
        private Set<String> methods = Collections.emptySet();
        @Nullable private String token;
        private Duration keepAliveInterval = Duration.ofSeconds(10);
        private Duration keepAliveTimeout = Duration.ofSeconds(5);

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

        /** See {@link RosServerOptions#methods()}. */
        public Builder methods(Collection<String> methods) {
            for (String method : methods) {
                Preconditions.notBlank("method", method);
            }
            this.methods = new TreeSet<>(methods);
            return this;
        }

        /** See {@link RosServerOptions#token()}; null for none. */
        public Builder token(@Nullable String token) {
            this.token = token == null ? null : ServiceTokens.validate(token);
            return this;
        }

        /** See {@link RosServerOptions#keepAliveInterval()}. */
        public Builder keepAliveInterval(Duration keepAliveInterval) {
            this.keepAliveInterval = Preconditions.positive("keepAliveInterval", keepAliveInterval);
            return this;
        }

        /** See {@link RosServerOptions#keepAliveTimeout()}. */
        public Builder keepAliveTimeout(Duration keepAliveTimeout) {
            this.keepAliveTimeout = Preconditions.positive("keepAliveTimeout", keepAliveTimeout);
            return this;
        }

        /** The options. */
        public RosServerOptions build() {
            return new RosServerOptions(this);
        }
    }
}
