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
package org.flinkros.examples.digits;

import org.flinkros.examples.DemoRuns;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The README's demo: the real model, served by 2 instances, classifies every held-out sample, as
 * accurately as it did offline when it was made.
 */
class DigitsDemoITCase {
    private static final Pattern SUMMARY =
            Pattern.compile(
                    "flink-ros demo: records=(\\d+) errors=(\\d+) instances=(\\d+)"
                            + " per-instance=\\[\\d+,\\d+\\] wall=[0-9.]+s accuracy=([0-9.]+)");

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void everySampleGetsAPredictionAsAccurateAsOffline() throws Exception {
        int repeat = 3;
        String last = DemoRuns.summary(DigitsDemo::main, "--repeat", String.valueOf(repeat));
        Matcher summary = SUMMARY.matcher(last);
        assertThat(summary.matches()).as(last).isTrue();
        assertThat(Long.parseLong(summary.group(1)))
                .isEqualTo((long) Digit.heldOut().size() * repeat);
        assertThat(summary.group(2)).as("errors").isEqualTo("0");
        // Both instances load at once; the first to serve may take the records before the second.
        assertThat(summary.group(3)).as("instances that served").isIn("1", "2");
        // The same model and runtime as offline: equal up to the printed precision.
        assertThat(Double.parseDouble(summary.group(4)))
                .isCloseTo(Digit.offlineAccuracy(), within(0.0005));
    }
}
