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
package org.flinkros.examples.digits;

import org.flinkros.connector.OnError;
import org.flinkros.connector.RosAsyncDataStream;
import org.flinkros.connector.RosDescriptor;
import org.flinkros.connector.RosMethodCall;
import org.flinkros.connector.RosService;
import org.flinkros.connector.RosServices;
import org.flinkros.examples.DemoSummary;

import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.serialization.SimpleStringEncoder;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.connector.file.sink.FileSink;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.CloseableIterator;

import java.time.Duration;
import java.util.List;

/**
 * The flink-ros demo: held-out images of handwritten digits streamed through a real model (an ONNX
 * classifier run with ONNX Runtime) that runs as an RpcOperator service with 2 instances, called
 * from Flink async I/O. Written as any Flink job with {@code getExecutionEnvironment()}: run from
 * Maven ({@code mvn -B -q -Pdemo -DskipTests verify}) it executes on an embedded cluster and ends
 * with a summary line; submitted to a cluster with {@code flink run ... --output <dir>} it writes
 * one line per sample ({@code label,predicted,instance}) to files.
 *
 * <p>Arguments (all optional): {@code --repeat N} streams the held-out set N times (default 10);
 * {@code --output DIR} writes the predictions to files instead of printing a summary.
 */
public final class DigitsDemo {
    private static final int INSTANCES = 2;

    private DigitsDemo() {}

    public static void main(String[] args) throws Exception {
        int repeat = Integer.parseInt(arg(args, "--repeat", "10"));
        if (repeat < 1) {
            throw new IllegalArgumentException("--repeat must be at least 1, got " + repeat);
        }
        String output = arg(args, "--output", null);

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();

        // The model: 2 instances in slots of their own, each loading it once.
        RosService digits =
                RosServices.add(
                        env,
                        RosDescriptor.builder("digits", new DigitsModel())
                                .parallelism(INSTANCES)
                                .build());

        // The data plane: samples -> a typed call per sample -> predictions.
        List<Digit> samples = Digit.heldOut();
        DataStream<Digit> images =
                env.fromSequence(0, (long) samples.size() * repeat - 1)
                        .map(new Pick(samples))
                        .name("held-out digits");
        DataStream<Prediction> predictions =
                RosAsyncDataStream.builder(
                                images,
                                digits,
                                RosMethodCall.of(
                                                DigitsModel.CLASSIFY,
                                                (Digit digit) -> digit.pixels,
                                                (Digit digit, Tuple2<Integer, Integer> answer) ->
                                                        Prediction.of(
                                                                digit.label, answer.f0, answer.f1))
                                        .onError(
                                                OnError.fallback(
                                                        (digit, error) ->
                                                                Prediction.failed(
                                                                        digit.label,
                                                                        error.toString()))))
                        .timeout(Duration.ofSeconds(30))
                        .capacity(64)
                        .outputType(TypeInformation.of(Prediction.class))
                        .build();

        if (output != null) {
            // The file sink commits its files with checkpoints; the last one comes at the end.
            env.enableCheckpointing(1_000);
            predictions
                    .map(Prediction::toString)
                    .returns(Types.STRING)
                    .sinkTo(
                            FileSink.forRowFormat(
                                            new Path(output), new SimpleStringEncoder<String>())
                                    .build());
            env.execute("flink-ros digits");
            return;
        }

        System.out.println(
                "Classifying "
                        + samples.size() * (long) repeat
                        + " held-out digits with RpcOperator service 'digits' ("
                        + INSTANCES
                        + " instances of an ONNX model) ...");
        long start = System.nanoTime();
        DemoSummary summary = new DemoSummary(INSTANCES);
        try (CloseableIterator<Prediction> results =
                predictions.executeAndCollect("flink-ros demo")) {
            results.forEachRemaining(
                    prediction -> {
                        if (prediction.error != null) {
                            summary.failed(prediction.error);
                        } else {
                            summary.answered(
                                    prediction.instance, prediction.predicted == prediction.label);
                        }
                    });
        }
        summary.print((System.nanoTime() - start) / 1e9);
    }

    /** The i-th sample, round and round the held-out set. */
    static final class Pick implements MapFunction<Long, Digit> {
        private static final long serialVersionUID = 1L;
        private final List<Digit> samples;

        Pick(List<Digit> samples) {
            this.samples = samples;
        }

        @Override
        public Digit map(Long i) {
            return samples.get((int) (i % samples.size()));
        }
    }

    private static String arg(String[] args, String name, String defaultValue) {
        for (int i = 0; i < args.length - 1; i++) {
            if (args[i].equals(name)) {
                return args[i + 1];
            }
        }
        return defaultValue;
    }
}
