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
package org.flinkros.connector;

import org.flinkros.client.RosException;
import org.flinkros.client.RosServerReplies;
import org.flinkros.client.RosServerRequest;
import org.flinkros.client.StatusCode;

import org.apache.flink.annotation.Internal;
import org.apache.flink.annotation.PublicEvolving;

import java.util.List;

/**
 * A batch of requests of one method, handed to {@link BatchRpcOperator#invokeBatch}: the operator
 * answers each request by its index, with a result ({@link #reply}) or an error ({@link #fail}).
 * Requests left unanswered when {@code invokeBatch} returns fail with {@link StatusCode#INTERNAL};
 * when it throws, they all fail with its exception. Used by the one thread running the batch.
 */
@PublicEvolving
public final class RpcBatch {
    private final List<RosServerRequest> requests;
    private final byte[][] results;
    private final StatusCode[] codes;
    private final String[] messages;

    private RpcBatch(List<RosServerRequest> requests) {
        this.requests = requests;
        this.results = new byte[requests.size()][];
        this.codes = new StatusCode[requests.size()];
        this.messages = new String[requests.size()];
    }

    /** A batch of polled requests of one method; made by the instance's run loop. */
    @Internal
    public static RpcBatch of(List<RosServerRequest> requests) {
        return new RpcBatch(requests);
    }

    /** How many requests the batch holds (at least one). */
    public int size() {
        return requests.size();
    }

    /** The argument of request {@code index}. */
    public byte[] payload(int index) {
        return requests.get(index).payload();
    }

    /**
     * The time request {@code index}'s caller still waits, in milliseconds, or -1 for no deadline.
     */
    public long timeoutMillis(int index) {
        return requests.get(index).timeoutMillis();
    }

    /** Answers request {@code index} with {@code result}. */
    public void reply(int index, byte[] result) {
        if (result == null) {
            fail(
                    index,
                    new RosException(
                            StatusCode.INTERNAL, "the operator replied null to request " + index));
            return;
        }
        checkUnanswered(index);
        results[index] = result;
    }

    /**
     * Fails request {@code index}: with the code of a {@link RosException}, else {@link
     * StatusCode#INTERNAL} and the exception's description.
     */
    public void fail(int index, Exception error) {
        checkUnanswered(index);
        if (error instanceof RosException) {
            codes[index] = ((RosException) error).code();
            messages[index] = ((RosException) error).description();
        } else {
            codes[index] = StatusCode.INTERNAL;
            messages[index] = "RpcOperator failed on request " + index + " of a batch: " + error;
        }
    }

    /** Whether request {@code index} has been answered. */
    public boolean isAnswered(int index) {
        return results[index] != null || codes[index] != null;
    }

    private void checkUnanswered(int index) {
        if (isAnswered(index)) {
            throw new IllegalStateException(
                    "request " + index + " of the batch is already answered");
        }
    }

    /** Fails every request not answered yet with {@code code} and {@code message}. */
    @Internal
    public void failUnanswered(StatusCode code, String message) {
        for (int i = 0; i < size(); i++) {
            if (!isAnswered(i)) {
                codes[i] = code;
                messages[i] = message;
            }
        }
    }

    /** Adds every answer to {@code replies}; unanswered requests fail as the class says. */
    @Internal
    public void answer(RosServerReplies replies, String method) {
        for (int i = 0; i < size(); i++) {
            long id = requests.get(i).id();
            if (results[i] != null) {
                replies.complete(id, results[i]);
            } else if (codes[i] != null) {
                replies.fail(id, codes[i], messages[i]);
            } else {
                replies.fail(
                        id,
                        StatusCode.INTERNAL,
                        "BatchRpcOperator.invokeBatch of method '"
                                + method
                                + "' returned without answering request "
                                + i
                                + " of its batch");
            }
        }
    }
}
