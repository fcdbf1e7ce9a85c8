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
package org.flinkros.examples;

import java.util.Arrays;

/**
 * Counts what came out of a demo job and prints its last line: {@code flink-ros demo: records=...
 * errors=... instances=... per-instance=[...] wall=...s accuracy=...}.
 */
public final class DemoSummary {
    private final long[] perInstance;
    private long records;
    private long errors;
    private long correct;
    private String firstError;

    /** A summary of a service with {@code instances} instances. */
    public DemoSummary(int instances) {
        this.perInstance = new long[instances];
    }

    /** A record answered by {@code instance}; {@code correct} if the answer was right. */
    public void answered(int instance, boolean correct) {
        records++;
        perInstance[instance]++;
        if (correct) {
            this.correct++;
        }
    }

    /** A record whose call failed with {@code error}. */
    public void failed(String error) {
        records++;
        errors++;
        if (firstError == null) {
            firstError = error;
        }
    }

    /** Prints the first error, if any, and the summary line. */
    public void print(double wallSeconds) {
        if (firstError != null) {
            System.out.println("First error: " + firstError);
        }
        long answered = records - errors;
        System.out.printf(
                "flink-ros demo: records=%d errors=%d instances=%d per-instance=%s wall=%.1fs"
                        + " accuracy=%.4f%n",
                records,
                errors,
                Arrays.stream(perInstance).filter(n -> n > 0).count(),
                Arrays.toString(perInstance).replace(" ", ""),
                wallSeconds,
                answered == 0 ? 0.0 : (double) correct / answered);
        System.out.flush();
    }
}
