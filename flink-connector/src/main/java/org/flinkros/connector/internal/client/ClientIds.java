package org.flinkros.connector.internal.client;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.JobID;
import org.apache.flink.runtime.jobgraph.OperatorID;

/**
 * How a calling subtask names itself to a service: {@code <job>/<operator>/<subtask>}. The attempt
 * number travels separately as the epoch, so that a restarted subtask keeps its id and can cancel
 * the requests of its earlier attempts.
 */
@Internal
final class ClientIds {
    private ClientIds() {}

    static String of(JobID job, OperatorID operator, int subtask) {
        return job + "/" + operator + "/" + subtask;
    }
}
