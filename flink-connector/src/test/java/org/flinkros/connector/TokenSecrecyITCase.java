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
package org.flinkros.connector;

import org.flinkros.client.RosClient;
import org.flinkros.client.RosClientOptions;
import org.flinkros.client.RosException;
import org.flinkros.client.ServiceTokens;
import org.flinkros.client.StatusCode;
import org.flinkros.connector.testing.Clusters;
import org.flinkros.connector.testing.CollectingSink;
import org.flinkros.connector.testing.SquareOperator;

import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.Appender;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.WriterAppender;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.layout.PatternLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.InputStream;
import java.io.StringWriter;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URL;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A service's token never shows: not in the logs (at INFO), not in the metrics or the job's
 * configuration and plan as Flink's REST API (and so its web UI) shows them, and not in the errors
 * a caller with a wrong token gets.
 */
class TokenSecrecyITCase {
    private static final int RECORDS = 100;

    /** Holds the data plane mid-stream while the test looks around. */
    private static final CountDownLatch RELEASE = new CountDownLatch(1);

    @RegisterExtension
    static final MiniClusterExtension CLUSTER =
            new MiniClusterExtension(
                    new MiniClusterResourceConfiguration.Builder()
                            .setNumberTaskManagers(2)
                            .setNumberSlotsPerTaskManager(2)
                            .build());

    @Test
    void theTokenAppearsInNoLogMetricRestResponseOrError(@InjectMiniCluster MiniCluster cluster)
            throws Exception {
        StringWriter logs = new StringWriter();
        Runnable stopCapturing = captureInfoLogs(logs);
        try {
            SquareOperator.reset(1);
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
            Clusters.withoutRestarts(env);
            env.setParallelism(1);
            RosService service =
                    RosServices.add(
                            env, RosDescriptor.builder("secret", new SquareOperator()).build());
            String token = service.token();
            RosAsyncDataStream.builder(
                            env.fromSequence(0, RECORDS - 1).map(new HoldHalfway()),
                            service,
                            new Square())
                    .outputType(Types.STRING)
                    .build()
                    .sinkTo(new CollectingSink<>(UUID.randomUUID().toString()));
            JobID job = cluster.submitJob(env.getStreamGraph().getJobGraph()).get().getJobID();
            URI rest = cluster.getRestAddress().get();

            // Mid-stream: the instance serves and the data plane has made calls.
            List<String> seen = new ArrayList<>();
            Clusters.eventually(
                    Duration.ofSeconds(60),
                    "calls show in the metrics",
                    () -> {
                        seen.clear();
                        return vertexMetrics(rest, job, seen) > 0;
                    });
            for (String path :
                    new String[] {
                        "/jobs/" + job,
                        "/jobs/" + job + "/config",
                        "/jobs/" + job + "/plan",
                        "/jobs/" + job + "/exceptions",
                        "/jobmanager/config",
                        "/taskmanagers"
                    }) {
                seen.add(get(rest, path));
            }

            // Callers with a wrong token, or none, are refused without either token in the answer.
            Matcher serving = Pattern.compile("serving at ([^ ]+):(\\d+)").matcher(logs.toString());
            assertThat(serving.find()).as("the instance logged its address").isTrue();
            String endpoint = serving.group(1) + ":" + serving.group(2);
            String wrong = ServiceTokens.generate();
            for (String sent : new String[] {wrong, null}) {
                try (RosClient outsider =
                        RosClient.create(RosClientOptions.builder().token(sent).build())) {
                    outsider.updateEndpoints(Collections.singletonList(endpoint));
                    assertThatThrownBy(
                                    () ->
                                            outsider.call("square", SquareOperator.request(1))
                                                    .get(30, TimeUnit.SECONDS))
                            .isInstanceOf(ExecutionException.class)
                            .cause()
                            .isInstanceOfSatisfying(
                                    RosException.class,
                                    e -> {
                                        assertThat(e.code()).isEqualTo(StatusCode.UNAUTHENTICATED);
                                        seen.add(String.valueOf(e));
                                    });
                }
            }
            seen.add(service.toString());

            RELEASE.countDown();
            assertThat(cluster.requestJobResult(job).get().isSuccess()).isTrue();
            seen.add(logs.toString());

            assertThat(String.join("\n", seen))
                    .as("everything an operator of the job can see")
                    // What was searched: the REST API, the metrics, the errors, the logs.
                    .contains("RpcOperatorService: secret")
                    .contains("ros.calls")
                    .contains("UNAUTHENTICATED")
                    .contains("serving at")
                    .doesNotContain(token)
                    .doesNotContain(wrong);
        } finally {
            stopCapturing.run();
        }
    }

