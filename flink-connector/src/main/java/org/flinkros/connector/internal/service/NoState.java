package org.flinkros.connector.internal.service;

import org.apache.flink.annotation.Internal;
import org.apache.flink.core.io.SimpleVersionedSerializer;

import java.io.IOException;

/**
 * The enumerator's checkpoint: nothing. Services are stateless; endpoints are re-announced by the
 * instances themselves after any restart.
 */
@Internal
public enum NoState {
    INSTANCE;

    /** Serializer of {@link NoState}: zero bytes. */
    static final class Serializer implements SimpleVersionedSerializer<NoState> {
        static final Serializer INSTANCE = new Serializer();

        @Override
        public int getVersion() {
            return 1;
        }

        @Override
        public byte[] serialize(NoState state) {
            return new byte[0];
        }

        @Override
        public NoState deserialize(int version, byte[] serialized) throws IOException {
            if (version != 1 || serialized.length != 0) {
                throw new IOException("Unexpected service enumerator state, version " + version);
            }
            return NoState.INSTANCE;
        }
    }
}
