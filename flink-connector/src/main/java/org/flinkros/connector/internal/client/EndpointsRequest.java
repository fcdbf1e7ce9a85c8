package org.flinkros.connector.internal.client;

import org.flinkros.connector.internal.discovery.EndpointSnapshot;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.typeutils.base.StringSerializer;
import org.apache.flink.runtime.operators.coordination.CoordinationRequest;
import org.apache.flink.runtime.operators.coordination.CoordinationResponse;
import org.apache.flink.streaming.api.operators.collect.CollectCoordinationResponse;
import org.apache.flink.util.InstantiationUtil;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

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
 * loader: the snapshot travels in a {@link CollectCoordinationResponse}, its version in the offset
 * field and each endpoint as a serialized string.
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
        List<byte[]> endpoints = new ArrayList<>(snapshot.endpoints().size());
        try {
            for (String endpoint : snapshot.endpoints()) {
                endpoints.add(
                        InstantiationUtil.serializeToByteArray(
                                StringSerializer.INSTANCE, endpoint));
            }
        } catch (IOException e) {
            throw new IllegalStateException("Cannot serialize endpoint", e);
        }
        return new CollectCoordinationResponse(REPLY_TAG, snapshot.version(), endpoints);
    }

    static EndpointSnapshot parseReply(CoordinationResponse response) throws IOException {
        if (!(response instanceof CollectCoordinationResponse)
                || !REPLY_TAG.equals(((CollectCoordinationResponse) response).getVersion())) {
            throw new IOException("Unexpected reply to an endpoints request: " + response);
        }
        CollectCoordinationResponse reply = (CollectCoordinationResponse) response;
        return new EndpointSnapshot(
                reply.getLastCheckpointedOffset(), reply.getResults(StringSerializer.INSTANCE));
    }

    @Override
    public String toString() {
        return "EndpointsRequest{knownVersion=" + knownVersion + '}';
    }
}
