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
package org.flinkros.client;

import org.apache.flink.annotation.PublicEvolving;

import java.util.Arrays;
import java.util.Objects;

/**
 * The answers to polled requests, collected so that {@link RosServer#completeAll} delivers them all
 * in one crossing into the native runtime: for a batch of many small requests this costs far less
 * than a {@link RosServer#complete} per request. Not thread-safe; reuse it with {@link #clear()}.
 */
@PublicEvolving
public final class RosServerReplies {
    private static final int OK = 0;

    private long[] ids;
    private byte[][] results;
    private int[] codes;
    private String[] messages;
    private int size;

    /** Room for {@code expected} answers; more still fit. */
    public RosServerReplies(int expected) {
        int capacity = Math.max(1, expected);
        ids = new long[capacity];
        results = new byte[capacity][];
        codes = new int[capacity];
        messages = new String[capacity];
    }

    /** Answers request {@code requestId} with {@code result}. */
    public RosServerReplies complete(long requestId, byte[] result) {
        add(requestId, Objects.requireNonNull(result, "result"), OK, null);
        return this;
    }

    /** Answers request {@code requestId} with an error. */
    public RosServerReplies fail(long requestId, StatusCode code, String message) {
        Objects.requireNonNull(code, "code");
        add(requestId, null, code.value(), String.valueOf(message));
        return this;
    }

    /** How many answers are collected. */
    public int size() {
        return size;
    }

    /** Forgets every answer, keeping the room. */
    public void clear() {
        Arrays.fill(results, 0, size, null);
        Arrays.fill(messages, 0, size, null);
        size = 0;
    }

    private void add(long id, byte[] result, int code, String message) {
        if (size == ids.length) {
            int capacity = size * 2;
            ids = Arrays.copyOf(ids, capacity);
            results = Arrays.copyOf(results, capacity);
            codes = Arrays.copyOf(codes, capacity);
            messages = Arrays.copyOf(messages, capacity);
        }
        ids[size] = id;
        results[size] = result;
        codes[size] = code;
        messages[size] = message;
        size++;
    }

    // The arrays themselves, of which the first size() entries count: no copy per batch.

    long[] ids() {
        return ids;
    }

    byte[][] results() {
        return results;
    }

    int[] codes() {
        return codes;
    }

    String[] messages() {
        return messages;
    }
}
