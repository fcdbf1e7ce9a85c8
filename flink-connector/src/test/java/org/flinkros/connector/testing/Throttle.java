package org.flinkros.connector.testing;

import org.apache.flink.api.common.functions.MapFunction;

/** Passes records through at most {@code perSecond} per subtask, so a job lasts a while. */
public final class Throttle<T> implements MapFunction<T, T> {
    private static final long serialVersionUID = 1L;

    private final long nanosPerRecord;
    private transient long next;

    public Throttle(long perSecond) {
        this.nanosPerRecord = 1_000_000_000L / perSecond;
    }

    @Override
    public T map(T value) throws InterruptedException {
        long now = System.nanoTime();
        if (next == 0) {
            next = now;
        }
        if (next > now) {
            // Pacing the source, not synchronisation.
            Thread.sleep((next - now) / 1_000_000, (int) ((next - now) % 1_000_000));
        }
        next += nanosPerRecord;
        return value;
    }
}
