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

import javax.annotation.concurrent.GuardedBy;
import javax.annotation.concurrent.ThreadSafe;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * What the JobManager knows of one service: its live instances (the endpoint set clients get) and
 * which of its client operators have finished.
 *
 * <p>Written by the service's enumerator (instances) and by its clients' coordinators (done flags),
 * each from its own thread. Listeners are called outside the lock, so they may see snapshots out of
 * order; snapshots carry an increasing version for that reason.
 */
@Internal
@ThreadSafe
public final class ServiceState {

    /** Receives the endpoint set whenever it changes. Must not block. */
    public interface EndpointListener {
        void onEndpoints(EndpointSnapshot snapshot);
    }

    /**
     * The service's enumerator: told when the number of finished client operators changes, or of
     * callers that announce themselves when they run (SQL functions, which the job graph does not
     * count).
     */
    public interface ServiceListener {
        void onClientsDone(
                int finishedClientOperators, int announcedCallers, boolean anyCheckpointing);
    }

    private final String serviceId;
    private final String serviceName;

    /** Guarded by {@link ServiceRegistry}'s lock. */
    int references;

    @GuardedBy("this")
    private final Map<Integer, Instance> instances = new TreeMap<>();

    @GuardedBy("this")
    private long version;

    @GuardedBy("this")
    private final Map<String, EndpointListener> endpointListeners = new HashMap<>();

    @GuardedBy("this")
    private final Map<String, Boolean> finishedClients = new HashMap<>();

    @GuardedBy("this")
    private final Set<String> announcedCallers = new HashSet<>();

    @GuardedBy("this")
    private ServiceListener serviceListener;

    @GuardedBy("this")
    private boolean ended;

    ServiceState(String serviceId, String serviceName) {
        this.serviceId = serviceId;
        this.serviceName = serviceName;
    }

    public String serviceId() {
        return serviceId;
    }

    public String serviceName() {
        return serviceName;
    }

    // ---- instances (written by the enumerator) ------------------------------------------------

    /** Instance {@code subtask} serves at {@code host:port} (replacing an earlier attempt). */
    public void instanceStarted(int subtask, String host, int port, String instanceId) {
        Instance instance = new Instance(host, port, instanceId);
        changeInstances(map -> !instance.equals(map.put(subtask, instance)));
    }

    /** Instance {@code subtask} is gone. */
    public void instanceGone(int subtask) {
        changeInstances(map -> map.remove(subtask) != null);
    }

    /** Keeps only the instances of these subtasks (the readers Flink still has registered). */
    public void retainInstances(Collection<Integer> liveSubtasks) {
        changeInstances(map -> map.keySet().retainAll(liveSubtasks));
    }

    /**
     * The instances are these {@code host:port}s: for a shared service, whose instances another
     * job's enumerator knows and this job only looks up.
     */
    public void replaceEndpoints(List<String> endpoints) {
        Map<Integer, Instance> found = new TreeMap<>();
        for (String endpoint : endpoints) {
            int colon = endpoint.lastIndexOf(':');
            found.put(
                    found.size(),
                    new Instance(
                            endpoint.substring(0, colon),
                            Integer.parseInt(endpoint.substring(colon + 1)),
                            endpoint));
        }
        changeInstances(
                map -> {
                    if (map.equals(found)) {
                        return false;
                    }
                    map.clear();
                    map.putAll(found);
                    return true;
                });
    }

    /** The service (its enumerator) starts over: no instance yet, not ended. */
    public void serviceStarted() {
        synchronized (this) {
            ended = false;
        }
        clearInstances();
    }

    /** Forgets all instances. */
    public void clearInstances() {
        changeInstances(
                map -> {
                    boolean changed = !map.isEmpty();
                    map.clear();
                    return changed;
                });
    }

    private interface Change {
        boolean apply(Map<Integer, Instance> instances);
    }

    private void changeInstances(Change change) {
        EndpointSnapshot snapshot;
        List<EndpointListener> listeners;
        synchronized (this) {
            if (!change.apply(instances)) {
                return;
            }
            version++;
            snapshot = snapshotLocked();
            listeners = new ArrayList<>(endpointListeners.values());
        }
        for (EndpointListener listener : listeners) {
            listener.onEndpoints(snapshot);
        }
    }

