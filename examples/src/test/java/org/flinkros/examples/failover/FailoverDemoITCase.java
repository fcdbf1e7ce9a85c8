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
package org.flinkros.examples.failover;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The failover demo's claim, on a short run: after a data-plane failure, a model served by an
 * RpcOperator service is not loaded again and the output resumes long before a model embedded in a
 * map has reloaded.
 */
class FailoverDemoITCase {
    private static final long LOAD_MILLIS = 3_000;

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void aServedModelLoadsOnceAndTheOutputResumesBeforeAnEmbeddedOneHasReloaded() throws Exception {
        FailoverDemo.Result served = FailoverDemo.run(true, LOAD_MILLIS, 600, 200);
        FailoverDemo.Result embedded = FailoverDemo.run(false, LOAD_MILLIS, 600, 200);

        assertThat(served.loads).isEqualTo(1);
        assertThat(embedded.loads).isEqualTo(2);
        // The embedded model's output waits for its reload; the served one's does not.
        assertThat(embedded.gapSeconds).isGreaterThanOrEqualTo(LOAD_MILLIS / 1e3);
        assertThat(served.gapSeconds).isLessThan(LOAD_MILLIS / 1e3 / 2);
    }
}
