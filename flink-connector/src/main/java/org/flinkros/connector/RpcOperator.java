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

import java.io.Serializable;
import java.util.Collections;
import java.util.Set;

/**
 * The user's compute, run as the instances of an RpcOperator service (a model, typically).
 *
 * <p>Each instance is a copy of this object (it is serialized into the job), living in its own task
 * slot: {@link #open} runs once when the instance starts (load the model there), {@link #invoke}
 * runs for each request, and {@link #close} runs when the instance stops. A data-plane failure does
 * not restart instances, so {@code open} runs again only when the instance itself fails or the job
 * restarts as a whole.
 *
 * <p><b>Invocation is serial by default:</b> an instance calls {@link #invoke} for one request at a
 * time, from a single thread, so implementations need no synchronisation, and throughput grows with
 * the service's parallelism (more instances). A service declared with {@link
 * RosDescriptor.Builder#concurrency(int) concurrency(n)} above 1 calls {@code invoke} from {@code
 * n} threads at once; its operator must then be thread-safe.
 *
 * <p><b>Errors:</b> an exception thrown by {@code invoke} fails only that call: the caller gets a
 * {@link RosException} with {@link StatusCode#INTERNAL} and the message. Throw a {@link
 * RosException} to choose the code, e.g. {@link StatusCode#NOT_FOUND} for an unknown method or
 * {@link StatusCode#INVALID_ARGUMENT} for a payload that cannot be parsed. A JVM {@link Error}
 * (such as {@link OutOfMemoryError}) fails the instance, which then restarts on its own.
 *
 * <p>Services are stateless: instances take no part in checkpoints, and after a data-plane failover
 * the data plane sends its requests again.
 */
@PublicEvolving
public interface RpcOperator extends Serializable {

    /**
     * Prepares the instance; runs once, before the instance accepts requests.
     *
     * @throws Exception to fail the instance (it is restarted by Flink's restart strategy)
     */
    default void open(RpcOperatorContext context) throws Exception {}

    /**
     * Runs one request. Called from one thread at a time unless the service's concurrency is above
     * 1 (see the class documentation).
     *
     * @param method the method the caller named
     * @param payload the caller's argument
     * @return the result sent back to the caller
     * @throws Exception to fail this call; see the class documentation for how it is reported
     */
    byte[] invoke(String method, byte[] payload) throws Exception;

    /**
     * The methods this operator answers. When not empty, a request for any other method is refused
     * with {@link StatusCode#NOT_FOUND} before it is queued, so a wrong method name fails at once
     * instead of after waiting behind other requests. Empty (the default): every request reaches
     * {@link #invoke}, which decides.
     */
    default Set<String> methods() {
        return Collections.emptySet();
    }

    /** Releases the instance's resources; runs once when the instance stops. */
    default void close() throws Exception {}
}
