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
package org.flinkros.tests.job;

import org.flinkros.client.RosClient;
import org.flinkros.connector.RosAsyncFunction;

import org.apache.flink.streaming.api.functions.async.ResultFuture;

import java.util.Collections;

/**
 * The data plane's call: one "square" request per number, one output line per reply. The line also
 * carries how many calls the client had sent again to another instance by the time this one
 * completed, so that the output alone shows how many calls were failed over.
 */
public final class SquareCall implements RosAsyncFunction<Long, String> {
    private static final long serialVersionUID = 1L;

    @Override
    public void asyncInvoke(Long x, RosClient client, ResultFuture<String> result) {
        client.call(SquareOperator.METHOD, SquareOperator.request(x))
                .whenComplete(
                        (reply, error) -> {
                            if (error != null) {
                                // Fails the record and so the data plane: the test must see it.
                                result.completeExceptionally(error);
                            } else {
                                result.complete(
                                        Collections.singleton(
                                                SquareOperator.outputLine(x, reply)
                                                        + ","
                                                        + client.stats().retries()));
                            }
                        });
    }
}
