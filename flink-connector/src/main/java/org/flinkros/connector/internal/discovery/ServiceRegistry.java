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
package org.flinkros.connector.internal.discovery;

import org.apache.flink.annotation.Internal;

import java.util.HashMap;
import java.util.Map;

/**
 * Where a service's enumerator and its clients' coordinators meet in the JobManager.
 *
 * <p>All coordinators of a job run in the JobManager in the job's class loader, but Flink offers
 * them no shared object a source enumerator can reach, so this is a JVM-wide map keyed by the
 * service id (a UUID made when the job is built): two jobs, or two services in one job, never share
 * an entry. Entries are reference-counted and removed when the last coordinator lets go.
 */
@Internal
public final class ServiceRegistry {
    private static final Map<String, ServiceState> SERVICES = new HashMap<>();

    private ServiceRegistry() {}

    /**
     * Returns the state of {@code serviceId}, creating it if needed; pair with {@link #release}.
     */
    public static synchronized ServiceState acquire(String serviceId, String serviceName) {
        ServiceState state =
                SERVICES.computeIfAbsent(serviceId, id -> new ServiceState(id, serviceName));
        state.references++;
        return state;
    }

    /** Lets go of a state from {@link #acquire}; the last release removes it. */
    public static synchronized void release(ServiceState state) {
        if (--state.references == 0) {
            SERVICES.remove(state.serviceId());
        }
    }

    /** How many services have state here now; for tests. */
    static synchronized int size() {
        return SERVICES.size();
    }
}
