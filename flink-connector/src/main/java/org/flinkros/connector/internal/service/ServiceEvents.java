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
package org.flinkros.connector.internal.service;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.connector.source.SourceEvent;

/** Events between the service's instances (readers) and its enumerator in the JobManager. */
@Internal
public final class ServiceEvents {
    private ServiceEvents() {}

    /** An instance is serving at {@code host:port}. */
    public static final class InstanceStarted implements SourceEvent {
        private static final long serialVersionUID = 1L;

        final String host;
        final int port;
        final String instanceId;

        InstanceStarted(String host, int port, String instanceId) {
            this.host = host;
            this.port = port;
            this.instanceId = instanceId;
        }

        @Override
        public String toString() {
            return "InstanceStarted{" + host + ":" + port + ", instanceId=" + instanceId + '}';
        }
    }

    /** The instance's startup ({@code open()} or the server) failed with {@code cause}. */
    public static final class OpenFailed implements SourceEvent {
        private static final long serialVersionUID = 1L;

        final String cause;

        OpenFailed(String cause) {
            this.cause = cause;
        }

        @Override
        public String toString() {
            return "OpenFailed{" + cause + '}';
        }
    }

    /**
     * The enumerator's answer to {@link OpenFailed}: the instance fails either way; {@code giveUp}
     * says whether Flink may restart it or the job must fail, after {@code failures} failed
     * startups in a row of at most {@code maxOpenAttempts}.
     */
    public static final class OpenVerdict implements SourceEvent {
        private static final long serialVersionUID = 1L;

        final boolean giveUp;
        final int failures;
        final int maxOpenAttempts;

        OpenVerdict(boolean giveUp, int failures, int maxOpenAttempts) {
            this.giveUp = giveUp;
            this.failures = failures;
            this.maxOpenAttempts = maxOpenAttempts;
        }

        @Override
        public String toString() {
            return "OpenVerdict{giveUp="
                    + giveUp
                    + ", failures="
                    + failures
                    + "/"
                    + maxOpenAttempts
                    + '}';
        }
    }

    /** Every data-plane caller has finished: the instance stops and its task ends. */
    public static final class EndOfService implements SourceEvent {
        private static final long serialVersionUID = 1L;

        @Override
        public String toString() {
            return "EndOfService";
        }
    }
}
