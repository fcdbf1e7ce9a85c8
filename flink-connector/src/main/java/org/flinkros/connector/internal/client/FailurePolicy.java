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
package org.flinkros.connector.internal.client;

import org.flinkros.client.RosException;
import org.flinkros.connector.internal.FlinkInternals;

import org.apache.flink.annotation.Internal;
import org.apache.flink.streaming.api.functions.async.CollectionSupplier;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.util.ExceptionUtils;
import org.apache.flink.util.FlinkRuntimeException;

import java.util.Collection;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Decides how a record's failed call fails the job. A call that failed with a permanent code
 * ({@link org.flinkros.client.StatusCode#isPermanent()}: an unknown method, a malformed or
 * oversized payload, a missing token or a client id outside the caller's principal, the operator
 * throwing on the record) would fail the same way when the restarted data plane replays the record,
 * so restarting could only loop: the job fails without restarting. Transient failures (no instance,
 * deadline, overload) keep Flink's restart strategy.
 */
@Internal
final class FailurePolicy {
    private FailurePolicy() {}

    /** {@code result}, with permanent call failures turned into job failures without restart. */
    static <OUT> ResultFuture<OUT> wrap(String serviceName, ResultFuture<OUT> result) {
        return onFailure(
                result, error -> result.completeExceptionally(classify(serviceName, error)));
    }

    /** {@code result}, with failures handed to {@code onFailure} instead. */
    static <OUT> ResultFuture<OUT> onFailure(
            ResultFuture<OUT> result, Consumer<Throwable> onFailure) {
        return new ResultFuture<OUT>() {
            @Override
            public void complete(Collection<OUT> outputs) {
                result.complete(outputs);
            }

            @Override
            public void complete(CollectionSupplier<OUT> supplier) {
                result.complete(supplier);
            }

            @Override
            public void completeExceptionally(Throwable error) {
                onFailure.accept(error);
            }
        };
    }

    /** The error a record fails with: as is when transient, not restartable when permanent. */
    static Throwable classify(String serviceName, Throwable error) {
        Optional<RosException> failure = ExceptionUtils.findThrowable(error, RosException.class);
        if (!failure.isPresent() || !failure.get().code().isPermanent()) {
            return error;
        }
        return FlinkInternals.withoutRestart(
                new FlinkRuntimeException(
                        "A call to RpcOperator service '"
                                + serviceName
                                + "' failed with "
                                + failure.get().code()
                                + ", which replaying the record after a restart would only"
                                + " repeat, so the job fails without restarting. Fix the cause"
                                + " below, or let failed records through with"
                                + " RosMethodCall#onError(OnError.skip()) or"
                                + " OnError.fallback(..)",
                        error));
    }
}
