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
package org.flinkros.benchmarks;

import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.util.Statistics;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * Runs {@link ClientCallBenchmark} and prints, per payload size, ROS on the multiplexed stream and
 * ROS with unary calls beside the grpc-java baseline, and their ratios to it. JMH command-line
 * options (e.g. {@code -f 2 -i 10}) override the defaults.
 */
public final class ClientOverhead {
    private ClientOverhead() {}

    public static void main(String[] args) throws Exception {
        CommandLineOptions given = new CommandLineOptions(args);
        ChainedOptionsBuilder options =
                new OptionsBuilder()
                        .parent(given)
                        .include(ClientCallBenchmark.class.getSimpleName());
        // Defaults that keep a run to a few minutes; the command line wins.
        if (!given.getForkCount().hasValue()) {
            options.forks(1);
        }
        if (!given.getWarmupIterations().hasValue()) {
            options.warmupIterations(3);
        }
        if (!given.getWarmupTime().hasValue()) {
            options.warmupTime(TimeValue.seconds(2));
        }
        if (!given.getMeasurementIterations().hasValue()) {
            options.measurementIterations(5);
        }
        if (!given.getMeasurementTime().hasValue()) {
            options.measurementTime(TimeValue.seconds(2));
        }
        Collection<RunResult> results = new Runner(options.build()).run();

        Map<String, Statistics> byName = new HashMap<>();
        for (RunResult result : results) {
            String method = result.getParams().getBenchmark();
            method = method.substring(method.lastIndexOf('.') + 1);
            byName.put(
                    method + "/" + result.getParams().getParam("payloadBytes"),
                    result.getPrimaryResult().getStatistics());
        }

        System.out.println();
        System.out.println(
                "ROS Java client (JNI + Rust) vs grpc-java, loopback echo"
                        + " (latency: lower is better; throughput: higher is better)");
        System.out.printf(
                "%-42s %16s %16s %16s %9s %9s%n",
                "scenario", "grpc-java", "ROS unary", "ROS multiplexed", "unary/b", "mux/b");
        for (String payload : new String[] {"256", "262144"}) {
            String size = payload.equals("256") ? "256 B" : "256 KiB";
            row(
                    byName,
                    "latency p50, 1 in flight, " + size,
                    "Call",
                    payload,
                    s -> s.getPercentile(50),
                    "µs");
            row(
                    byName,
                    "latency p99, 1 in flight, " + size,
                    "Call",
                    payload,
                    s -> s.getPercentile(99),
                    "µs");
            row(
                    byName,
                    "throughput, " + ClientCallBenchmark.IN_FLIGHT + " in flight, " + size,
                    "InFlight",
                    payload,
                    Statistics::getMean,
                    "calls/s");
            row(
                    byName,
                    "throughput, " + ClientCallBenchmark.MANY_IN_FLIGHT + " in flight, " + size,
                    "ManyInFlight",
                    payload,
                    Statistics::getMean,
                    "calls/s");
        }
    }

    private static void row(
            Map<String, Statistics> byName,
            String scenario,
            String benchmark,
            String payload,
            ToDoubleFunction<Statistics> value,
            String unit) {
        Statistics base = byName.get("grpcJava" + benchmark + "/" + payload);
        Statistics unary = byName.get("rosUnary" + benchmark + "/" + payload);
        Statistics multiplexed = byName.get("ros" + benchmark + "/" + payload);
        if (base == null || unary == null || multiplexed == null) {
            return; // not selected on the command line
        }
        double baseValue = value.applyAsDouble(base);
        double unaryValue = value.applyAsDouble(unary);
        double multiplexedValue = value.applyAsDouble(multiplexed);
        System.out.printf(
                "%-42s %16s %16s %16s %8.2fx %8.2fx%n",
                scenario,
                String.format("%.0f %s", baseValue, unit),
                String.format("%.0f %s", unaryValue, unit),
                String.format("%.0f %s", multiplexedValue, unit),
                unaryValue / baseValue,
                multiplexedValue / baseValue);
    }
}
