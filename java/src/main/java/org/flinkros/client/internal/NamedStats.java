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

import javax.annotation.Nullable;

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

    /** What reported the values, and why one may be missing; null: every value is 0. */
    @Nullable private final String source;

    private final String mismatch;

    private NamedStats(Map<String, Integer> index, long[] values) {
        this(
                index,
                values,
                "the native runtime",
                "the native library does not match this flink-ros jar");
    }

    private NamedStats(
            Map<String, Integer> index, long[] values, @Nullable String source, String mismatch) {
        this.index = index;
        this.values = values;
        this.source = source;
        this.mismatch = mismatch;
    }

    /** A client's snapshot, from {@link NativeClient#stats()}. */
    static NamedStats client(long[] values) {
        return new NamedStats(CLIENT.get(), values);
    }

    /** A server's snapshot, from {@link NativeServer#stats()}. */
    static NamedStats server(long[] values) {
        return new NamedStats(SERVER.get(), values);
    }

    /**
     * A snapshot that another process reported by name (a Python-hosted instance writes its
     * server's stats to a file). A value it lacks raises an error naming {@code source} and saying
     * {@code mismatch} (what does not match this jar).
     */
    public static NamedStats of(Map<String, Long> values, String source, String mismatch) {
        Map<String, Integer> index = new HashMap<>();
        long[] flat = new long[values.size()];
        int position = 0;
        for (Map.Entry<String, Long> entry : values.entrySet()) {
            index.put(entry.getKey(), position);
            flat[position++] = entry.getValue();
        }
        return new NamedStats(Collections.unmodifiableMap(index), flat, source, mismatch);
    }

    /** A snapshot in which every value is 0: nothing happened yet. */
    public static NamedStats zero() {
        return new NamedStats(Collections.emptyMap(), new long[0], null, "");
    }

    /** The value named {@code name}. */
    public long get(String name) {
        if (source == null) {
            return 0;
        }
        Integer position = index.get(name);
        if (position == null || position >= values.length) {
            throw new IllegalStateException(
                    source + " reports no stat '" + name + "': " + mismatch);
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
