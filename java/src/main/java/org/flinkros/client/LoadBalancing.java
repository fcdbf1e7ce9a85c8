package org.flinkros.client;

import org.apache.flink.annotation.PublicEvolving;

/** How a {@link RosClient} spreads calls over a service's instances. */
@PublicEvolving
public enum LoadBalancing {
    /**
     * Two random instances are compared and the one with fewer calls outstanding gets the call.
     * Steers load away from slow or busy instances with no coordination. The default.
     */
    POWER_OF_TWO_CHOICES,
    /** Instances take turns. */
    ROUND_ROBIN
}
