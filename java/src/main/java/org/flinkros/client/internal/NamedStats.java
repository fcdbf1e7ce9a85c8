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
package org.flinkros.client.internal;

import org.apache.flink.annotation.Internal;

import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A stats snapshot of the native runtime, read by name: the runtime hands over values as a {@code
 * long[]} and, once per process, the names that say which value is which.
 */
@Internal
public final class NamedStats {
    private static final Index CLIENT = new Index(NativeClient::clientStatsNames);
    private static final Index SERVER = new Index(NativeServer::serverStatsNames);

    private final Map<String, Integer> index;
    private final long[] values;

    private NamedStats(Map<String, Integer> index, long[] values) {
        this.index = index;
        this.values = values;
    }

    /** A client's snapshot, from {@link NativeClient#stats()}. */
    static NamedStats client(long[] values) {
        return new NamedStats(CLIENT.get(), values);
    }

    /** A server's snapshot, from {@link NativeServer#stats()}. */
    static NamedStats server(long[] values) {
        return new NamedStats(SERVER.get(), values);
    }

    /** The value named {@code name}. */
    public long get(String name) {
        Integer position = index.get(name);
        if (position == null || position >= values.length) {
            throw new IllegalStateException(
                    "the native runtime reports no stat '"
                            + name
                            + "': the native library does not match this flink-ros jar");
        }
        return values[position];
    }

    /** Names to positions, asked for once. */
    private static final class Index {
        private final Supplier<String[]> names;
        private volatile Map<String, Integer> positions;

        Index(Supplier<String[]> names) {
            this.names = names;
        }

        Map<String, Integer> get() {
            Map<String, Integer> current = positions;
            if (current == null) {
                String[] all = names.get();
                Map<String, Integer> built = new HashMap<>();
                for (int i = 0; i < all.length; i++) {
                    built.put(all[i], i);
                }
                current = Collections.unmodifiableMap(built);
                positions = current;
            }
            return current;
        }
    }
}
