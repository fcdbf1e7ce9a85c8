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

import org.flinkros.connector.internal.FlinkInternals;

import org.apache.flink.annotation.Internal;
import org.apache.flink.runtime.operators.coordination.CoordinationRequest;
import org.apache.flink.runtime.operators.coordination.CoordinationResponse;

import java.util.Collections;

/**
 * A subtask of a caller that the job graph does not count (a SQL function) tells the service's
 * directory that it runs, or that it finished its input, so that a bounded job's service ends once
 * every caller has finished, as it does for DataStream callers.
 */
@Internal
public final class CallerRequest implements CoordinationRequest {
    private static final long serialVersionUID = 1L;

    /** The calling operator's unique id. */
    final String caller;

    final int subtask;
    final int parallelism;
    final boolean finished;

    private CallerRequest(String caller, int subtask, int parallelism, boolean finished) {
        this.caller = caller;
        this.subtask = subtask;
        this.parallelism = parallelism;
        this.finished = finished;
    }

    /** The subtask runs (again). */
    public static CallerRequest running(String caller, int subtask, int parallelism) {
        return new CallerRequest(caller, subtask, parallelism, false);
    }

    /** The subtask finished its input. */
    public static CallerRequest finished(String caller, int subtask, int parallelism) {
        return new CallerRequest(caller, subtask, parallelism, true);
    }

    static CoordinationResponse reply() {
        return FlinkInternals.coordinationReply("ros-caller", 0, Collections.emptyList());
    }

    @Override
    public String toString() {
        return "CallerRequest{caller="
                + caller
                + ", subtask="
                + subtask
                + "/"
                + parallelism
                + ", finished="
                + finished
                + '}';
    }
}
