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
package org.flinkros.connector;

import org.apache.flink.annotation.Internal;
import org.apache.flink.annotation.PublicEvolving;

import javax.annotation.Nullable;

import java.io.Serializable;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A service added to a job, returned by {@link RosServices#add}. Pass it to {@link
 * RosAsyncDataStream} to call the service from the data plane.
 */
@PublicEvolving
public final class RosService implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String serviceId;
    private final String name;
    private final int parallelism;
    private final int maxMessageBytes;
    private final String token;
    private final AtomicInteger clientOperators;
    @Nullable private final String sharedRestUrl;

    RosService(
            String serviceId,
            String name,
            int parallelism,
            int maxMessageBytes,
            String token,
            AtomicInteger clientOperators) {
        this(serviceId, name, parallelism, maxMessageBytes, token, clientOperators, null);
    }

    private RosService(
            String serviceId,
            String name,
            int parallelism,
            int maxMessageBytes,
            String token,
            AtomicInteger clientOperators,
            @Nullable String sharedRestUrl) {
        this.serviceId = Objects.requireNonNull(serviceId);
        this.name = Objects.requireNonNull(name);
        this.parallelism = parallelism;
        this.maxMessageBytes = maxMessageBytes;
        this.token = Objects.requireNonNull(token);
        this.clientOperators = clientOperators;
        this.sharedRestUrl = sharedRestUrl;
    }

    /**
     * A shared service of the cluster at {@code restUrl}, which its callers hold {@code token} for.
     */
    static RosService shared(String name, String restUrl, String token) {
        return new RosService(
                "shared:" + name + ":" + java.util.UUID.randomUUID(),
                name,
                0,
                Integer.MAX_VALUE,
                token,
                new AtomicInteger(),
                restUrl);
    }

    /**
     * The REST address of the cluster whose job runs this shared service; null for a service of
     * this job.
     */
    @Internal
    @Nullable
    public String sharedRestUrl() {
        return sharedRestUrl;
    }

    /** The service's name. */
    public String name() {
        return name;
    }

    /** The id that tells this service apart from every other, in any job; made at build time. */
    public String serviceId() {
        return serviceId;
    }

    /** How many instances the service runs; 0 for a shared service (its own job decides). */
    public int parallelism() {
        return parallelism;
    }

    /**
     * The largest request or response the service's instances accept, in bytes; for a shared
     * service not known here ({@link Integer#MAX_VALUE}: the client's own limit applies).
     */
    public int maxMessageBytes() {
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
        return "RosService{name=" + name + ", serviceId=" + serviceId + '}';
    }
}
