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
package org.flinkros.examples.sentiment;

import org.flinkros.client.RosClient;
import org.flinkros.connector.RosAsyncDataStream;
import org.flinkros.connector.RosAsyncFunction;
import org.flinkros.connector.RosDescriptor;
import org.flinkros.connector.RosService;
import org.flinkros.connector.RosServices;
import org.flinkros.examples.DemoSummary;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.util.CloseableIterator;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collections;

/**
 * The flink-ros demo: a job, written as any Flink job with {@code getExecutionEnvironment()}, in
 * which generated product reviews are scored by a sentiment model that runs as an RpcOperator
 * service with 2 instances, called from Flink async I/O. Run from Maven it executes on an embedded
 * cluster; submitted with {@code flink run}, on that cluster.
 *
 * <p>The raw-bytes example: the model answers bytes and the caller is a {@link RosAsyncFunction}
 * given the {@link RosClient}. Run its {@code main} from an IDE (with Flink's provided dependencies
 * on the classpath); {@code SentimentDemoITCase} runs it in the build. Its last line is a summary:
 * {@code flink-ros demo: records=... errors=... instances=... per-instance=[...] wall=...s
 * accuracy=...}.
 *
 * <p>Arguments (all optional): {@code --records N} (default 10000).
 */
public final class SentimentDemo {
    private static final int SERVICE_PARALLELISM = 2;

    private SentimentDemo() {}

    public static void main(String[] args) throws Exception {
        long records = longArg(args, "--records", 10_000);
        if (records < 1) {
            throw new IllegalArgumentException("--records must be at least 1, got " + records);
        }

        // As any job: run locally from an IDE or Maven, or on a cluster with 'flink run'.
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();

        // The model runs as its own service: 2 instances in slots of their own. Locally, flink-ros
        // gives the embedded cluster the slots they need besides the data plane's.
        RosService sentiment =
                RosServices.add(
                        env,
                        RosDescriptor.builder("sentiment", new SentimentModel())
                                .parallelism(SERVICE_PARALLELISM)
                                .build());

        // The data plane: generated reviews -> async calls to the service -> results.
        DataStream<Review> reviews =
                env.fromSequence(0, records - 1)
                        .map(Review::generate)
                        .returns(Review.class)
                        .name("Generate reviews");
        DataStream<Scored> scored =
                RosAsyncDataStream.builder(reviews, sentiment, new Classify())
                        .timeout(Duration.ofSeconds(30))
                        .capacity(64)
                        .outputType(TypeInformation.of(Scored.class))
                        .build();

        System.out.println(
                "Scoring "
                        + records
                        + " reviews with RpcOperator service 'sentiment' ("
                        + SERVICE_PARALLELISM
                        + " instances) ...");
        long start = System.nanoTime();
        DemoSummary summary = new DemoSummary(SERVICE_PARALLELISM);
        try (CloseableIterator<Scored> results = scored.executeAndCollect("flink-ros demo")) {
            results.forEachRemaining(
                    result -> {
                        if (result.error != null) {
                            summary.failed(result.error);
                        } else {
                            summary.answered(
                                    result.instance,
                                    result.predictedPositive == result.expectedPositive);
                        }
                    });
        }
        double wallSeconds = (System.nanoTime() - start) / 1e9;

        summary.print(wallSeconds);
    }

    /** Calls the model for one review; a failed call becomes a result with an error. */
    static final class Classify implements RosAsyncFunction<Review, Scored> {
        private static final long serialVersionUID = 1L;

        @Override
        public void asyncInvoke(Review review, RosClient client, ResultFuture<Scored> result) {
            client.call(SentimentModel.CLASSIFY, review.text.getBytes(StandardCharsets.UTF_8))
                    .whenComplete(
                            (reply, error) ->
                                    result.complete(
                                            Collections.singleton(
                                                    error == null
                                                            ? Scored.of(
                                                                    review,
                                                                    new SentimentModel.Prediction(
                                                                            reply))
                                                            : Scored.failed(review, error))));
        }
    }

    private static long longArg(String[] args, String name, long defaultValue) {
        for (int i = 0; i < args.length - 1; i++) {
            if (args[i].equals(name)) {
                try {
                    return Long.parseLong(args[i + 1]);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException(
                            name + " must be a number, got '" + args[i + 1] + "'", e);
                }
            }
        }
        return defaultValue;
    }
}
