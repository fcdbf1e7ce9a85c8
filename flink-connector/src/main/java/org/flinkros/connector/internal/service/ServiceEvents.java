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

    /** Every data-plane caller has finished: the instance stops and its task ends. */
    public static final class EndOfService implements SourceEvent {
        private static final long serialVersionUID = 1L;

        @Override
        public String toString() {
            return "EndOfService";
        }
    }
}
