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
