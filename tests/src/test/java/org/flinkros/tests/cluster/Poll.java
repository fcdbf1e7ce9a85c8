package org.flinkros.tests.cluster;

import java.io.IOException;
import java.time.Duration;

/** Waits for a condition with a deadline, instead of sleeping for a guessed time. */
public final class Poll {
    private static final long PAUSE_MILLIS = 50;

    private Poll() {}

    /** A probe: a value when the condition holds; {@code null} or {@code false} when not yet. */
    @FunctionalInterface
    public interface Probe<T> {
        T get() throws Exception;
    }

    /**
     * Probes until it yields a value that is neither {@code null} nor {@code false}, and returns
     * it. An {@link IOException} (a REST endpoint not up yet, a job not known yet) counts as "not
     * yet"; any other exception ends the wait at once.
     *
     * @throws AssertionError when {@code timeout} passes first
     */
    public static <T> T until(String what, Duration timeout, Probe<T> probe) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        IOException lastError = null;
        while (true) {
            try {
                T value = probe.get();
                if (value != null && !Boolean.FALSE.equals(value)) {
                    return value;
                }
                lastError = null;
            } catch (IOException notYet) {
                lastError = notYet;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError(
                        "Timed out after " + timeout + " waiting for " + what, lastError);
            }
            Thread.sleep(PAUSE_MILLIS);
        }
    }
}
