package org.flinkros.connector;

import org.apache.flink.annotation.Internal;
import org.apache.flink.annotation.PublicEvolving;

import java.io.Serializable;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A service added to a job, returned by {@link RpcOperatorServices#addRpcOperatorService}. Pass it
 * to {@link RosAsyncDataStream} to call the service from the data plane.
 */
@PublicEvolving
public final class RosServiceHandle implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String serviceId;
    private final String name;
    private final int parallelism;
    private final int maxMessageBytes;
    private final String token;
    private final AtomicInteger clientOperators;

    RosServiceHandle(
            String serviceId,
            String name,
            int parallelism,
            int maxMessageBytes,
            String token,
            AtomicInteger clientOperators) {
        this.serviceId = Objects.requireNonNull(serviceId);
        this.name = Objects.requireNonNull(name);
        this.parallelism = parallelism;
        this.maxMessageBytes = maxMessageBytes;
        this.token = Objects.requireNonNull(token);
        this.clientOperators = clientOperators;
    }

    /** The service's name. */
    public String getName() {
        return name;
    }

    /** The id that tells this service apart from every other, in any job; made at build time. */
    public String getServiceId() {
        return serviceId;
    }

    /** How many instances the service runs. */
    public int getParallelism() {
        return parallelism;
    }

    /** The largest request or response the service's instances accept, in bytes. */
    public int getMaxMessageBytes() {
        return maxMessageBytes;
    }

    /** The service's secret token, which calls must carry. */
    @Internal
    String token() {
        return token;
    }

    /**
     * Counts one more data-plane operator calling the service. The service ends once all of them
     * have finished (bounded jobs), so it must know how many there are when the job is built.
     */
    @Internal
    void registerClientOperator() {
        clientOperators.incrementAndGet();
    }

    @Override
    public String toString() {
        return "RosServiceHandle{name=" + name + ", serviceId=" + serviceId + '}';
    }
}
