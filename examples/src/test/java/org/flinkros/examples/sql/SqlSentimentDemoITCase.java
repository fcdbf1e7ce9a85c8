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
package org.flinkros.examples.sql;

import org.flinkros.examples.DemoRuns;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The demo of ML_PREDICT over a service of the same job, run as a user runs it: every review
 * predicted, none failed.
 */
class SqlSentimentDemoITCase {

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void predictsEveryReview() throws Exception {
        assertThat(DemoRuns.summary(SqlSentimentDemo::main, "--records", "500"))
                .matches("flink-ros SQL demo: records=500 errors=0 accuracy=0\\.9[0-9]* wall=.*");
    }
}
