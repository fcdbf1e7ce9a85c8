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
package org.flinkros.connector.internal.client;

import org.flinkros.client.RosClient;
import org.flinkros.client.RosClientOptions;
import org.flinkros.client.RosException;
import org.flinkros.client.RosServer;
import org.flinkros.client.RosServerOptions;
import org.flinkros.client.ServiceTokens;
import org.flinkros.client.StatusCode;

import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.functions.DefaultOpenContext;
import org.apache.flink.runtime.jobgraph.OperatorID;

import org.junit.jupiter.api.Test;

import java.util.Collections;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A data-plane subtask's client authenticates as its operator ({@code <job>/<operator>}) with that
 * principal's credential, not with the service token: it cannot cancel another operator's calls.
 */
class SubtaskPrincipalTest {

    @Test
    void aSubtaskActsOnlyForItsOwnOperatorsClientIds() throws Exception {
        String serviceToken = ServiceTokens.generate();
        JobID job = new JobID();
        OperatorID operator = new OperatorID();
        OperatorID otherOperator = new OperatorID();
        String principal = ClientIds.principal(job, operator);
        assertThat(ClientIds.of(job, operator, 2)).isEqualTo(principal + "/2");
        assertThat(ClientIds.of(job, otherOperator, 2)).doesNotStartWith(principal);

        RosAsyncFunctionAdapter<String, String> adapter =
                new RosAsyncFunctionAdapter<>(
                        (input, client, result) -> {},
                        "svc",
                        RosClientOptions.builder().token(serviceToken).build(),
                        null);
        adapter.identify(principal, ClientIds.of(job, operator, 2), 1);
        try (RosServer server =
                RosServer.start(RosServerOptions.builder().token(serviceToken).build())) {
            adapter.open(DefaultOpenContext.INSTANCE);
            RosClient client = adapter.client();
            RosClientOptions options = client.options();
            assertThat(options.principal()).isEqualTo(principal);
            assertThat(options.token())
                    .isEqualTo(ServiceTokens.credential(serviceToken, principal))
                    .isNotEqualTo(serviceToken);

            client.updateEndpoints(Collections.singletonList("127.0.0.1:" + server.port()));
            assertThat(client.cancelEarlierEpochs().get(10, TimeUnit.SECONDS)).isZero();
            assertThatThrownBy(
                            () ->
                                    client.cancelEpochs(ClientIds.of(job, otherOperator, 2), 5)
                                            .get(10, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .cause()
                    .isInstanceOfSatisfying(
                            RosException.class,
                            e -> assertThat(e.code()).isEqualTo(StatusCode.PERMISSION_DENIED));
        } finally {
            adapter.close();
        }
    }
}
