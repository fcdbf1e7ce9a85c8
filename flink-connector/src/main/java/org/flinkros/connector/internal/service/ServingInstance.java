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

import org.flinkros.client.RosServerStats;

import org.apache.flink.annotation.Internal;
import org.apache.flink.metrics.Histogram;

import javax.annotation.Nullable;

import java.util.concurrent.CompletableFuture;

/**
 * A started instance as its reader sees it: where it serves, what its server did, and whether it
 * stopped on its own. A Java operator's run loop ({@link RpcOperatorRunner}) and a Python process
 * ({@link PythonInstance}) are both.
 */
@Internal
interface ServingInstance {

    /** The port its server listens on. */
    int port();

    /** Its server's counters and latencies now. */
    RosServerStats stats();

    /** Sizes of the batches its workers took. */
    Histogram batchSizes();

    /** Completes when the instance stops on its own: it failed, and Flink must restart it. */
    CompletableFuture<Void> stoppedOnError();

    /** What made it stop on its own; null while it serves. */
    @Nullable
    Throwable fatalError();
}
