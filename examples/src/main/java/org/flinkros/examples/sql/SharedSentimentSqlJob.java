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
package org.flinkros.examples.sql;

import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.serialization.SimpleStringEncoder;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.connector.file.sink.FileSink;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.types.Row;
import org.apache.flink.util.ParameterTool;

/**
 * A SQL job of a session cluster that calls the shared service {@code sentiment} by name: what a
 * SQL client user writes, packaged as a job. Start the service first, then this job:
 *
 * <pre>{@code
 * flink run -d -c org.flinkros.connector.RosServe flink-ros-examples-job.jar \
 *     --name sentiment --operator org.flinkros.examples.sql.JsonSentimentModel \
 *     --parallelism 2 --token-file /secrets/sentiment.token
 * flink run -c org.flinkros.examples.sql.SharedSentimentSqlJob flink-ros-examples-job.jar \
 *     --token-file /secrets/sentiment.token --output file:///tmp/sentiment
 * }</pre>
 *
 * <p>It finds the cluster's REST API through its own configuration ({@code rest.address}, {@code
 * rest.port}), as the SQL client and gateway do. Arguments: {@code --token-file} (required), {@code
 * --output DIR} (one line {@code id,positive,label} per review; prints without it), {@code
 * --records N} (default 2000), {@code --rate R} (reviews per second, default unlimited: a paced
 * source stands in for a stream).
 */
public final class SharedSentimentSqlJob {
    private SharedSentimentSqlJob() {}

    public static void main(String[] args) throws Exception {
        ParameterTool params = ParameterTool.fromArgs(args);
        long records = params.getLong("records", 2_000);
        int rate = params.getInt("rate", 0);
        String tokenFile = params.getRequired("token-file");

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        // The file sink commits its files with checkpoints; the last one comes at the end.
        env.enableCheckpointing(1_000);
        StreamTableEnvironment tEnv = StreamTableEnvironment.create(env);
        SqlDemos.registerReviews(env, tEnv, records, rate);
        tEnv.executeSql(
                "CREATE TEMPORARY MODEL sentiment"
                        + " INPUT (text STRING)"
                        + " OUTPUT (label STRING, score DOUBLE)"
                        + " WITH ('provider' = 'ros', 'service' = 'sentiment',"
                        + " 'discovery' = 'cluster', 'token-file' = '"
                        + tokenFile
                        + "')");
        DataStream<String> lines =
                tEnv.toDataStream(
                                tEnv.sqlQuery(
                                        "SELECT id, positive, label FROM ML_PREDICT(TABLE"
                                                + " reviews, MODEL sentiment, DESCRIPTOR(text))"))
                        .map(new ToLine())
                        .returns(Types.STRING);
        if (params.has("output")) {
            lines.sinkTo(
                    FileSink.forRowFormat(
                                    new Path(params.get("output")),
                                    new SimpleStringEncoder<String>())
                            .build());
        } else {
            lines.print();
        }
        env.execute("flink-ros shared sentiment SQL");
    }

    /** {@code id,positive,label}. */
    private static final class ToLine implements MapFunction<Row, String> {
        private static final long serialVersionUID = 1L;

        @Override
        public String map(Row row) {
            return row.getField("id")
                    + ","
                    + row.getField("positive")
                    + ","
                    + row.getField("label");
        }
    }
}
