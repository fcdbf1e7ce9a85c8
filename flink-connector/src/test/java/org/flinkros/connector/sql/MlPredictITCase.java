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
package org.flinkros.connector.sql;

import org.flinkros.client.RosClient;
import org.flinkros.client.RosClientOptions;
import org.flinkros.client.RosException;
import org.flinkros.client.StatusCode;
import org.flinkros.connector.RosAsyncDataStream;
import org.flinkros.connector.RosAsyncFunction;
import org.flinkros.connector.RosDescriptor;
import org.flinkros.connector.RosServe;
import org.flinkros.connector.RosServices;
import org.flinkros.connector.internal.discovery.SharedServiceLookup;
import org.flinkros.connector.testing.Clusters;
import org.flinkros.connector.testing.ExactlyOnceSink;
import org.flinkros.connector.testing.FailOnce;
import org.flinkros.connector.testing.JsonModel;
import org.flinkros.connector.testing.ReportedMetrics;

import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.JobManagerOptions;
import org.apache.flink.configuration.MetricOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.table.api.Table;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.table.functions.AsyncScalarFunction;
import org.apache.flink.table.functions.FunctionContext;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code ML_PREDICT} over RpcOperator services on a MiniCluster, end to end into an exactly-once
 * sink with a data-plane failure on the way: a service of the same job, and a shared service that
 * runs as its own job and loses an instance while it serves.
 */
class MlPredictITCase {
    private static final int RECORDS = 300;
    private static final Duration WAIT = Duration.ofMinutes(3);

    private static final InMemoryReporter METRICS = InMemoryReporter.createWithRetainedMetrics();
    private static final ReportedMetrics REPORTED = new ReportedMetrics(METRICS);

    @RegisterExtension
    static final MiniClusterExtension CLUSTER =
            new MiniClusterExtension(
                    new MiniClusterResourceConfiguration.Builder()
                            .setNumberTaskManagers(3)
                            .setNumberSlotsPerTaskManager(2)
                            .setConfiguration(METRICS.addToConfiguration(clusterConfiguration()))
                            .build());

    private static Configuration clusterConfiguration() {
        Configuration config = new Configuration();
        config.set(JobManagerOptions.EXECUTION_FAILOVER_STRATEGY, "region");
        // Shared services are found through metrics read over REST; have them read often.
        config.set(MetricOptions.METRIC_FETCHER_UPDATE_INTERVAL, Duration.ofMillis(200));
        return config;
    }

