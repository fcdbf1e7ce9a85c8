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

import org.flinkros.client.IdentityKey;
import org.flinkros.client.RosClient;
import org.flinkros.client.RosException;
import org.flinkros.client.StatusCode;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.streaming.api.functions.async.ResultFuture;

import java.io.Serializable;
import java.util.Collections;
import java.util.Objects;

/**
 * The usual {@link RosAsyncFunction}: one typed method call per record, its result turned into an
 * output, and a policy for records whose call failed.
 *
 * <pre>{@code
 * RosAsyncDataStream.builder(reviews, model,
 *                 RosMethodCall.of(SentimentModel.CLASSIFY, (Review r) -> r.text,
 *                                 (review, score) -> new Scored(review, score))
 *                         .onError(OnError.skip()))
 *         .outputType(TypeInformation.of(Scored.class))
 *         .build();
 * }</pre>
 *
 * @param <IN> the record type
 * @param <A> the method's argument type
 * @param <R> the method's result type
 * @param <OUT> the output type
 */
@PublicEvolving
public final class RosMethodCall<IN, A, R, OUT> implements RosAsyncFunction<IN, OUT> {
    private static final long serialVersionUID = 1L;

    /** Computes a record's argument. */
    @PublicEvolving
    @FunctionalInterface
    public interface Argument<IN, A> extends Serializable {
        /** The method's argument for {@code record}. */
        A apply(IN record) throws Exception;
    }

    /**
     * Computes a record's identity, so that the call for a record replayed after a data-plane
     * failover is answered without running again (see {@link IdentityKey}).
     */
    @PublicEvolving
    @FunctionalInterface
    public interface Identity<IN> extends Serializable {
        /** The identity of {@code record}'s call, or null for none. */
        IdentityKey apply(IN record) throws Exception;
    }

    /** Computes a record's output from the method's result. */
    @PublicEvolving
    @FunctionalInterface
    public interface Output<IN, R, OUT> extends Serializable {
        /** The output for {@code record}, whose call returned {@code result}. */
        OUT apply(IN record, R result) throws Exception;
    }

    private final RosMethod<A, R> method;
    private final Argument<IN, A> argument;
    private final Output<IN, R, OUT> output;
    private final OnError<IN, OUT> onError;
    private final Identity<IN> identity;
    private transient RosMethod.Client<A, R> client;

    private RosMethodCall(
            RosMethod<A, R> method,
            Argument<IN, A> argument,
            Output<IN, R, OUT> output,
            OnError<IN, OUT> onError,
            Identity<IN> identity) {
        this.method = method;
        this.argument = argument;
        this.output = output;
        this.onError = onError;
        this.identity = identity;
    }

    /**
     * Calls {@code method} with {@code argument(record)} and emits {@code output(record, result)}.
     * Failed records fail the job unless {@link #onError} says otherwise.
     */
    public static <IN, A, R, OUT> RosMethodCall<IN, A, R, OUT> of(
            RosMethod<A, R> method, Argument<IN, A> argument, Output<IN, R, OUT> output) {
        return new RosMethodCall<>(
                Objects.requireNonNull(method, "method"),
                Objects.requireNonNull(argument, "argument"),
                Objects.requireNonNull(output, "output"),
                OnError.fail(),
                null);
    }

    /** The same call with another policy for failed records. */
    public RosMethodCall<IN, A, R, OUT> onError(OnError<IN, OUT> policy) {
        return new RosMethodCall<>(
                method, argument, output, Objects.requireNonNull(policy, "policy"), identity);
    }

    /**
     * The same call with an identity for each record, e.g. {@code r -> IdentityKey.of(r.id)}, or
     * {@code r -> IdentityKey.content()} for a deterministic method: the call of a record replayed
     * after a data-plane failover joins the original request if it is still queued or running, or
     * is answered from the instance's result cache, instead of running the model again.
     */
    public RosMethodCall<IN, A, R, OUT> identifiedBy(Identity<IN> identity) {
        return new RosMethodCall<>(
                method, argument, output, onError, Objects.requireNonNull(identity, "identity"));
    }

    @Override
    public void asyncInvoke(IN record, RosClient rosClient, ResultFuture<OUT> result) {
        if (client == null) {
            client = method.on(rosClient);
        }
        A arg;
        IdentityKey key;
        try {
            arg = argument.apply(record);
            key = identity == null ? null : identity.apply(record);
        } catch (Exception e) {
            handle(
                    record,
                    new RosException(
                            StatusCode.INVALID_ARGUMENT,
                            "cannot compute the argument or identity of '"
                                    + method.name()
                                    + "': "
                                    + e,
                            e),
                    result);
            return;
        }
        client.call(arg, null, key)
                .whenComplete(
                        (value, error) -> {
                            if (error != null) {
                                handle(record, OnError.asRosException(error), result);
                                return;
                            }
                            OUT out;
                            try {
                                out = output.apply(record, value);
                            } catch (Exception e) {
                                // A bug in the output function, not a failed call: fail.
                                result.completeExceptionally(e);
                                return;
                            }
                            result.complete(Collections.singleton(out));
                        });
    }

    /**
     * A record whose result did not arrive within the operator's timeout follows the same policy as
     * a failed call, as {@code DEADLINE_EXCEEDED}: skipped, replaced by the fallback, or failing
     * the job.
     */
    @Override
    public void timeout(IN record, ResultFuture<OUT> result) {
        handle(
                record,
                new RosException(
                        StatusCode.DEADLINE_EXCEEDED,
                        "no result from '" + method.name() + "' within the operator's timeout"),
                result);
    }

    private void handle(IN record, RosException error, ResultFuture<OUT> result) {
        onError.handle(record, error, result);
    }
}
