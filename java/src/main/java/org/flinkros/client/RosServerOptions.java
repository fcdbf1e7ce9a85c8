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

import org.flinkros.client.internal.OptionTable;
import org.flinkros.client.internal.Preconditions;

import org.apache.flink.annotation.Internal;
import org.apache.flink.annotation.PublicEvolving;

import javax.annotation.Nullable;

import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * How a {@link RosServer} listens and queues. Immutable; build one with {@link #builder()}, or
 * change a copy with {@link #toBuilder()}. Every setter rejects invalid values with an {@link
 * IllegalArgumentException} that names the value. Serializable, so that a Flink job can carry it (a
 * service's {@code RosDescriptor} does).
 */
@PublicEvolving
public final class RosServerOptions implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Defaults and limits, shared with the native runtime. */
    private static final OptionTable T = OptionTable.SERVER;

    @Nullable private final String bindHost;
    private final int port;
    private final int queueCapacity;
    private final int maxMessageBytes;
    private final Set<String> methods;
    @Nullable private final String token;
    private final Duration keepAliveInterval;
    private final Duration keepAliveTimeout;
    private final int maxConnections;
    private final Duration handshakeTimeout;
    @Nullable private final String tlsCertificateFile;
    @Nullable private final String tlsKeyFile;
    private final int maxBatchSize;
    private final Duration maxBatchDelay;
    private final TreeMap<String, MethodBatching> methodBatching;
    private final long resultCacheMaxEntries;
    private final long resultCacheMaxBytes;
    private final Duration resultCacheTtl;
    private final Duration orphanGrace;

    private RosServerOptions(Builder builder) {
        this.bindHost = builder.bindHost;
        this.port = builder.port;
        this.queueCapacity = builder.queueCapacity;
        this.maxMessageBytes = builder.maxMessageBytes;
        this.methods = Collections.unmodifiableSet(new TreeSet<>(builder.methods));
        this.token = builder.token;
        this.keepAliveInterval = builder.keepAliveInterval;
        this.keepAliveTimeout = builder.keepAliveTimeout;
        this.maxConnections = builder.maxConnections;
        this.handshakeTimeout = builder.handshakeTimeout;
        this.tlsCertificateFile = builder.tlsCertificateFile;
        this.tlsKeyFile = builder.tlsKeyFile;
        this.maxBatchSize = builder.maxBatchSize;
        this.maxBatchDelay = builder.maxBatchDelay;
        this.methodBatching = new TreeMap<>(builder.methodBatching);
        this.resultCacheMaxEntries = builder.resultCacheMaxEntries;
        this.resultCacheMaxBytes = builder.resultCacheMaxBytes;
        this.resultCacheTtl = builder.resultCacheTtl;
        this.orphanGrace = builder.orphanGrace;
    }

    /** A builder with the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** The defaults. */
    public static RosServerOptions defaults() {
        return builder().build();
    }

    /** A builder starting from these options. */
    public Builder toBuilder() {
        Builder builder = new Builder();
        builder.bindHost = bindHost;
        builder.port = port;
        builder.queueCapacity = queueCapacity;
        builder.maxMessageBytes = maxMessageBytes;
        builder.methods = methods;
        builder.token = token;
        builder.keepAliveInterval = keepAliveInterval;
        builder.keepAliveTimeout = keepAliveTimeout;
        builder.maxConnections = maxConnections;
        builder.handshakeTimeout = handshakeTimeout;
        builder.tlsCertificateFile = tlsCertificateFile;
        builder.tlsKeyFile = tlsKeyFile;
        builder.maxBatchSize = maxBatchSize;
        builder.maxBatchDelay = maxBatchDelay;
        builder.methodBatching.putAll(methodBatching);
        builder.resultCacheMaxEntries = resultCacheMaxEntries;
        builder.resultCacheMaxBytes = resultCacheMaxBytes;
        builder.resultCacheTtl = resultCacheTtl;
        builder.orphanGrace = orphanGrace;
        return builder;
    }

    /**
     * Results of requests with an identity key (see {@link IdentityKey}) the instance keeps at
     * most, so that replays are answered without running again; 0 turns the cache off. Default
     * 100,000.
     */
    public long resultCacheMaxEntries() {
        return resultCacheMaxEntries;
    }

    /**
     * Bytes of results the cache holds at most (native memory of the instance's process; each
     * result counts at least {@code resultCacheMaxBytes / resultCacheMaxEntries}). Default 32 MiB.
     */
    public long resultCacheMaxBytes() {
        return resultCacheMaxBytes;
    }

    /** How long a cached result is kept after it was computed. Default 10 minutes. */
    public Duration resultCacheTtl() {
        return resultCacheTtl;
    }

    /**
     * How long a queued request with an identity key stays after its caller went away (its data
     * plane failed), so that the instance finishes it for the replay, which then joins it or finds
     * its result in the cache. Zero (the default) drops it at once, as requests without a key are.
     */
    public Duration orphanGrace() {
        return orphanGrace;
    }

    /**
     * Address to bind, or null (the default) for the host's choice: a {@link RosServer} started
     * directly binds {@code 127.0.0.1} (loopback only); a service instance in a Flink job binds its
     * TaskManager's bind address ({@code taskmanager.bind-host}) or, without one, the address it
     * announces to its callers.
     */
    @Nullable
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
     * worker decides. A service instance sets them from its operator.
     */
    public Set<String> methods() {
        return methods;
    }

    /**
     * The service's secret token; calls without it are refused. Null (the default): none. A service
     * instance in a Flink job uses the token the job generated for the service.
     */
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

    /**
     * Connections the instance keeps open at most; more are closed as soon as they arrive, so that
     * peers cannot use up the host's file descriptors. Default 4096.
     */
    public int maxConnections() {
        return maxConnections;
    }

    /**
     * Time a new connection has to start HTTP/2; a connection that sends nothing (or too little) in
     * that time is closed. Default 10 s.
     */
    public Duration handshakeTimeout() {
        return handshakeTimeout;
    }

    /**
     * PEM file of the instance's certificate chain; set (with {@link #tlsKeyFile()}), callers must
     * use TLS. Null (the default): plain text.
     */
    @Nullable
    public String tlsCertificateFile() {
        return tlsCertificateFile;
    }

    /** PEM file of the private key of {@link #tlsCertificateFile()}; null (the default): none. */
    @Nullable
    public String tlsKeyFile() {
        return tlsKeyFile;
    }

    /**
     * Most requests a worker takes in one batch, for methods without a size of their own. A batch
     * holds requests of one method; an operator that answers one request at a time polls one
     * anyway. Default 64.
     */
    public int maxBatchSize() {
        return maxBatchSize;
    }

    /**
     * How long a batch that is not full may wait for more requests, counted from when its oldest
     * request was queued, for methods without a delay of their own. Default zero: a worker takes
     * what is queued and never waits for a batch to fill.
     */
    public Duration maxBatchDelay() {
        return maxBatchDelay;
    }

    /** The methods with batching of their own ({@link Builder#batching}). */
    public Set<String> batchingMethods() {
        return Collections.unmodifiableSet(methodBatching.keySet());
    }

    /** The most requests in one batch of {@code method}. */
    public int maxBatchSize(String method) {
        MethodBatching own = methodBatching.get(method);
        return own == null ? maxBatchSize : own.maxBatchSize;
    }

    /** How long a batch of {@code method} may wait to fill. */
    public Duration maxBatchDelay(String method) {
        MethodBatching own = methodBatching.get(method);
        return own == null ? maxBatchDelay : own.maxBatchDelay;
    }

    /**
     * These options as the native runtime takes them: {@code [name, value, ...]} with the names of
     * {@code options.properties}; the methods travel on their own. Also what a process hosting a
     * server of its own (a Python-hosted service instance) is given, as {@code name=value} pairs.
     */
    @Internal
    public String[] toNative() {
        List<String> pairs =
                new ArrayList<>(
                        Arrays.asList(
                                "port", Integer.toString(port),
                                "queueCapacity", Integer.toString(queueCapacity),
                                "maxMessageBytes", Integer.toString(maxMessageBytes),
                                "keepAliveIntervalMillis", OptionTable.millis(keepAliveInterval),
                                "keepAliveTimeoutMillis", OptionTable.millis(keepAliveTimeout),
                                "maxConnections", Integer.toString(maxConnections),
                                "handshakeTimeoutMillis", OptionTable.millis(handshakeTimeout),
                                "maxBatchSize", Integer.toString(maxBatchSize),
                                "maxBatchDelayMicros", OptionTable.micros(maxBatchDelay),
                                "resultCacheMaxEntries", Long.toString(resultCacheMaxEntries),
                                "resultCacheMaxBytes", Long.toString(resultCacheMaxBytes),
                                "resultCacheTtlMillis", OptionTable.millis(resultCacheTtl),
                                "orphanGraceMillis", OptionTable.millis(orphanGrace)));
        methodBatching.forEach(
                (method, own) ->
                        pairs.addAll(
                                Arrays.asList(
                                        "maxBatchSize@" + method,
                                        Integer.toString(own.maxBatchSize),
                                        "maxBatchDelayMicros@" + method,
                                        OptionTable.micros(own.maxBatchDelay))));
        if (bindHost != null) {
            pairs.addAll(Arrays.asList("bindHost", bindHost));
        }
        if (token != null) {
            pairs.addAll(Arrays.asList("token", token));
        }
        if (tlsCertificateFile != null) {
            pairs.addAll(
                    Arrays.asList(
                            "tlsCertificateFile", tlsCertificateFile, "tlsKeyFile", tlsKeyFile));
        }
        return pairs.toArray(new String[0]);
    }

    @Override
    public String toString() {
        return "RosServerOptions{bindHost="
                + (bindHost == null ? "default" : bindHost)
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
                + ", maxConnections="
                + maxConnections
                + ", handshakeTimeout="
                + handshakeTimeout
                + ", tlsCertificateFile="
                + tlsCertificateFile
                + ", tlsKeyFile="
                + tlsKeyFile
                + ", maxBatchSize="
                + maxBatchSize
                + ", maxBatchDelay="
                + maxBatchDelay
                + (methodBatching.isEmpty() ? "" : ", methodBatching=" + methodBatching)
                + ", resultCacheMaxEntries="
                + resultCacheMaxEntries
                + ", resultCacheMaxBytes="
                + resultCacheMaxBytes
                + ", resultCacheTtl="
                + resultCacheTtl
                + ", orphanGrace="
                + orphanGrace
                + '}';
    }

    /** Builder of {@link RosServerOptions}. */
    @PublicEvolving
    public static final class Builder {
        @Nullable private String bindHost;
        private int port = T.defaultInt("port");
        private int queueCapacity = T.defaultInt("queueCapacity");
        private int maxMessageBytes = T.defaultInt("maxMessageBytes");
        private Set<String> methods = Collections.emptySet();
        @Nullable private String token;
        private Duration keepAliveInterval = T.defaultDuration("keepAliveInterval");
        private Duration keepAliveTimeout = T.defaultDuration("keepAliveTimeout");
        private int maxConnections = T.defaultInt("maxConnections");
        private Duration handshakeTimeout = T.defaultDuration("handshakeTimeout");
        @Nullable private String tlsCertificateFile;
        @Nullable private String tlsKeyFile;
        private int maxBatchSize = T.defaultInt("maxBatchSize");
        private Duration maxBatchDelay = T.defaultMicros("maxBatchDelay");
        private long resultCacheMaxEntries = T.defaultLong("resultCacheMaxEntries");
        private long resultCacheMaxBytes = T.defaultLong("resultCacheMaxBytes");
        private Duration resultCacheTtl = T.defaultDuration("resultCacheTtl");
        private Duration orphanGrace = T.defaultDuration("orphanGrace");
        private final Map<String, MethodBatching> methodBatching = new TreeMap<>();

        private Builder() {}

        /** See {@link RosServerOptions#bindHost()}; null for the host's choice. */
        public Builder bindHost(@Nullable String bindHost) {
            this.bindHost =
                    bindHost == null ? null : Preconditions.notBlank("bindHost", bindHost).trim();
            return this;
        }

        /** See {@link RosServerOptions#port()}. */
        public Builder port(int port) {
            this.port = T.checkInt("port", port);
            return this;
        }

        /** See {@link RosServerOptions#queueCapacity()}. */
        public Builder queueCapacity(int queueCapacity) {
            this.queueCapacity = T.checkInt("queueCapacity", queueCapacity);
            return this;
        }

        /** See {@link RosServerOptions#maxMessageBytes()}. */
        public Builder maxMessageBytes(int maxMessageBytes) {
            this.maxMessageBytes = T.checkInt("maxMessageBytes", maxMessageBytes);
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
            this.keepAliveInterval = T.checkDuration("keepAliveInterval", keepAliveInterval);
            return this;
        }

        /** See {@link RosServerOptions#keepAliveTimeout()}. */
        public Builder keepAliveTimeout(Duration keepAliveTimeout) {
            this.keepAliveTimeout = T.checkDuration("keepAliveTimeout", keepAliveTimeout);
            return this;
        }

        /** See {@link RosServerOptions#maxConnections()}. */
        public Builder maxConnections(int maxConnections) {
            this.maxConnections = T.checkInt("maxConnections", maxConnections);
            return this;
        }

        /** See {@link RosServerOptions#handshakeTimeout()}. */
        public Builder handshakeTimeout(Duration handshakeTimeout) {
            this.handshakeTimeout = T.checkDuration("handshakeTimeout", handshakeTimeout);
            return this;
        }

        /**
         * See {@link RosServerOptions#tlsCertificateFile()} and {@link
         * RosServerOptions#tlsKeyFile()}: both, or null for both (plain text).
         */
        public Builder tls(@Nullable String certificateFile, @Nullable String keyFile) {
            if ((certificateFile == null) != (keyFile == null)) {
                throw new IllegalArgumentException(
                        "tls needs a certificate file and a key file, or neither; got "
                                + certificateFile
                                + " and "
                                + keyFile);
            }
            this.tlsCertificateFile =
                    certificateFile == null
                            ? null
                            : Preconditions.notBlank("tlsCertificateFile", certificateFile);
            this.tlsKeyFile =
                    keyFile == null ? null : Preconditions.notBlank("tlsKeyFile", keyFile);
            return this;
        }

        /** See {@link RosServerOptions#maxBatchSize()}. */
        public Builder maxBatchSize(int maxBatchSize) {
            this.maxBatchSize = T.checkInt("maxBatchSize", maxBatchSize);
            return this;
        }

        /** See {@link RosServerOptions#resultCacheMaxEntries()}. */
        public Builder resultCacheMaxEntries(long resultCacheMaxEntries) {
            this.resultCacheMaxEntries =
                    T.checkLong("resultCacheMaxEntries", resultCacheMaxEntries);
            return this;
        }

        /** See {@link RosServerOptions#resultCacheMaxBytes()}. */
        public Builder resultCacheMaxBytes(long resultCacheMaxBytes) {
            this.resultCacheMaxBytes = T.checkLong("resultCacheMaxBytes", resultCacheMaxBytes);
            return this;
        }

        /** See {@link RosServerOptions#resultCacheTtl()}. */
        public Builder resultCacheTtl(Duration resultCacheTtl) {
            this.resultCacheTtl = T.checkDuration("resultCacheTtl", resultCacheTtl);
            return this;
        }

        /** See {@link RosServerOptions#orphanGrace()}. */
        public Builder orphanGrace(Duration orphanGrace) {
            this.orphanGrace = T.checkDuration("orphanGrace", orphanGrace);
            return this;
        }

        /** See {@link RosServerOptions#maxBatchDelay()}. */
        public Builder maxBatchDelay(Duration maxBatchDelay) {
            this.maxBatchDelay = T.checkMicros("maxBatchDelay", maxBatchDelay);
            return this;
        }

        /**
         * Batching of one method: at most {@code maxBatchSize} requests per batch, waiting up to
         * {@code maxBatchDelay} for a batch to fill (see {@link RosServerOptions#maxBatchDelay()}).
         */
        public Builder batching(String method, int maxBatchSize, Duration maxBatchDelay) {
            Preconditions.notBlank("method", method);
            methodBatching.put(
                    method,
                    new MethodBatching(
                            T.checkInt("maxBatchSize", maxBatchSize),
                            T.checkMicros("maxBatchDelay", maxBatchDelay)));
            return this;
        }

        /** The options. */
        public RosServerOptions build() {
            return new RosServerOptions(this);
        }
    }

    /** The batching of one method. */
    private static final class MethodBatching implements Serializable {
        private static final long serialVersionUID = 1L;

        final int maxBatchSize;
        final Duration maxBatchDelay;

        MethodBatching(int maxBatchSize, Duration maxBatchDelay) {
            this.maxBatchSize = maxBatchSize;
            this.maxBatchDelay = maxBatchDelay;
        }

        @Override
        public String toString() {
            return "(" + maxBatchSize + ", " + maxBatchDelay + ")";
        }
    }
}
