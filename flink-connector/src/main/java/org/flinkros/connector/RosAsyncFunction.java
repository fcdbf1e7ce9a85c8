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

import org.flinkros.client.RosClient;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.functions.Function;
import org.apache.flink.streaming.api.functions.async.ResultFuture;

import java.util.concurrent.TimeoutException;

/**
 * The data plane's side of a call: for each record, call the service through the ready {@link
 * RosClient} and complete the {@link ResultFuture} when the result arrives.
 *
 * <pre>{@code
 * (review, client, result) ->
 *     client.call("score", review.text().getBytes(UTF_8))
 *         .whenComplete((bytes, error) -> {
 *             if (error != null) result.completeExceptionally(error);
 *             else result.complete(List.of(new Score(review.id(), decode(bytes))));
 *         })
 * }</pre>
 *
 * <p>Do not block in {@link #asyncInvoke}: it runs on the task's thread. Results arrive on the
 * client's callback thread; completing the {@link ResultFuture} there is safe. Implement {@link
 * org.apache.flink.api.common.functions.RichFunction} as well to get {@code open}/{@code close}
 * calls and the runtime context. That context is Flink's one for async I/O: metric groups and task
 * information work, but state and accumulators throw {@code UnsupportedOperationException} (which
 * fails the task), as in any rich async function.
 *
 * @param <IN> the input record type
 * @param <OUT> the output record type
 */
@PublicEvolving
@FunctionalInterface
public interface RosAsyncFunction<IN, OUT> extends Function {

    /**
     * Starts the call(s) for one record.
     *
     * @param input the record
     * @param client the service's client, connected to its live instances
     * @param resultFuture completed with the output records, or exceptionally
     */
    void asyncInvoke(IN input, RosClient client, ResultFuture<OUT> resultFuture) throws Exception;

    /**
     * Called when a record's result did not arrive within the operator's timeout. By default it
     * fails the record with a {@link TimeoutException}, which fails the job.
     */
    default void timeout(IN input, ResultFuture<OUT> resultFuture) throws Exception {
        resultFuture.completeExceptionally(
                new TimeoutException("Call to an RpcOperator service timed out."));
    }
}
