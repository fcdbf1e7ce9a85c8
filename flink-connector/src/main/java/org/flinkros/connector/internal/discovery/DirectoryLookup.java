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

import org.flinkros.connector.internal.FlinkInternals;

import org.apache.flink.annotation.Internal;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.operators.coordination.CoordinationRequest;
import org.apache.flink.runtime.operators.coordination.CoordinationResponse;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * How a task of the job finds a service of the same job by name, without an operator coordinator of
 * its own (a SQL function has none): every service carries a directory operator whose uid, and so
 * whose operator id, follows from the service's name. A task sends this long poll to that
 * operator's coordinator, which answers with the service's token and endpoint set.
 *
 * <p>The reply travels as a Flink class ({@link FlinkInternals#coordinationReply}): the version as
 * the number, then the token, then the endpoints.
 */
@Internal
public final class DirectoryLookup implements CoordinationRequest {
    private static final long serialVersionUID = 1L;

    private static final String REPLY_TAG = "ros-directory";

    /** The version the task knows; -1 for none. */
    final long knownVersion;

    public DirectoryLookup(long knownVersion) {
        this.knownVersion = knownVersion;
    }

    /** The uid of the directory operator of the service named {@code serviceName}. */
    public static String uid(String serviceName) {
        return "ros-directory:" + serviceName;
    }

    /** The operator id of the directory operator of the service named {@code serviceName}. */
    public static OperatorID operatorId(String serviceName) {
        return FlinkInternals.operatorIdOfUid(uid(serviceName));
    }

    static CoordinationResponse reply(String token, EndpointSnapshot snapshot) {
        List<String> strings = new ArrayList<>(snapshot.endpoints().size() + 1);
        strings.add(token);
        strings.addAll(snapshot.endpoints());
        return FlinkInternals.coordinationReply(REPLY_TAG, snapshot.version(), strings);
    }

    /** The service's token and endpoint set in a reply. */
    public static Found parseReply(CoordinationResponse response) throws IOException {
        List<String> strings = FlinkInternals.replyStrings(response, REPLY_TAG);
        if (strings.isEmpty()) {
            throw new IOException("directory reply without a token");
        }
        return new Found(
                strings.get(0),
                new EndpointSnapshot(
                        FlinkInternals.replyNumber(response, REPLY_TAG),
                        new ArrayList<>(strings.subList(1, strings.size()))));
    }

    /** What a lookup found: the service's token and its endpoints. */
    @Internal
    public static final class Found {
        public final String token;
        public final EndpointSnapshot endpoints;

        Found(String token, EndpointSnapshot endpoints) {
            this.token = token;
            this.endpoints = endpoints;
        }
    }

    @Override
    public String toString() {
        return "DirectoryLookup{knownVersion=" + knownVersion + '}';
    }
}