    /** The instances (subtask indices) that serve now. */
    public synchronized Set<Integer> servingInstances() {
        return new HashSet<>(instances.keySet());
    }

    /** The current endpoint set. */
    public synchronized EndpointSnapshot snapshot() {
        return snapshotLocked();
    }

    @GuardedBy("this")
    private EndpointSnapshot snapshotLocked() {
        List<String> endpoints = new ArrayList<>(instances.size());
        for (Instance instance : instances.values()) {
            endpoints.add(instance.endpoint());
        }
        return new EndpointSnapshot(version, endpoints);
    }

    // ---- clients (written by client coordinators) ---------------------------------------------

    /** A client operator's coordinator starts listening to the endpoint set. */
    public synchronized void addEndpointListener(String clientOperator, EndpointListener listener) {
        endpointListeners.put(clientOperator, listener);
    }

    /** A client operator's coordinator stops listening. */
    public synchronized void removeEndpointListener(String clientOperator) {
        endpointListeners.remove(clientOperator);
    }

    /** All subtasks of a client operator have finished their input. */
    public void clientFinished(String clientOperator, boolean checkpointing) {
        changeClients(
                finished ->
                        !Objects.equals(
                                finished.put(clientOperator, checkpointing), checkpointing));
    }

    /** A subtask of a client operator runs again (it failed after finishing). */
    public void clientResumed(String clientOperator) {
        changeClients(finished -> finished.remove(clientOperator) != null);
    }

    /**
     * A caller that the job graph does not count runs (a SQL function's operator); the service ends
     * only once it has finished too ({@link #clientFinished}).
     */
    public void callerAnnounced(String caller) {
        changeClients(finished -> announcedCallers.add(caller));
    }

    /** Whether any caller announced itself ({@link #callerAnnounced}). */
    public synchronized boolean hasAnnouncedCallers() {
        return !announcedCallers.isEmpty();
    }

    private interface ClientChange {
        boolean apply(Map<String, Boolean> finished);
    }

    private void changeClients(ClientChange change) {
        ServiceListener listener;
        int finished;
        int announced;
        boolean anyCheckpointing;
        synchronized (this) {
            if (!change.apply(finishedClients)) {
                return;
            }
            listener = serviceListener;
            finished = finishedClients.size();
            announced = announcedCallers.size();
            anyCheckpointing = finishedClients.containsValue(true);
        }
        if (listener != null) {
            listener.onClientsDone(finished, announced, anyCheckpointing);
        }
    }

    // ---- the service (its enumerator) ---------------------------------------------------------

    /** The enumerator attaches; it is told the current client state at once. */
    public void attachService(ServiceListener listener) {
        int finished;
        int announced;
        boolean anyCheckpointing;
        synchronized (this) {
            serviceListener = listener;
            finished = finishedClients.size();
            announced = announcedCallers.size();
            anyCheckpointing = finishedClients.containsValue(true);
        }
        listener.onClientsDone(finished, announced, anyCheckpointing);
    }

    /** The enumerator detaches (it closes). */
    public synchronized void detachService(ServiceListener listener) {
        if (serviceListener == listener) {
            serviceListener = null;
        }
    }

    /** The instances were told to end: clients re-running after this cannot be served. */
    public synchronized void markEnded() {
        ended = true;
    }

    /** Whether the instances were told to end. */
    public synchronized boolean hasEnded() {
        return ended;
    }

    private static final class Instance {
        final String host;
        final int port;
        final String instanceId;

        Instance(String host, int port, String instanceId) {
            this.host = host;
            this.port = port;
            this.instanceId = instanceId;
        }

        String endpoint() {
            return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
        }

        @Override
        public boolean equals(Object o) {
            if (!(o instanceof Instance)) {
                return false;
            }
            Instance that = (Instance) o;
            return port == that.port
                    && host.equals(that.host)
                    && instanceId.equals(that.instanceId);
        }

        @Override
        public int hashCode() {
            return Objects.hash(host, port, instanceId);
        }
    }
}
