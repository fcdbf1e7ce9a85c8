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

import org.apache.flink.annotation.PublicEvolving;

/**
 * An {@link RpcOperator} that runs requests in batches, as a model on a GPU wants them: the
 * instance takes up to a batch of queued requests of one method at a time and hands them to {@link
 * #invokeBatch} in one call.
 *
 * <p>Batches form dynamically: a worker takes what is queued, up to the service's {@code
 * maxBatchSize} (64 by default), without waiting for more unless {@code maxBatchDelay} is set (see
 * {@link org.flinkros.client.RosServerOptions.Builder#maxBatchSize}, {@link
 * org.flinkros.client.RosServerOptions.Builder#maxBatchDelay} and {@link
 * org.flinkros.client.RosServerOptions.Builder#batching}, given through {@link
 * RosDescriptor.Builder#serverOptions}). Under light load a batch holds one request; under heavy
 * load batches grow, and so does throughput. Invocation stays serial: one batch at a time per
 * instance unless the service's concurrency is raised.
 *
 * <pre>{@code
 * public class Embedder implements BatchRpcOperator {
 *     public void invokeBatch(String method, RpcBatch batch) {
 *         float[][] vectors = model.embed(decodeAll(batch));   // one forward pass
 *         for (int i = 0; i < batch.size(); i++) {
 *             batch.reply(i, encode(vectors[i]));
 *         }
 *     }
 * }
 * }</pre>
 *
 * <p><b>Errors:</b> {@link RpcBatch#fail} fails one request; an exception thrown by {@code
 * invokeBatch} fails every request of the batch not answered yet, as {@link RpcOperator#invoke}'s
 * exceptions fail a single call.
 */
@PublicEvolving
public interface BatchRpcOperator extends RpcOperator {

    /**
     * Runs a batch of requests of one method, answering each through {@code batch}.
     *
     * @param method the method every request of the batch named
     * @param batch the requests, answered by index
     * @throws Exception to fail every request of the batch not answered yet
     */
    void invokeBatch(String method, RpcBatch batch) throws Exception;

    /** Runs one request as a batch of one; instances call {@link #invokeBatch} instead. */
    @Override
    default byte[] invoke(String method, byte[] payload) throws Exception {
        throw new RosException(
                StatusCode.INTERNAL,
                "a BatchRpcOperator is called through invokeBatch, not invoke");
    }
}
