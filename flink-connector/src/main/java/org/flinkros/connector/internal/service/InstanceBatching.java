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
package org.flinkros.connector.internal.service;

import org.flinkros.client.RosServerOptions;
import org.flinkros.connector.RpcOperator;
import org.flinkros.connector.TypedRpcOperator;

import org.apache.flink.annotation.Internal;

import java.time.Duration;
import java.util.Set;

/**
 * How an instance batches each method of its operator. A typed operator's methods without a batch
 * handler take one request at a time, as a plain operator's do: a request taken into a batch runs
 * even if its caller gives up meanwhile, so only methods that gain from batches take them. Batching
 * the service sets for a method itself always wins.
 */
@Internal
final class InstanceBatching {
    private InstanceBatching() {}

    /** {@code options} with batches of one for the operator's methods that run one at a time. */
    static RosServerOptions.Builder apply(
            RosServerOptions.Builder builder, RosServerOptions options, RpcOperator operator) {
        if (!(operator instanceof TypedRpcOperator)) {
            return builder;
        }
        Set<String> batched = ((TypedRpcOperator) operator).batchMethods();
        for (String method : operator.methods()) {
            if (!batched.contains(method) && !options.batchingMethods().contains(method)) {
                builder.batching(method, 1, Duration.ZERO);
            }
        }
        return builder;
    }
}
