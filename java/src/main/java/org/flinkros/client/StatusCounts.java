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

import org.flinkros.client.internal.NamedStats;

import org.apache.flink.annotation.PublicEvolving;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/** Counts per {@link StatusCode}. */
@PublicEvolving
public final class StatusCounts {
    private final Map<StatusCode, Long> counts;

    StatusCounts(NamedStats stats, String prefix) {
        EnumMap<StatusCode, Long> map = new EnumMap<>(StatusCode.class);
        for (StatusCode code : StatusCode.values()) {
            map.put(code, stats.get(prefix + "." + code.name()));
        }
        this.counts = Collections.unmodifiableMap(map);
    }

    /** The count of one code. */
    public long get(StatusCode code) {
        return counts.get(code);
    }

    /** The sum over all codes. */
    public long total() {
        return counts.values().stream().mapToLong(Long::longValue).sum();
    }

    /** All counts. */
    public Map<StatusCode, Long> asMap() {
        return counts;
    }

    @Override
    public String toString() {
        return counts.toString();
    }
}
