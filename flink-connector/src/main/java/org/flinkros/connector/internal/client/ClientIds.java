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

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.JobID;
import org.apache.flink.runtime.jobgraph.OperatorID;

/**
 * How a calling subtask names itself to a service: {@code <job>/<operator>/<subtask>}. The attempt
 * number travels separately as the epoch, so that a restarted subtask keeps its id and can cancel
 * the requests of its earlier attempts.
 *
 * <p>The subtasks of one operator authenticate as the principal {@code <job>/<operator>}, so that
 * they can call and cancel only under their own operator's client ids.
 */
@Internal
final class ClientIds {
    private ClientIds() {}

    static String of(JobID job, OperatorID operator, int subtask) {
        return principal(job, operator) + "/" + subtask;
    }

    /** The principal of an operator's subtasks: the prefix of their client ids. */
    static String principal(JobID job, OperatorID operator) {
        return job + "/" + operator;
    }
}
