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
