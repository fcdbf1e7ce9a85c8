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

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * Secret tokens that authenticate calls to a service: the server refuses calls without its token
 * with {@link StatusCode#UNAUTHENTICATED}. Tokens never appear in logs, errors or {@code
 * toString()}.
 *
 * <p>A caller holding the service token may act for any client id. A caller that should act only
 * for its own client ids gets a {@link #credential principal's credential} instead, and uses it as
 * its token together with {@link RosClientOptions.Builder#principal(String)}.
 */
@PublicEvolving
public final class ServiceTokens {
    private static final SecureRandom RANDOM = new SecureRandom();

    /** What a credential's MAC covers before the principal; the native runtime uses the same. */
    private static final String CREDENTIAL_CONTEXT = "flink-ros-credential:";

    private static final int MAX_PRINCIPAL_LENGTH = 256;

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

    /**
     * The credential of {@code principal} under {@code serviceToken}: the lowercase hex of
     * HMAC-SHA256 keyed with the token's UTF-8 bytes over the UTF-8 bytes of {@code
     * "flink-ros-credential:" + principal}, as the service's instances compute it. A client that
     * sets this as its {@link RosClientOptions.Builder#token(String) token} and {@code principal}
     * as its {@link RosClientOptions.Builder#principal(String) principal} is served only for client
     * ids that are the principal or start with {@code principal + "/"}; other ids are refused with
     * {@link StatusCode#PERMISSION_DENIED}. The credential is as secret as the token: whoever holds
     * it acts as the principal.
     *
     * @throws IllegalArgumentException if the token is not one (naming its length, never its value)
     *     or the principal is not one (see {@link RosClientOptions.Builder#principal})
     */
    public static String credential(String serviceToken, String principal) {
        validate(serviceToken);
        validatePrincipal(principal);
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(
                    new SecretKeySpec(serviceToken.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            byte[] digest =
                    mac.doFinal((CREDENTIAL_CONTEXT + principal).getBytes(StandardCharsets.UTF_8));
            StringBuilder hex = new StringBuilder(2 * digest.length);
            for (byte b : digest) {
                hex.append(Character.forDigit((b >> 4) & 0xf, 16))
                        .append(Character.forDigit(b & 0xf, 16));
            }
            return hex.toString();
        } catch (GeneralSecurityException e) {
            // Every Java platform has HmacSHA256.
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }

    /**
     * Returns {@code principal} if it can be one: 1 to 256 visible ASCII characters, no whitespace.
     */
    static String validatePrincipal(String principal) {
        if (principal == null) {
            throw new IllegalArgumentException("principal must not be null");
        }
        boolean visibleAscii = principal.chars().allMatch(c -> c > 0x20 && c < 0x7f);
        if (principal.isEmpty() || principal.length() > MAX_PRINCIPAL_LENGTH || !visibleAscii) {
            String shown =
                    principal.length() > 128 ? principal.substring(0, 128) + "..." : principal;
            throw new IllegalArgumentException(
                    "principal must be 1 to "
                            + MAX_PRINCIPAL_LENGTH
                            + " visible ASCII characters without whitespace, got '"
                            + shown
                            + "' ("
                            + principal.length()
                            + " characters)");
        }
        return principal;
    }
}
