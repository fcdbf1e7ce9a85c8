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
package org.flinkros.connector.internal.client;

import org.flinkros.connector.internal.FlinkInternals;
import org.flinkros.connector.internal.discovery.EndpointSnapshot;

import org.apache.flink.annotation.Internal;
import org.apache.flink.runtime.operators.coordination.CoordinationRequest;
import org.apache.flink.runtime.operators.coordination.CoordinationResponse;

import java.io.IOException;

/**
 * A client subtask's long poll for the service's endpoint set: answered as soon as the set differs
 * from the version the subtask knows, or after a while with the same set.
 *
 * <p>Why a poll rather than operator events pushed by the coordinator: Flink holds coordinator
 * events back from a subtask while a checkpoint is between the coordinator and that subtask's
 * barrier, and a backpressured (or waiting) subtask may take long to process its barrier. Requests
 * and their replies bypass that valve, so endpoint changes reach subtasks at once, checkpoint or
 * not.
 *
 * <p>Replies must be Flink classes, since a TaskManager deserializes them without the job's class
 * loader: the snapshot travels as {@link FlinkInternals#coordinationReply}, its version as the
 * number and the endpoints as the strings.
 */
@Internal
public final class EndpointsRequest implements CoordinationRequest {
    private static final long serialVersionUID = 1L;

    /** Marks replies to this request. */
    private static final String REPLY_TAG = "ros-endpoints";

    /** The version the subtask knows; -1 for none. */
    final long knownVersion;

    EndpointsRequest(long knownVersion) {
        this.knownVersion = knownVersion;
    }

    static CoordinationResponse reply(EndpointSnapshot snapshot) {
        return FlinkInternals.coordinationReply(
                REPLY_TAG, snapshot.version(), snapshot.endpoints());
    }

    static EndpointSnapshot parseReply(CoordinationResponse response) throws IOException {
        return new EndpointSnapshot(
                FlinkInternals.replyNumber(response, REPLY_TAG),
                FlinkInternals.replyStrings(response, REPLY_TAG));
    }

    @Override
    public String toString() {
        return "EndpointsRequest{knownVersion=" + knownVersion + '}';
    }
}
