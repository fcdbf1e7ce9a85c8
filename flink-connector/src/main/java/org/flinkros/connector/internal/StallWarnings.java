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
package org.flinkros.connector.internal;

import org.apache.flink.annotation.Internal;
import org.apache.flink.annotation.VisibleForTesting;

import java.time.Duration;

/**
 * How often flink-ros repeats that something waits: instances without a slot or still loading (the
 * service's enumerator), data-plane subtasks without a slot (their coordinator), and records held
 * until the service's first instance serves (the calling operator). Nothing waits silently.
 */
@Internal
public final class StallWarnings {
    /** The default interval between two warnings about the same wait. */
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(30);

    private static volatile long intervalMillis = DEFAULT_INTERVAL.toMillis();

    private StallWarnings() {}

    /** The interval, in milliseconds, between two warnings about the same wait. */
    public static long intervalMillis() {
        return intervalMillis;
    }

    /** Shortens the interval so that a test sees warnings in seconds; {@code null} resets it. */
    @VisibleForTesting
    public static void setIntervalForTests(Duration interval) {
        intervalMillis = (interval == null ? DEFAULT_INTERVAL : interval).toMillis();
    }
}
