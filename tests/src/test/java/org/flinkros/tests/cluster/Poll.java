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
package org.flinkros.tests.cluster;

import java.io.IOException;
import java.time.Duration;

/** Waits for a condition with a deadline, instead of sleeping for a guessed time. */
public final class Poll {
    private static final long PAUSE_MILLIS = 50;

    private Poll() {}

    /** A probe: a value when the condition holds; {@code null} or {@code false} when not yet. */
    @FunctionalInterface
    public interface Probe<T> {
        T get() throws Exception;
    }

    /**
     * Probes until it yields a value that is neither {@code null} nor {@code false}, and returns
     * it. An {@link IOException} (a REST endpoint not up yet, a job not known yet) counts as "not
     * yet"; any other exception ends the wait at once.
     *
     * @throws AssertionError when {@code timeout} passes first
     */
    public static <T> T until(String what, Duration timeout, Probe<T> probe) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        IOException lastError = null;
        while (true) {
            try {
                T value = probe.get();
                if (value != null && !Boolean.FALSE.equals(value)) {
                    return value;
                }
                lastError = null;
            } catch (IOException notYet) {
                lastError = notYet;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError(
                        "Timed out after " + timeout + " waiting for " + what, lastError);
            }
            Thread.sleep(PAUSE_MILLIS);
        }
    }
}
