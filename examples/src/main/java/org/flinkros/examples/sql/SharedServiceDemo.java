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
import org.flinkros.connector.RosServe;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MetricOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A shared service: the sentiment model runs as its own long-running job ({@link RosServe}), and a
 * separate SQL job calls it by name through {@code ML_PREDICT}, as a SQL client or gateway user
 * would. An embedded cluster with its REST API stands in for a session cluster; on a real one the
 * service job is started with {@code flink run -d -c org.flinkros.connector.RosServe ...} and the
 * SQL runs in the SQL client (see docs/sql.md).
 *
 * <p>Its last line is a summary: {@code flink-ros shared-service demo: records=... errors=...
 * accuracy=...}.
 *
 * <p>Arguments (all optional): {@code --records N} (default 2000).
 */
public final class SharedServiceDemo {
    private SharedServiceDemo() {}

    public static void main(String[] args) throws Exception {
        long records = SqlDemos.recordsArg(args);
        Configuration config = new Configuration();
        config.set(RestOptions.BIND_PORT, "0");
        // Callers find shared services through metrics that the REST API serves; refresh them
        // more often than the default 10 s so that a restarted instance is found quickly.
        config.set(MetricOptions.METRIC_FETCHER_UPDATE_INTERVAL, Duration.ofSeconds(1));
        MiniClusterConfiguration cluster =
                new MiniClusterConfiguration.Builder()
                        .setConfiguration(config)
                        .setNumTaskManagers(2)
                        .setNumSlotsPerTaskManager(2)
                        .build();
        Path secrets = Files.createTempDirectory("flink-ros-demo");
        Path tokenFile = secrets.resolve("sentiment.token");
        try (MiniCluster session = new MiniCluster(cluster)) {
            session.start();
            URI rest = session.getRestAddress().get();

            // 1. The service job: 2 instances, running until cancelled. Its token goes to a file
            //    that only jobs allowed to call it are given.
            JobClient service =
                    RosServe.start(
                            StreamExecutionEnvironment.createRemoteEnvironment(
                                    rest.getHost(), rest.getPort()),
                            RosDescriptor.builder("sentiment", new JsonSentimentModel())
                                    .parallelism(2)
                                    .build(),
                            RosServe.tokenFrom(tokenFile));

            // 2. A SQL job that knows the service only by name.
            StreamExecutionEnvironment env =
                    StreamExecutionEnvironment.createRemoteEnvironment(
                            rest.getHost(), rest.getPort());
            env.setParallelism(2);
            StreamTableEnvironment tEnv = StreamTableEnvironment.create(env);
            SqlDemos.registerReviews(env, tEnv, records);
            tEnv.executeSql(
                    "CREATE TEMPORARY MODEL sentiment"
                            + " INPUT (text STRING)"
                            + " OUTPUT (label STRING, score DOUBLE)"
                            + " WITH ('provider' = 'ros', 'service' = 'sentiment',"
                            + " 'discovery' = 'cluster', 'rest-url' = '"
                            + rest
                            + "', 'token-file' = '"
                            + tokenFile
                            + "')");
            TableResult predictions =
                    tEnv.executeSql(
                            "SELECT id, positive, label, score"
                                    + " FROM ML_PREDICT(TABLE reviews, MODEL sentiment,"
                                    + " DESCRIPTOR(text))");
            try (CloseableIterator<Row> rows = predictions.collect()) {
                SqlDemos.summarise("flink-ros shared-service demo", rows, records);
            }
            // The SQL job is done; the shared service would serve other jobs until cancelled.
            service.cancel().get();
        } finally {
            Files.deleteIfExists(tokenFile);
            Files.deleteIfExists(secrets);
        }
    }
}
