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
package org.flinkros.connector.internal.discovery;

import org.apache.flink.annotation.Internal;
import org.apache.flink.runtime.operators.coordination.CoordinationResponse;

import javax.annotation.concurrent.GuardedBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Long polls for a service's endpoint set, as coordinators answer them: a poll that knows an older
 * version is answered at once, one that knows the current version waits for the next change, or for
 * {@code holdMillis} (well inside Flink's RPC timeout) and then gets the same set again.
 */
@Internal
public final class EndpointPolls {
    private final long holdMillis;
    private final Function<EndpointSnapshot, CoordinationResponse> reply;

    @GuardedBy("this")
    private final List<CompletableFuture<CoordinationResponse>> waiting = new ArrayList<>();

    public EndpointPolls(long holdMillis, Function<EndpointSnapshot, CoordinationResponse> reply) {
        this.holdMillis = holdMillis;
        this.reply = reply;
    }

    /** A poll from a subtask that knows {@code knownVersion} of {@code state}'s endpoints. */
    public CompletableFuture<CoordinationResponse> poll(ServiceState state, long knownVersion) {
        CompletableFuture<CoordinationResponse> answer = new CompletableFuture<>();
        synchronized (this) {
            // Checked under the lock that answerAll drains, so no change is missed.
            EndpointSnapshot current = state.snapshot();
            if (current.version() != knownVersion) {
                return CompletableFuture.completedFuture(reply.apply(current));
            }
            waiting.add(answer);
        }
        CompletableFuture.delayedExecutor(holdMillis, TimeUnit.MILLISECONDS)
                .execute(
                        () -> {
                            synchronized (this) {
                                waiting.remove(answer);
                            }
                            answer.complete(reply.apply(state.snapshot()));
                        });
        return answer;
    }

    /** Answers every waiting poll with {@code snapshot}; called on endpoint changes. */
    public void answerAll(EndpointSnapshot snapshot) {
        List<CompletableFuture<CoordinationResponse>> polls;
        synchronized (this) {
            polls = new ArrayList<>(waiting);
            waiting.clear();
        }
        CoordinationResponse answer = reply.apply(snapshot);
        for (CompletableFuture<CoordinationResponse> poll : polls) {
            poll.complete(answer);
        }
    }
}
