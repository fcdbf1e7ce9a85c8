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
package org.flinkros.connector.internal.sql;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.formats.common.TimestampFormat;
import org.apache.flink.formats.json.JsonFormatOptions;
import org.apache.flink.formats.json.JsonRowDataDeserializationSchema;
import org.apache.flink.formats.json.JsonRowDataSerializationSchema;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.runtime.typeutils.InternalTypeInfo;
import org.apache.flink.table.types.logical.RowType;
import org.apache.flink.util.SimpleUserCodeClassLoader;
import org.apache.flink.util.UserCodeClassLoader;

import java.io.IOException;

/**
 * A model's rows on the wire: the input columns as one JSON object, the reply as one JSON object
 * with every output column, both as Flink's JSON format reads and writes them (so that SQL types
 * map the way Flink users know).
 */
@Internal
final class JsonRows {
    private final JsonRowDataSerializationSchema writer;
    private final JsonRowDataDeserializationSchema reader;

    JsonRows(RowType input, RowType output, MetricGroup metrics, ClassLoader classLoader)
            throws Exception {
        writer =
                new JsonRowDataSerializationSchema(
                        input,
                        TimestampFormat.ISO_8601,
                        JsonFormatOptions.MapNullKeyMode.FAIL,
                        "null",
                        true,
                        false);
        // A reply without an output column is an error, not a silent null.
        reader =
                new JsonRowDataDeserializationSchema(
                        output, InternalTypeInfo.of(output), true, false, TimestampFormat.ISO_8601);
        UserCodeClassLoader loader = SimpleUserCodeClassLoader.create(classLoader);
        writer.open(
                new SerializationSchema.InitializationContext() {
                    @Override
                    public MetricGroup getMetricGroup() {
                        return metrics;
                    }

                    @Override
                    public UserCodeClassLoader getUserCodeClassLoader() {
                        return loader;
                    }
                });
        reader.open(
                new DeserializationSchema.InitializationContext() {
                    @Override
                    public MetricGroup getMetricGroup() {
                        return metrics;
                    }

                    @Override
                    public UserCodeClassLoader getUserCodeClassLoader() {
                        return loader;
                    }
                });
    }

    byte[] write(RowData input) {
        return writer.serialize(input);
    }

    /**
     * The output row in {@code reply}.
     *
     * @throws IOException if the reply is not a JSON object with every output column
     */
    RowData read(byte[] reply) throws IOException {
        RowData row = reader.deserialize(reply);
        if (row == null) {
            throw new IOException("the reply is empty");
        }
        return row;
    }
}
