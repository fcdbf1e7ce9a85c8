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
