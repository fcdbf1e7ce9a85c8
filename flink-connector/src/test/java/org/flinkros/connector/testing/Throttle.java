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

import org.apache.flink.api.common.functions.MapFunction;

/** Passes records through at most {@code perSecond} per subtask, so a job lasts a while. */
public final class Throttle<T> implements MapFunction<T, T> {
    private static final long serialVersionUID = 1L;

    private final long nanosPerRecord;
    private transient long next;

    public Throttle(long perSecond) {
        this.nanosPerRecord = 1_000_000_000L / perSecond;
    }

    @Override
    public T map(T value) throws InterruptedException {
        long now = System.nanoTime();
        if (next == 0) {
            next = now;
        }
        if (next > now) {
            // Pacing the source, not synchronisation.
            Thread.sleep((next - now) / 1_000_000, (int) ((next - now) % 1_000_000));
        }
        next += nanosPerRecord;
        return value;
    }
}
