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

import org.apache.flink.annotation.PublicEvolving;

import javax.annotation.Nullable;

import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
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

    /** Defaults and limits, shared with the native runtime. */
    private static final OptionTable T = OptionTable.CLIENT;

    private final String clientId;
    private final long clientEpoch;
    private final Duration defaultTimeout;
    private final Duration startupWait;
    private final Duration noInstanceWait;
    private final Duration connectTimeout;
    private final int maxMessageBytes;

    /** Not serialized: a deserialized copy completes results on a thread of its own. */
    @Nullable private final transient Executor callbackExecutor;

    private final LoadBalancing loadBalancing;
    private final Transport transport;
    private final double affinityLoadFactor;
    private final int maxAttempts;
    private final double retryBudgetRatio;
    private final int retryMinPerSecond;
    private final int maxInFlight;
    private final Duration keepAliveInterval;
    private final Duration keepAliveTimeout;
    private final Duration ejectionMin;
    private final Duration ejectionMax;
    @Nullable private final String token;
    @Nullable private final String principal;
    @Nullable private final String serviceName;
    @Nullable private final String tlsCaFile;
    @Nullable private final String tlsServerName;

    private RosClientOptions(Builder builder) {
        this.clientId = builder.clientId;
        this.clientEpoch = builder.clientEpoch;
        this.defaultTimeout = builder.defaultTimeout;
        this.startupWait = builder.startupWait;
        this.noInstanceWait = builder.noInstanceWait;
        this.connectTimeout = builder.connectTimeout;
        this.maxMessageBytes = builder.maxMessageBytes;
        this.callbackExecutor = builder.callbackExecutor;
        this.loadBalancing = builder.loadBalancing;
        this.transport = builder.transport;
        this.affinityLoadFactor = builder.affinityLoadFactor;
        this.maxAttempts = builder.maxAttempts;
        this.retryBudgetRatio = builder.retryBudgetRatio;
        this.retryMinPerSecond = builder.retryMinPerSecond;
        this.maxInFlight = builder.maxInFlight;
        this.keepAliveInterval = builder.keepAliveInterval;
        this.keepAliveTimeout = builder.keepAliveTimeout;
        this.ejectionMin = builder.ejectionMin;
        this.ejectionMax = builder.ejectionMax;
        this.token = builder.token;
        this.principal = builder.principal;
        this.serviceName = builder.serviceName;
        this.tlsCaFile = builder.tlsCaFile;
        this.tlsServerName = builder.tlsServerName;
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
        builder.noInstanceWait = noInstanceWait;
        builder.connectTimeout = connectTimeout;
        builder.maxMessageBytes = maxMessageBytes;
        builder.callbackExecutor = callbackExecutor;
        builder.loadBalancing = loadBalancing;
        builder.transport = transport;
        builder.affinityLoadFactor = affinityLoadFactor;
        builder.maxAttempts = maxAttempts;
        builder.retryBudgetRatio = retryBudgetRatio;
        builder.retryMinPerSecond = retryMinPerSecond;
        builder.maxInFlight = maxInFlight;
        builder.keepAliveInterval = keepAliveInterval;
        builder.keepAliveTimeout = keepAliveTimeout;
        builder.ejectionMin = ejectionMin;
        builder.ejectionMax = ejectionMax;
        builder.token = token;
        builder.principal = principal;
        builder.serviceName = serviceName;
        builder.tlsCaFile = tlsCaFile;
        builder.tlsServerName = tlsServerName;
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

    /**
     * How long a call that finds no live instance (none known, every one lost its connection, or
     * every one already failed this call) waits for one, within its deadline, before it fails with
     * {@link StatusCode#UNAVAILABLE}. Default 0: it fails at once. A Flink job's calls wait up to
     * their timeout, so that instances restarting together (their TaskManager was lost) hold
     * records back instead of failing them.
     */
    public Duration noInstanceWait() {
        return noInstanceWait;
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
     * How calls travel to an instance. Default {@link Transport#MULTIPLEXED}: over one long-lived
     * stream per instance, many requests to a message.
     */
    public Transport transport() {
        return transport;
    }

    /**
     * Calls with an {@link IdentityKey} go to the instance their key hashes to (consistent
     * hashing), unless that instance took more than this many times the mean of the client's latest
     * keyed calls; then to the next instance on the ring. Higher keeps more keys on their instance,
     * lower spreads a hot key sooner. At least 1. Default 1.25.
     */
    public double affinityLoadFactor() {
        return affinityLoadFactor;
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

    /**
     * The secret sent with every call: the service's token, or with a {@link #principal()} that
     * principal's credential ({@link ServiceTokens#credential}); null for none.
     */
    @Nullable
    public String token() {
        return token;
    }

    /**
     * The principal this client authenticates as, sent with every call; null (the default) for
     * none. With a principal, {@link #token()} holds the principal's credential, and the client may
     * only use client ids that are the principal or start with {@code principal + "/"}: the
     * instances refuse calls and cancels for other ids with {@link StatusCode#PERMISSION_DENIED},
     * and {@link RosClient#create} refuses a {@link #clientId()} outside the principal with {@link
     * StatusCode#INVALID_ARGUMENT}. Without one, the token is the service's own and the client may
     * act for any client id.
     */
    @Nullable
    public String principal() {
        return principal;
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

    /**
     * PEM file of the certificate authority that signed the instances' certificates; set, calls use
     * TLS. Null (the default): plain text.
     */
    @Nullable
    public String tlsCaFile() {
        return tlsCaFile;
    }

    /**
     * The name the instances' certificates must carry; null (the default) checks the host of each
     * instance's address. Instances move, so a certificate issued for a name of the service's own,
     * checked with this option, is the usual set-up.
     */
    @Nullable
    public String tlsServerName() {
        return tlsServerName;
    }

    /**
     * These options as the native runtime takes them: {@code [name, value, ...]} with the names of
     * {@code options.properties}. The callback executor stays on the Java side.
     */
    String[] toNative() {
        List<String> pairs =
                new ArrayList<>(
                        Arrays.asList(
                                "clientId", clientId,
                                "clientEpoch", Long.toString(clientEpoch),
                                "defaultTimeoutMillis", OptionTable.millis(defaultTimeout),
                                "startupWaitMillis", OptionTable.millis(startupWait),
                                "noInstanceWaitMillis", OptionTable.millis(noInstanceWait),
                                "connectTimeoutMillis", OptionTable.millis(connectTimeout),
                                "maxMessageBytes", Integer.toString(maxMessageBytes),
                                "loadBalancing", loadBalancing.name(),
                                "transport", transport.name(),
                                "affinityLoadFactor", Double.toString(affinityLoadFactor),
                                "maxAttempts", Integer.toString(maxAttempts),
                                "retryBudgetRatio", Double.toString(retryBudgetRatio),
                                "retryMinPerSecond", Integer.toString(retryMinPerSecond),
                                "maxInFlight", Integer.toString(maxInFlight),
                                "keepAliveIntervalMillis", OptionTable.millis(keepAliveInterval),
                                "keepAliveTimeoutMillis", OptionTable.millis(keepAliveTimeout),
                                "ejectionMinMillis", OptionTable.millis(ejectionMin),
                                "ejectionMaxMillis", OptionTable.millis(ejectionMax)));
        if (token != null) {
            pairs.addAll(Arrays.asList("token", token));
        }
        if (principal != null) {
            pairs.addAll(Arrays.asList("principal", principal));
        }
        if (serviceName != null) {
            pairs.addAll(Arrays.asList("serviceName", serviceName));
        }
        if (tlsCaFile != null) {
            pairs.addAll(Arrays.asList("tlsCaFile", tlsCaFile));
        }
        if (tlsServerName != null) {
            pairs.addAll(Arrays.asList("tlsServerName", tlsServerName));
        }
        return pairs.toArray(new String[0]);
    }

    /** Builder of {@link RosClientOptions}. */
    @PublicEvolving
    public static final class Builder {
        private String clientId = T.defaultText("clientId");
        private long clientEpoch = T.defaultLong("clientEpoch");
        private Duration defaultTimeout = T.defaultDuration("defaultTimeout");
        private Duration startupWait = T.defaultDuration("startupWait");
        private Duration noInstanceWait = T.defaultDuration("noInstanceWait");
        private Duration connectTimeout = T.defaultDuration("connectTimeout");
        private int maxMessageBytes = T.defaultInt("maxMessageBytes");
        @Nullable private Executor callbackExecutor;
        private LoadBalancing loadBalancing = LoadBalancing.valueOf(T.defaultText("loadBalancing"));
        private Transport transport = Transport.valueOf(T.defaultText("transport"));
        private double affinityLoadFactor = T.defaultReal("affinityLoadFactor");
        private int maxAttempts = T.defaultInt("maxAttempts");
        private double retryBudgetRatio = T.defaultReal("retryBudgetRatio");
        private int retryMinPerSecond = T.defaultInt("retryMinPerSecond");
        private int maxInFlight = T.defaultInt("maxInFlight");
        private Duration keepAliveInterval = T.defaultDuration("keepAliveInterval");
        private Duration keepAliveTimeout = T.defaultDuration("keepAliveTimeout");
        private Duration ejectionMin = T.defaultDuration("ejectionMin");
        private Duration ejectionMax = T.defaultDuration("ejectionMax");
        @Nullable private String token;
        @Nullable private String principal;
        @Nullable private String serviceName;
        @Nullable private String tlsCaFile;
        @Nullable private String tlsServerName;

        private Builder() {}

        /** See {@link RosClientOptions#clientId()}. */
        public Builder clientId(String clientId) {
            this.clientId = Preconditions.notBlank("clientId", clientId);
            return this;
        }

        /** See {@link RosClientOptions#clientEpoch()}. */
        public Builder clientEpoch(long clientEpoch) {
            this.clientEpoch = T.checkLong("clientEpoch", clientEpoch);
            return this;
        }

        /** See {@link RosClientOptions#defaultTimeout()}. */
        public Builder defaultTimeout(Duration defaultTimeout) {
            this.defaultTimeout = T.checkDuration("defaultTimeout", defaultTimeout);
            return this;
        }

        /** See {@link RosClientOptions#noInstanceWait()}. */
        public Builder noInstanceWait(Duration noInstanceWait) {
            this.noInstanceWait = T.checkDuration("noInstanceWait", noInstanceWait);
            return this;
        }

        /** See {@link RosClientOptions#startupWait()}. */
        public Builder startupWait(Duration startupWait) {
            this.startupWait = T.checkDuration("startupWait", startupWait);
            return this;
        }

        /** See {@link RosClientOptions#connectTimeout()}. */
        public Builder connectTimeout(Duration connectTimeout) {
            this.connectTimeout = T.checkDuration("connectTimeout", connectTimeout);
            return this;
        }

        /** See {@link RosClientOptions#maxMessageBytes()}. */
        public Builder maxMessageBytes(int maxMessageBytes) {
            this.maxMessageBytes = T.checkInt("maxMessageBytes", maxMessageBytes);
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

        /** See {@link RosClientOptions#transport()}. */
        public Builder transport(Transport transport) {
            this.transport = Objects.requireNonNull(transport, "transport");
            return this;
        }

        /** See {@link RosClientOptions#affinityLoadFactor()}. */
        public Builder affinityLoadFactor(double affinityLoadFactor) {
            this.affinityLoadFactor = T.checkReal("affinityLoadFactor", affinityLoadFactor);
            return this;
        }

        /** See {@link RosClientOptions#maxAttempts()}. */
        public Builder maxAttempts(int maxAttempts) {
            this.maxAttempts = T.checkInt("maxAttempts", maxAttempts);
            return this;
        }

        /** See {@link RosClientOptions#retryBudgetRatio()}. */
        public Builder retryBudgetRatio(double retryBudgetRatio) {
            this.retryBudgetRatio = T.checkReal("retryBudgetRatio", retryBudgetRatio);
            return this;
        }

        /** See {@link RosClientOptions#retryMinPerSecond()}. */
        public Builder retryMinPerSecond(int retryMinPerSecond) {
            this.retryMinPerSecond = T.checkInt("retryMinPerSecond", retryMinPerSecond);
            return this;
        }

        /** See {@link RosClientOptions#maxInFlight()}. */
        public Builder maxInFlight(int maxInFlight) {
            this.maxInFlight = T.checkInt("maxInFlight", maxInFlight);
            return this;
        }

        /** See {@link RosClientOptions#keepAliveInterval()}. */
        public Builder keepAliveInterval(Duration keepAliveInterval) {
            this.keepAliveInterval = T.checkDuration("keepAliveInterval", keepAliveInterval);
            return this;
        }

        /** See {@link RosClientOptions#keepAliveTimeout()}. */
        public Builder keepAliveTimeout(Duration keepAliveTimeout) {
            this.keepAliveTimeout = T.checkDuration("keepAliveTimeout", keepAliveTimeout);
            return this;
        }

        /**
         * See {@link RosClientOptions#ejectionMin()} and {@link RosClientOptions#ejectionMax()}.
         */
        public Builder ejection(Duration min, Duration max) {
            T.checkDuration("ejectionMin", min);
            T.checkDuration("ejectionMax", max);
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

        /**
         * See {@link RosClientOptions#principal()}; null for none. Use it with the principal's
         * credential as the {@link #token(String) token}: {@code
         * .principal(p).token(ServiceTokens.credential(serviceToken, p))}.
         *
         * @throws IllegalArgumentException unless the principal is 1 to 256 visible ASCII
         *     characters without whitespace
         */
        public Builder principal(@Nullable String principal) {
            this.principal = principal == null ? null : ServiceTokens.validatePrincipal(principal);
            return this;
        }

        /** See {@link RosClientOptions#serviceName()}; null for none. */
        public Builder serviceName(@Nullable String serviceName) {
            this.serviceName =
                    serviceName == null ? null : Preconditions.notBlank("serviceName", serviceName);
            return this;
        }

        /** See {@link RosClientOptions#tlsCaFile()}; null for plain text. */
        public Builder tlsCaFile(@Nullable String tlsCaFile) {
            this.tlsCaFile =
                    tlsCaFile == null ? null : Preconditions.notBlank("tlsCaFile", tlsCaFile);
            return this;
        }

        /** See {@link RosClientOptions#tlsServerName()}; null for each address's host. */
        public Builder tlsServerName(@Nullable String tlsServerName) {
            this.tlsServerName =
                    tlsServerName == null
                            ? null
                            : Preconditions.notBlank("tlsServerName", tlsServerName);
            return this;
        }

        /** The options. */
        public RosClientOptions build() {
            if (tlsServerName != null && tlsCaFile == null) {
                throw new IllegalArgumentException(
                        "tlsServerName needs tlsCaFile: without a certificate authority calls do"
                                + " not use TLS");
            }
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
                + ", noInstanceWait="
                + noInstanceWait
                + ", connectTimeout="
                + connectTimeout
                + ", maxMessageBytes="
                + maxMessageBytes
                + ", callbackExecutor="
                + (callbackExecutor == null ? "own thread" : callbackExecutor)
                + ", loadBalancing="
                + loadBalancing
                + ", transport="
                + transport
                + ", affinityLoadFactor="
                + affinityLoadFactor
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
                + ", principal="
                + principal
                + ", serviceName="
                + serviceName
                + ", tlsCaFile="
                + tlsCaFile
                + ", tlsServerName="
                + tlsServerName
                + '}';
    }
}
