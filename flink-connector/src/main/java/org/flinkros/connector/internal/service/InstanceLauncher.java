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

import org.apache.flink.annotation.Internal;

import java.util.concurrent.CompletableFuture;

/**
 * Brings one instance up off the task's thread, and stops it: {@link InstanceStartup} for a Java
 * operator, {@link PythonInstance} for a Python process.
 */
@Internal
interface InstanceLauncher extends AutoCloseable {

    /** Starts bringing the instance up in the background; returns at once. */
    void start();

    /** Completes with the serving instance, or with what made its start fail. */
    CompletableFuture<? extends ServingInstance> started();

    /**
     * Stops the instance, or its start in progress, and releases what it holds; bounded in time,
     * whatever the instance does.
     */
    @Override
    void close() throws Exception;
}
