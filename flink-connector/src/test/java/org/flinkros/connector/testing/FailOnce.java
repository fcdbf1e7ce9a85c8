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
package org.flinkros.connector.testing;

import org.apache.flink.api.common.functions.RichMapFunction;

/**
 * Passes records through, and fails its subtask 0 once, on its first attempt, at the n-th record: a
 * data-plane failure.
 */
public final class FailOnce<T> extends RichMapFunction<T, T> {
    private static final long serialVersionUID = 1L;

    private final long failAt;
    private transient long seen;

    public FailOnce(long failAt) {
        this.failAt = failAt;
    }

    @Override
    public T map(T value) {
        if (getRuntimeContext().getTaskInfo().getIndexOfThisSubtask() == 0
                && getRuntimeContext().getTaskInfo().getAttemptNumber() == 0
                && ++seen == failAt) {
            throw new IllegalStateException("data-plane failure (simulated) at record " + failAt);
        }
        return value;
    }
}
