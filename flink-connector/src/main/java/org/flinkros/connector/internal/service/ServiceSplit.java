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
import org.apache.flink.api.connector.source.SourceSplit;
import org.apache.flink.core.io.SimpleVersionedSerializer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * The split type of the service source. A service reads nothing, so no split is ever assigned;
 * Flink's source API still needs a type and a serializer.
 */
@Internal
public final class ServiceSplit implements SourceSplit {
    private final String id;

    ServiceSplit(String id) {
        this.id = id;
    }

    @Override
    public String splitId() {
        return id;
    }

    /** Serializer of {@link ServiceSplit}. */
    static final class Serializer implements SimpleVersionedSerializer<ServiceSplit> {
        static final Serializer INSTANCE = new Serializer();

        @Override
        public int getVersion() {
            return 1;
        }

        @Override
        public byte[] serialize(ServiceSplit split) {
            return split.id.getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public ServiceSplit deserialize(int version, byte[] serialized) throws IOException {
            if (version != 1) {
                throw new IOException("Unknown ServiceSplit version " + version);
            }
            return new ServiceSplit(new String(serialized, StandardCharsets.UTF_8));
        }
    }
}
