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

import org.flinkros.connector.RosDescriptor;
import org.flinkros.connector.RosServices;

import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.Table;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;

/**
 * {@code ML_PREDICT} over a service of the same job: the Table API in Java adds the sentiment model
 * as an RpcOperator service (2 instances, slots of their own) and SQL calls it through a {@code
 * ros} model. Run from Maven or an IDE it executes on an embedded cluster.
 *
 * <p>Its last line is a summary: {@code flink-ros SQL demo: records=... errors=... accuracy=...}.
 *
 * <p>Arguments (all optional): {@code --records N} (default 2000).
 */
public final class SqlSentimentDemo {
    private SqlSentimentDemo() {}

    public static void main(String[] args) throws Exception {
        long records = SqlDemos.recordsArg(args);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        RosServices.add(
                env,
                RosDescriptor.builder("sentiment", new JsonSentimentModel())
                        .parallelism(2)
                        .build());
        StreamTableEnvironment tEnv = StreamTableEnvironment.create(env);
        SqlDemos.registerReviews(env, tEnv, records);

        tEnv.executeSql(
                "CREATE TEMPORARY MODEL sentiment"
                        + " INPUT (text STRING)"
                        + " OUTPUT (label STRING, score DOUBLE)"
                        + " WITH ('provider' = 'ros', 'service' = 'sentiment')");
        Table predictions =
                tEnv.sqlQuery(
                        "SELECT id, positive, label, score"
                                + " FROM ML_PREDICT(TABLE reviews, MODEL sentiment,"
                                + " DESCRIPTOR(text))");

        // The job must be the environment's, which holds the service: run the query through a
        // DataStream (tEnv.executeSql would submit the query alone). The service of a SQL job
        // runs until the job ends; closing the results ends the job.
        try (CloseableIterator<Row> rows =
                tEnv.toDataStream(predictions).executeAndCollect("flink-ros SQL demo")) {
            SqlDemos.summarise("flink-ros SQL demo", rows, records);
        }
    }
}
