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

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * The identity of a request, so that its replays are not computed again: requests of one method
 * with the same key and the same payload run once on an instance. One that arrives while an equal
 * one is queued or running joins it, and one that arrives later may be answered from the instance's
 * result cache. Keyed calls go to the instance their key hashes to (consistent hashing with bounded
 * loads), so that a replay after a data-plane failover reaches the instance that holds its result.
 *
 * <p>A key reused for a different payload is never answered with another payload's result: the
 * instance checks the key together with a digest of the payload.
 */
@PublicEvolving
public final class IdentityKey {
    private static final IdentityKey CONTENT = new IdentityKey(new byte[0], true);

    private final byte[] key;
    private final boolean content;

    private IdentityKey(byte[] key, boolean content) {
        this.key = key;
        this.content = content;
    }

    /** A key given by the caller, such as a record id; it must not be empty. */
    public static IdentityKey of(byte[] key) {
        Objects.requireNonNull(key, "key");
        if (key.length == 0) {
            throw new IllegalArgumentException("an identity key must not be empty");
        }
        return new IdentityKey(key.clone(), false);
    }

    /** A key given by the caller as text (UTF-8), such as a record id. */
    public static IdentityKey of(String key) {
        return of(Objects.requireNonNull(key, "key").getBytes(StandardCharsets.UTF_8));
    }

    /** A key given by the caller as a number, such as a record's sequence number. */
    public static IdentityKey of(long key) {
        return of(ByteBuffer.allocate(Long.BYTES).putLong(key).array());
    }

    /**
     * The key made from the call itself: a SHA-256 digest of the method and payload. Only for
     * deterministic methods, whose result depends on nothing but the payload: equal calls then
     * share one execution and one cached result.
     */
    public static IdentityKey content() {
        return CONTENT;
    }

    /** Whether the key is made from the call's content. */
    public boolean isContent() {
        return content;
    }

    /** The key's bytes (empty for {@link #content()}, whose key the runtime computes). */
    public byte[] bytes() {
        return key.clone();
    }

    /** The bytes without a copy, for the runtime. */
    byte[] unsafeBytes() {
        return key;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof IdentityKey
                && content == ((IdentityKey) other).content
                && Arrays.equals(key, ((IdentityKey) other).key);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(key) + Boolean.hashCode(content);
    }

    @Override
    public String toString() {
        return content ? "IdentityKey{content}" : "IdentityKey{" + key.length + " bytes}";
    }
}
