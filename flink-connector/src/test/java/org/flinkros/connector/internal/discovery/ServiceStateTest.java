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

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** The JobManager-side registry of a service's instances and finished callers. */
class ServiceStateTest {

    private final String serviceId = UUID.randomUUID().toString();

    @Test
    void endpointChangesBumpTheVersionAndReachListeners() {
        ServiceState state = ServiceRegistry.acquire(serviceId, "svc");
        try {
            List<EndpointSnapshot> seen = new ArrayList<>();
            state.addEndpointListener("op", seen::add);

            state.instanceStarted(1, "10.0.0.2", 7001, "b");
            state.instanceStarted(0, "10.0.0.1", 7000, "a");
            // The same registration again is no change.
            state.instanceStarted(0, "10.0.0.1", 7000, "a");
            state.instanceStarted(2, "::1", 7002, "c");

            assertThat(seen).hasSize(3);
            EndpointSnapshot last = seen.get(2);
            assertThat(last.version()).isEqualTo(3);
            assertThat(last.endpoints())
                    .containsExactly("10.0.0.1:7000", "10.0.0.2:7001", "[::1]:7002");

            state.retainInstances(Arrays.asList(0, 2));
            assertThat(state.snapshot().endpoints()).containsExactly("10.0.0.1:7000", "[::1]:7002");
            state.instanceGone(0);
            state.instanceGone(0);
            assertThat(state.snapshot().endpoints()).containsExactly("[::1]:7002");
            assertThat(seen).hasSize(5);

            state.removeEndpointListener("op");
            state.clearInstances();
            assertThat(seen).hasSize(5);
            assertThat(state.snapshot().endpoints()).isEmpty();
        } finally {
            ServiceRegistry.release(state);
        }
    }

    @Test
    void serviceLearnsWhenClientOperatorsFinishAndResume() {
        ServiceState state = ServiceRegistry.acquire(serviceId, "svc");
        try {
            List<String> events = new ArrayList<>();
            state.clientFinished("op-a", true);
            // Attaching reports the state so far at once.
            state.attachService(
                    (finished, announced, checkpointing) ->
                            events.add(finished + "/" + announced + "/" + checkpointing));
            state.clientFinished("op-b", false);
            state.clientFinished("op-b", false);
            state.clientResumed("op-a");
            state.clientResumed("op-a");
            // A SQL caller announces itself once; the service then waits for it too.
            state.callerAnnounced("sql:op-c");
            state.callerAnnounced("sql:op-c");
            state.clientFinished("sql:op-c", false);

            assertThat(events)
                    .containsExactly("1/0/true", "2/0/true", "1/0/false", "1/1/false", "2/1/false");
        } finally {
            ServiceRegistry.release(state);
        }
    }

    @Test
    void registryEntriesAreSharedPerServiceIdAndDroppedWithTheLastReference() {
        int before = ServiceRegistry.size();
        ServiceState first = ServiceRegistry.acquire(serviceId, "svc");
        ServiceState second = ServiceRegistry.acquire(serviceId, "svc");
        ServiceState other = ServiceRegistry.acquire(UUID.randomUUID().toString(), "svc");
        assertThat(second).isSameAs(first);
        assertThat(other).isNotSameAs(first);
        assertThat(ServiceRegistry.size()).isEqualTo(before + 2);

        ServiceRegistry.release(first);
        ServiceRegistry.release(other);
        assertThat(ServiceRegistry.size()).isEqualTo(before + 1);
        ServiceRegistry.release(second);
        assertThat(ServiceRegistry.size()).isEqualTo(before);
    }

    @Test
    void endedFlagResetsWhenTheServiceStartsOver() {
        ServiceState state = ServiceRegistry.acquire(serviceId, "svc");
        try {
            state.instanceStarted(0, "h", 1, "x");
            state.markEnded();
            assertThat(state.hasEnded()).isTrue();
            state.serviceStarted();
            assertThat(state.hasEnded()).isFalse();
            assertThat(state.snapshot().endpoints()).isEmpty();
        } finally {
            ServiceRegistry.release(state);
        }
    }
}
