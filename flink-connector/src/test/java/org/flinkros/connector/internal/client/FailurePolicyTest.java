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

import org.flinkros.client.RosException;
import org.flinkros.client.StatusCode;

import org.apache.flink.runtime.execution.SuppressRestartsException;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;

import static org.assertj.core.api.Assertions.assertThat;

/** Which failed calls fail the job for good, and which leave it to Flink's restart strategy. */
class FailurePolicyTest {

    @ParameterizedTest
    @EnumSource(StatusCode.class)
    void permanentCodesSuppressRestartsAndTransientOnesDoNot(StatusCode code) {
        Throwable failure = new CompletionException(new RosException(code, "from the instance"));
        Throwable classified = FailurePolicy.classify("model", failure);
        if (code.isPermanent()) {
            assertThat(classified).isInstanceOf(SuppressRestartsException.class);
            assertThat(classified.getCause())
                    .hasMessageContaining("'model' failed with " + code)
                    .hasCause(failure);
        } else {
            assertThat(classified).isSameAs(failure);
        }
    }

    @ParameterizedTest
    @EnumSource(
            value = StatusCode.class,
            names = {"UNAVAILABLE", "RESOURCE_EXHAUSTED", "DEADLINE_EXCEEDED", "CANCELLED"})
    void failuresThatSayNothingAboutTheRequestAreTransient(StatusCode code) {
        assertThat(code.isPermanent()).isFalse();
    }

    @org.junit.jupiter.api.Test
    void aFailureWithoutStatusCodeIsLeftToTheRestartStrategy() {
        TimeoutException timeout = new TimeoutException("async timeout");
        assertThat(FailurePolicy.classify("model", timeout)).isSameAs(timeout);
    }
}
