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
package org.flinkros.examples.sentiment;

import org.flinkros.examples.DemoRuns;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The demo as a new user runs it: {@code getExecutionEnvironment()} with Flink's defaults, which
 * starts a local cluster sized by Flink for the data plane alone. It must finish with every record
 * scored by both instances, not wait forever for a slot.
 */
class SentimentDemoITCase {

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void runsWithTheDefaultLocalEnvironmentAndScoresEveryRecord() throws Exception {
        assertThat(DemoRuns.summary(SentimentDemo::main, "--records", "2000"))
                .matches("flink-ros demo: records=2000 errors=0 instances=[12] per-instance=\\[.*");
    }
}