    private static StreamExecutionEnvironment environment() {
        Configuration config = new Configuration();
        config.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        config.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 5);
        config.set(
                RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(100));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.configure(config);
        env.setParallelism(2);
        env.enableCheckpointing(100);
        return env;
    }

    /** A table environment over {@code env} with reviews {@code (id, text)}, ids 1..RECORDS. */
    private static StreamTableEnvironment withReviews(StreamExecutionEnvironment env) {
        StreamTableEnvironment tEnv = StreamTableEnvironment.create(env);
        DataStream<Row> reviews =
                env.fromSequence(1, RECORDS)
                        .map(id -> Row.of(id, "review " + id))
                        .returns(
                                Types.ROW_NAMED(
                                        new String[] {"id", "text"}, Types.LONG, Types.STRING));
        tEnv.createTemporaryView("reviews", tEnv.fromDataStream(reviews));
        return tEnv;
    }

    /**
     * Predicts every review with the model {@code scorer} into an exactly-once sink, failing a
     * data-plane subtask once on the way, and waits for the job to end.
     */
    private static JobID predictAll(
            StreamTableEnvironment tEnv, StreamExecutionEnvironment env, String sinkId)
            throws Exception {
        Table predictions =
                tEnv.sqlQuery(
                        "SELECT id, text, length, shout FROM ML_PREDICT("
                                + "TABLE reviews, MODEL scorer, DESCRIPTOR(id, text))");
        tEnv.toDataStream(predictions)
                .map(new FailOnce<>(RECORDS / 4))
                .sinkTo(new ExactlyOnceSink<>(sinkId));
        // The job is bounded: it ends by itself once the data plane has (a service of the job
        // ends once its ML_PREDICT callers have finished).
        JobClient job = env.executeAsync("ml-predict " + sinkId);
        job.getJobExecutionResult().get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        return job.getJobID();
    }

    /** Calls the model from a Table API function, through a {@link RosTableClient}. */
    public static final class ShoutFunction extends AsyncScalarFunction {
        private static final long serialVersionUID = 1L;
        private final String service;
        private transient RosTableClient client;

        ShoutFunction(String service) {
            this.service = service;
        }

        @Override
        public void open(FunctionContext context) throws Exception {
            client = RosTableClient.ofJobService(context, service, Duration.ofSeconds(60));
        }

        public void eval(CompletableFuture<String> result, Long id, String text) {
            client.call("predict", request(id, text))
                    .whenComplete(
                            (reply, error) -> {
                                if (error != null) {
                                    result.completeExceptionally(error);
                                } else {
                                    result.complete(shoutOf(reply));
                                }
                            });
        }

        @Override
        public void close() {
            client.close();
        }
    }

    private static byte[] request(long id, String text) {
        return ("{\"id\": " + id + ", \"text\": \"" + text + "\"}")
                .getBytes(StandardCharsets.UTF_8);
    }

    private static String shoutOf(byte[] reply) {
        String json = new String(reply, StandardCharsets.UTF_8);
        int start = json.indexOf("\"shout\":\"") + 9;
        return json.substring(start, json.indexOf('"', start));
    }

    /** Calls the model with review {@code id}'s text, as a DataStream caller would. */
    private static final class Shout implements RosAsyncFunction<Long, String> {
        private static final long serialVersionUID = 1L;

        @Override
        public void asyncInvoke(Long id, RosClient client, ResultFuture<String> result) {
            client.call("predict", request(id, "review " + id))
                    .whenComplete(
                            (reply, error) -> {
                                if (error != null) {
                                    result.completeExceptionally(error);
                                } else {
                                    result.complete(Collections.singleton(shoutOf(reply)));
                                }
                            });
        }
    }

    private static String get(URI rest, String path) throws Exception {
        HttpResponse<String> response =
                HttpClient.newHttpClient()
                        .send(
                                HttpRequest.newBuilder(URI.create(rest + path)).build(),
                                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(path).isEqualTo(200);
        return response.body();
    }

    private static void assertEveryReviewPredictedOnce(List<Row> committed) {
        Set<Long> ids = new TreeSet<>();
        for (Row row : committed) {
            long id = (Long) row.getField(0);
            String text = (String) row.getField(1);
            assertThat(text).isEqualTo("review " + id);
            assertThat(row.getField(2)).isEqualTo(text.length());
            assertThat(row.getField(3)).isEqualTo(JsonModel.shout(text));
            ids.add(id);
        }
        assertThat(committed).hasSize(RECORDS);
        assertThat(ids).hasSize(RECORDS).first().isEqualTo(1L);
    }

    @Test
    void mlPredictCallsAServiceOfTheSameJob() throws Exception {
        StreamExecutionEnvironment env = environment();
        RosServices.add(
                env,
                RosDescriptor.builder("scorer", JsonModel.of("per-job")).parallelism(2).build());
        StreamTableEnvironment tEnv = withReviews(env);
        tEnv.executeSql(
                "CREATE TEMPORARY MODEL scorer"
                        + " INPUT (id BIGINT, text STRING) OUTPUT (length INT, shout STRING)"
                        + " WITH ('provider' = 'ros', 'service' = 'scorer')");
        // A second caller in the same job, of a method the service does not have: each row gets
        // null outputs, and the job still ends once both callers have finished.
        tEnv.executeSql(
                "CREATE TEMPORARY MODEL broken"
                        + " INPUT (id BIGINT, text STRING) OUTPUT (length INT, shout STRING)"
                        + " WITH ('provider' = 'ros', 'service' = 'scorer', 'method' = 'nope',"
                        + " 'on-error' = 'null')");
        tEnv.toDataStream(
                        tEnv.sqlQuery(
                                "SELECT id, length FROM ML_PREDICT("
                                        + "TABLE reviews, MODEL broken, DESCRIPTOR(id, text))"))
                .sinkTo(new ExactlyOnceSink<>("per-job-null"));

        // A third caller: a Table API function with a client of its own.
        tEnv.createTemporarySystemFunction("shout", new ShoutFunction("scorer"));
        tEnv.toDataStream(tEnv.sqlQuery("SELECT id, shout(id, text) FROM reviews"))
                .sinkTo(new ExactlyOnceSink<>("per-job-udf"));

        JobID job = predictAll(tEnv, env, "per-job");
        assertEveryReviewPredictedOnce(ExactlyOnceSink.committed("per-job"));
        List<Row> udf = ExactlyOnceSink.committed("per-job-udf");
        assertThat(udf)
                .hasSize(RECORDS)
                .allMatch(
                        row ->
                                row.getField(1)
                                        .equals(JsonModel.shout("review " + row.getField(0))));
        assertThat(JsonModel.executed("per-job")).isGreaterThanOrEqualTo(RECORDS);
        // The callers report the client metrics DataStream callers do.
        assertThat(REPORTED.sumGauges(job, "MLPredict", "ros.succeeded"))
                .isGreaterThanOrEqualTo(RECORDS);
        List<Row> nulls = ExactlyOnceSink.committed("per-job-null");
        assertThat(nulls).hasSize(RECORDS).allMatch(row -> row.getField(1) == null);
        assertThat(REPORTED.sumCounters(job, "MLPredict", "ros.onErrorRows"))
                .isGreaterThanOrEqualTo(RECORDS);
    }

    @Test
    void aModelOfAServiceMissingFromTheJobFailsTheJobNamingTheFix() {
        StreamExecutionEnvironment env = environment();
        Clusters.withoutRestarts(env);
        StreamTableEnvironment tEnv = withReviews(env);
        tEnv.executeSql(
                "CREATE TEMPORARY MODEL scorer"
                        + " INPUT (id BIGINT, text STRING) OUTPUT (length INT, shout STRING)"
                        + " WITH ('provider' = 'ros', 'service' = 'absent')");
        tEnv.toDataStream(
                        tEnv.sqlQuery(
                                "SELECT id, length FROM ML_PREDICT("
                                        + "TABLE reviews, MODEL scorer, DESCRIPTOR(id, text))"))
                .sinkTo(new ExactlyOnceSink<>("absent"));
        assertThatThrownBy(() -> env.execute("absent service"))
                .satisfies(
                        failure ->
                                assertThat(
                                                org.apache.flink.util.ExceptionUtils
                                                        .stringifyException(failure))
                                        .contains(
                                                "RpcOperator service 'absent' is not part of this"
                                                        + " job")
                                        .contains("RosServices.add"));
    }

    @Test
    void mlPredictCallsASharedServiceThatLosesAnInstance(
            @InjectMiniCluster MiniCluster cluster, @TempDir Path secrets) throws Exception {
        Path tokenFile = secrets.resolve("scorer.token");
        // The service job: instance 0 crashes after its 40th request and restarts elsewhere.
        JobClient service =
                RosServe.start(
                        environment(),
                        RosDescriptor.builder("shared-scorer", JsonModel.crashing("shared", 0, 40))
                                .parallelism(2)
                                .build(),
                        RosServe.tokenFrom(tokenFile));
        try {
            StreamExecutionEnvironment env = environment();
            StreamTableEnvironment tEnv = withReviews(env);
            tEnv.executeSql(
                    "CREATE TEMPORARY MODEL scorer"
                            + " INPUT (id BIGINT, text STRING) OUTPUT (length INT, shout STRING)"
                            + " WITH ('provider' = 'ros', 'service' = 'shared-scorer',"
                            + " 'discovery' = 'cluster',"
                            + " 'rest-url' = '"
                            + cluster.getRestAddress().get()
                            + "', 'token-file' = '"
                            + tokenFile
                            + "', 'refresh-interval' = '200 ms')");

            predictAll(tEnv, env, "shared");
            assertEveryReviewPredictedOnce(ExactlyOnceSink.committed("shared"));
            assertThat(Clusters.serviceAttempts(Clusters.graph(cluster, service.getJobID())))
                    .as("instance 0 of the shared service restarted while serving")
                    .contains(1);

            // A DataStream job of the cluster calls the same service by name.
            StreamExecutionEnvironment streamEnv = environment();
            List<String> shouts = new ArrayList<>();
            try (CloseableIterator<String> results =
                    RosAsyncDataStream.builder(
                                    streamEnv.fromSequence(1, 100),
                                    RosServices.shared(
                                            "shared-scorer",
                                            cluster.getRestAddress().get().toString(),
                                            tokenFile),
                                    new Shout())
                            .outputType(Types.STRING)
                            .build()
                            .executeAndCollect("datastream caller")) {
                results.forEachRemaining(shouts::add);
            }
            assertThat(shouts).hasSize(100).contains("REVIEW 1", "REVIEW 100");

            // Whoever can read the REST API finds the instances but not the token, and calls
            // without it are refused.
            String token = RosServe.tokenFrom(tokenFile);
            URI rest = cluster.getRestAddress().get();
            List<String> endpoints =
                    new SharedServiceLookup(rest.toString(), "shared-scorer").endpoints();
            assertThat(endpoints).hasSize(2);
            String job = "/jobs/" + service.getJobID();
            for (String path :
                    new String[] {job, job + "/config", job + "/plan", "/jobs/overview"}) {
                assertThat(get(rest, path)).as(path).doesNotContain(token);
            }
            try (RosClient outsider = RosClient.create(RosClientOptions.defaults())) {
                outsider.updateEndpoints(endpoints);
                assertThatThrownBy(
                                () ->
                                        outsider.call(
                                                        "predict",
                                                        "{}".getBytes(StandardCharsets.UTF_8))
                                                .get(30, TimeUnit.SECONDS))
                        .cause()
                        .isInstanceOfSatisfying(
                                RosException.class,
                                e -> assertThat(e.code()).isEqualTo(StatusCode.UNAUTHENTICATED));
            }
        } finally {
            service.cancel().get();
        }
    }
}
