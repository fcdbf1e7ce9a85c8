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
package org.flinkros.connector;

import org.flinkros.client.RosException;
import org.flinkros.client.StatusCode;

import org.apache.flink.annotation.Internal;
import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.streaming.api.functions.async.ResultFuture;

import java.io.Serializable;
import java.util.Collections;
import java.util.Objects;
import java.util.concurrent.CompletionException;

/**
 * What happens to a record whose call failed (after the client's retries) or timed out: set on a
 * {@link RosMethodCall}, or for every function on {@link RosAsyncDataStream.Builder#onError}.
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

    /**
     * Settles {@code result} for a record whose call failed with {@code error}: no output, the
     * fallback's output, or the error.
     */
    @Internal
    public void handle(IN record, RosException error, ResultFuture<OUT> result) {
        switch (kind) {
            case SKIP:
                result.complete(Collections.emptyList());
                break;
            case FALLBACK:
                result.complete(Collections.singleton(fallback.apply(record, error)));
                break;
            default:
                result.completeExceptionally(error);
        }
    }

    /** {@code error} as the {@link RosException} a policy sees: itself, its cause, or INTERNAL. */
    @Internal
    public static RosException asRosException(Throwable error) {
        Throwable cause = error instanceof CompletionException ? error.getCause() : error;
        return cause instanceof RosException
                ? (RosException) cause
                : new RosException(StatusCode.INTERNAL, String.valueOf(cause), cause);
    }
}
