package org.flinkros.connector;

import org.flinkros.client.RosException;

import org.apache.flink.annotation.PublicEvolving;

import java.io.Serializable;
import java.util.Objects;

/**
 * What a {@link RosMethodCall} does with a record whose call failed (after the client's retries).
 *
 * @param <IN> the record type
 * @param <OUT> the output type
 */
@PublicEvolving
public final class OnError<IN, OUT> implements Serializable {
    private static final long serialVersionUID = 1L;

    enum Kind {
        FAIL,
        SKIP,
        FALLBACK
    }

    private final Kind kind;
    private final Fallback<IN, OUT> fallback;

    private OnError(Kind kind, Fallback<IN, OUT> fallback) {
        this.kind = kind;
        this.fallback = fallback;
    }

    /** Fails the record, and so the job (Flink async I/O's behaviour). The default. */
    public static <IN, OUT> OnError<IN, OUT> fail() {
        return new OnError<>(Kind.FAIL, null);
    }

    /** Drops the record: it produces no output. */
    public static <IN, OUT> OnError<IN, OUT> skip() {
        return new OnError<>(Kind.SKIP, null);
    }

    /** Emits {@code fallback(record, error)} instead. */
    public static <IN, OUT> OnError<IN, OUT> fallback(Fallback<IN, OUT> fallback) {
        return new OnError<>(Kind.FALLBACK, Objects.requireNonNull(fallback, "fallback"));
    }

    /** Computes the output of a record whose call failed. */
    @PublicEvolving
    @FunctionalInterface
    public interface Fallback<IN, OUT> extends Serializable {
        /** The output for {@code record}, whose call failed with {@code error}. */
        OUT apply(IN record, RosException error);
    }

    Kind kind() {
        return kind;
    }

    OUT fallback(IN record, RosException error) {
        return fallback.apply(record, error);
    }
}