    /** Every metric of every vertex, names and values, into {@code seen}; returns ros.calls. */
    private static long vertexMetrics(URI rest, JobID job, List<String> seen) throws Exception {
        ObjectMapper json = new ObjectMapper();
        long calls = 0;
        for (JsonNode vertex : json.readTree(get(rest, "/jobs/" + job)).get("vertices")) {
            String base = "/jobs/" + job + "/vertices/" + vertex.get("id").asText() + "/metrics";
            List<String> names = new ArrayList<>();
            for (JsonNode metric : json.readTree(get(rest, base))) {
                names.add(metric.get("id").asText());
            }
            // A few at a time keeps the URL short.
            for (int i = 0; i < names.size(); i += 20) {
                List<String> ids = new ArrayList<>();
                for (String name : names.subList(i, Math.min(names.size(), i + 20))) {
                    ids.add(URLEncoder.encode(name, StandardCharsets.UTF_8));
                }
                String values = get(rest, base + "?get=" + String.join(",", ids));
                seen.add(values);
                for (JsonNode metric : json.readTree(values)) {
                    if (metric.get("id").asText().endsWith("ros.calls")) {
                        calls += Long.parseLong(metric.get("value").asText());
                    }
                }
            }
        }
        return calls;
    }

    private static String get(URI rest, String path) throws Exception {
        HttpURLConnection connection =
                (HttpURLConnection) new URL(rest.toString() + path).openConnection();
        try (InputStream in = connection.getInputStream()) {
            assertThat(connection.getResponseCode()).as(path).isEqualTo(200);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } finally {
            connection.disconnect();
        }
    }

    /**
     * Sends every INFO event of every logger to {@code logs} (the console keeps WARN); returns how
     * to undo it.
     */
    private static Runnable captureInfoLogs(StringWriter logs) {
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        LoggerConfig root = context.getConfiguration().getRootLogger();
        Level before = root.getLevel();
        Map<String, Appender> appenders = root.getAppenders();
        WriterAppender capture =
                WriterAppender.newBuilder()
                        .setName("token-secrecy")
                        .setTarget(logs)
                        .setLayout(PatternLayout.newBuilder().withPattern("%c %m %ex%n").build())
                        .build();
        capture.start();
        for (String name : appenders.keySet()) {
            root.removeAppender(name);
        }
        for (Appender appender : appenders.values()) {
            root.addAppender(appender, before, null);
        }
        root.addAppender(capture, Level.INFO, null);
        root.setLevel(Level.INFO);
        context.updateLoggers();
        return () -> {
            root.removeAppender(capture.getName());
            root.setLevel(before);
            context.updateLoggers();
            capture.stop();
        };
    }

    /** Calls the service for each record. */
    private static final class Square implements RosAsyncFunction<Long, String> {
        @Override
        public void asyncInvoke(Long x, RosClient client, ResultFuture<String> result) {
            client.call("square", SquareOperator.request(x))
                    .whenComplete(
                            (reply, error) -> {
                                if (error != null) {
                                    result.completeExceptionally(error);
                                } else {
                                    result.complete(Collections.singleton("ok"));
                                }
                            });
        }
    }

    /** Passes the first half of the records, then waits for the test to release the rest. */
    private static final class HoldHalfway implements MapFunction<Long, Long> {
        @Override
        public Long map(Long x) throws Exception {
            if (x == RECORDS / 2) {
                RELEASE.await();
            }
            return x;
        }
    }
}
