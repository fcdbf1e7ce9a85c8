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

/**
 * Why a call to an RpcOperator service failed. The codes and their numbers are gRPC's, and they
 * mean the same from the service instance through the native runtime to the caller.
 */
@PublicEvolving
public enum StatusCode {
    /** The caller gave up: the call was cancelled or its client closed. */
    CANCELLED(1),
    /** The request was malformed or too large. */
    INVALID_ARGUMENT(3),
    /** The call's deadline passed before a result arrived. */
    DEADLINE_EXCEEDED(4),
    /** The service has no such method. */
    NOT_FOUND(5),
    /**
     * The caller authenticated as a principal and used a client id outside it (see {@link
     * RosClientOptions#principal()}); nothing was queued or cancelled.
     */
    PERMISSION_DENIED(7),
    /** The instance's queue was full; no work was done, so the call may be retried elsewhere. */
    RESOURCE_EXHAUSTED(8),
    /** The user's operator failed, or the runtime hit a bug. */
    INTERNAL(13),
    /** No live instance, or the connection to it was lost; may be retried elsewhere. */
    UNAVAILABLE(14),
    /** The call did not carry the service's token. */
    UNAUTHENTICATED(16);

    private final int value;

    StatusCode(int value) {
        this.value = value;
    }

    /** The gRPC number of this code. */
    public int value() {
        return value;
    }

    /**
     * Whether a call that failed with this code produced no response and may be sent again to a
     * different instance.
     */
    public boolean isRetryable() {
        return this == UNAVAILABLE || this == RESOURCE_EXHAUSTED;
    }

    /**
     * Whether the same request would fail the same way if it were sent again: the request itself is
     * wrong ({@link #INVALID_ARGUMENT}, {@link #NOT_FOUND}, {@link #PERMISSION_DENIED}, {@link
     * #UNAUTHENTICATED}) or the operator failed on it ({@link #INTERNAL}). A caller replaying it (a
     * restarted data plane) would only fail again; the other codes say something about the moment,
     * not the request.
     */
    public boolean isPermanent() {
        return this == INVALID_ARGUMENT
                || this == NOT_FOUND
                || this == PERMISSION_DENIED
                || this == UNAUTHENTICATED
                || this == INTERNAL;
    }

    /**
     * The code with the given gRPC number.
     *
     * @throws IllegalArgumentException if the number is not one of these codes
     */
    public static StatusCode fromValue(int value) {
        for (StatusCode code : values()) {
            if (code.value == value) {
                return code;
            }
        }
        throw new IllegalArgumentException("Unknown flink-ros status code: " + value);
    }
}
