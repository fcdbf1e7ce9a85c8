package org.flinkros.connector.internal.client;

import org.apache.flink.annotation.Internal;
import org.apache.flink.runtime.operators.coordination.CoordinationRequest;

/** A client subtask has processed all its input and all its calls have completed. */
@Internal
public final class ClientFinishedRequest implements CoordinationRequest {
    private static final long serialVersionUID = 1L;

    final int subtask;
    final int attemptNumber;

    ClientFinishedRequest(int subtask, int attemptNumber) {
        this.subtask = subtask;
        this.attemptNumber = attemptNumber;
    }

    @Override
    public String toString() {
        return "ClientFinishedRequest{subtask=" + subtask + ", attempt=" + attemptNumber + '}';
    }
}
