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
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.TaskManagerOptions;

import javax.annotation.Nullable;

/**
 * Where an instance's server binds: the address its server options name; else the TaskManager's
 * bind address ({@code taskmanager.bind-host}), as Flink's own sockets do; else the address the
 * instance announces to its callers. Never all interfaces unless configured so: an instance is
 * reachable exactly where the TaskManager is.
 */
@Internal
final class BindAddress {
    private BindAddress() {}

    static String of(
            @Nullable String fromServerOptions, Configuration taskManager, String announced) {
        if (fromServerOptions != null) {
            return fromServerOptions;
        }
        String bindHost = taskManager.get(TaskManagerOptions.BIND_HOST);
        if (bindHost != null && !bindHost.trim().isEmpty()) {
            return bindHost.trim();
        }
        return announced;
    }
}
