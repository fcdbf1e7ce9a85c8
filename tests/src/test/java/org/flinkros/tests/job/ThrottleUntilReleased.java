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
package org.flinkros.tests.job;

import org.apache.flink.api.common.functions.MapFunction;

import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Lets records through at a fixed rate per subtask until a release file exists, then at full speed:
 * a test keeps a bounded job running while it injects failures, and lets it finish once it is done
 * with them.
 */
public final class ThrottleUntilReleased implements MapFunction<Long, Long> {
    private static final long serialVersionUID = 1L;
    private static final long CHECK_EVERY_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private final String releaseFile;
    private final long nanosPerRecord;
    private transient long nextRecordAt;
    private transient long nextCheckAt;
    private transient boolean released;

    /** {@code recordsPerSecond} per subtask until {@code releaseFile} exists. */
    public ThrottleUntilReleased(java.nio.file.Path releaseFile, int recordsPerSecond) {
        this.releaseFile = releaseFile.toString();
        this.nanosPerRecord = TimeUnit.SECONDS.toNanos(1) / recordsPerSecond;
    }

    @Override
    public Long map(Long value) {
        if (released) {
            return value;
        }
        long now = System.nanoTime();
        if (now - nextCheckAt >= 0) {
            released = Files.exists(Paths.get(releaseFile));
            nextCheckAt = now + CHECK_EVERY_NANOS;
            if (released) {
                return value;
            }
        }
        if (nextRecordAt == 0) {
            nextRecordAt = now;
        }
        nextRecordAt += nanosPerRecord;
        // Pacing, not synchronisation: the source stands for a stream at a steady rate.
        LockSupport.parkNanos(nextRecordAt - now);
        return value;
    }
}
