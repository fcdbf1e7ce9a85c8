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
 * A request taken from a {@link RosServer}'s queue. Answer it exactly once with {@link
 * RosServer#complete} or {@link RosServer#fail}, passing its {@link #id()}.
 */
@PublicEvolving
public final class RosServerRequest {
    private final long id;
    private final long requestId;
    private final String clientId;
    private final long clientEpoch;
    private final String method;
    private final byte[] payload;
    private final long timeoutMillis;

    /** Made by the native runtime; public for tests and alternative hosts. */
    public RosServerRequest(
            long id,
            long requestId,
            String clientId,
            long clientEpoch,
            String method,
            byte[] payload,
            long timeoutMillis) {
        this.id = id;
        this.requestId = requestId;
        this.clientId = clientId;
        this.clientEpoch = clientEpoch;
        this.method = method;
        this.payload = payload;
        this.timeoutMillis = timeoutMillis;
    }

    /** The id to answer this request with; unique within its server. */
    public long id() {
        return id;
    }

    /** The caller's id for this request. */
    public long requestId() {
        return requestId;
    }

    /** Who called; in Flink {@code <job>/<operator>/<subtask>}. */
    public String clientId() {
        return clientId;
    }

    /** The caller's attempt number. */
    public long clientEpoch() {
        return clientEpoch;
    }

    /** The operator method to run. */
    public String method() {
        return method;
    }

    /** The argument. The array is owned by the receiver. */
    public byte[] payload() {
        return payload;
    }

    /**
     * Milliseconds the caller still waited for a result when the request was polled, or -1 if it
     * gave no deadline.
     */
    public long timeoutMillis() {
        return timeoutMillis;
    }

    @Override
    public String toString() {
        return "RosServerRequest{id="
                + id
                + ", requestId="
                + requestId
                + ", clientId="
                + clientId
                + ", clientEpoch="
                + clientEpoch
                + ", method="
                + method
                + ", payloadBytes="
                + payload.length
                + ", timeoutMillis="
                + timeoutMillis
                + '}';
    }
}
