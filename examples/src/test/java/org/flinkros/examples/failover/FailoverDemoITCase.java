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
