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

import java.security.SecureRandom;
import java.util.Base64;

/**
 * Secret tokens that authenticate calls to a service: the server refuses calls without its token
 * with {@link StatusCode#UNAUTHENTICATED}. Tokens never appear in logs, errors or {@code
 * toString()}.
 */
@PublicEvolving
public final class ServiceTokens {
    private static final SecureRandom RANDOM = new SecureRandom();

    private ServiceTokens() {}

    /** A new random token: 32 bytes from a {@link SecureRandom}, base64url-encoded. */
    public static String generate() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /**
     * Returns {@code token} if it can be one: 16 to 256 visible ASCII characters.
     *
     * @throws IllegalArgumentException naming the token's length, never its value
     */
    public static String validate(String token) {
        if (token == null) {
            throw new IllegalArgumentException("token must not be null");
        }
        boolean visibleAscii = token.chars().allMatch(c -> c > 0x20 && c < 0x7f);
        if (token.length() < 16 || token.length() > 256 || !visibleAscii) {
            throw new IllegalArgumentException(
                    "token must be 16 to 256 visible ASCII characters (got "
                            + token.length()
                            + " characters)");
        }
        return token;
    }
}
