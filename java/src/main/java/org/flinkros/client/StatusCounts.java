package org.flinkros.client;

import org.apache.flink.annotation.PublicEvolving;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/** Counts per {@link StatusCode}. */
@PublicEvolving
public final class StatusCounts {
    /** The native runtime's order of codes in snapshot arrays. */
    private static final StatusCode[] NATIVE_ORDER = {
        StatusCode.CANCELLED,
        StatusCode.INVALID_ARGUMENT,
        StatusCode.DEADLINE_EXCEEDED,
        StatusCode.NOT_FOUND,
        StatusCode.RESOURCE_EXHAUSTED,
        StatusCode.INTERNAL,
        StatusCode.UNAVAILABLE,
        StatusCode.UNAUTHENTICATED
    };

    /** How many values a snapshot array holds. */
    static final int FIELDS = NATIVE_ORDER.length;

    private final Map<StatusCode, Long> counts;

    StatusCounts(long[] values, int offset) {
        EnumMap<StatusCode, Long> map = new EnumMap<>(StatusCode.class);
        for (int i = 0; i < NATIVE_ORDER.length; i++) {
            map.put(NATIVE_ORDER[i], values[offset + i]);
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
