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

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Unary echo calls from Java: through the ROS runtime (JNI, Rust, tonic) and through grpc-java, one
 * at a time (latency) and {@value #IN_FLIGHT} at a time (throughput).
 */
@State(Scope.Benchmark)
public class ClientCallBenchmark {
    static final int IN_FLIGHT = 64;

    @Param({"256", "262144"})
    public int payloadBytes;

    private byte[] payload;
    private GrpcJavaEcho grpcJava;
    private RosEcho ros;

    @Setup(Level.Trial)
    public void start() throws Exception {
        payload = new byte[payloadBytes];
        grpcJava = new GrpcJavaEcho();
        ros = new RosEcho();
    }

    @TearDown(Level.Trial)
    public void stop() throws Exception {
        ros.close();
        grpcJava.close();
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public byte[] grpcJavaCall() throws Exception {
        return grpcJava.call(payload).get();
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public byte[] rosCall() {
        return ros.call(payload).join();
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @OperationsPerInvocation(IN_FLIGHT)
    public int grpcJavaInFlight() throws ExecutionException, InterruptedException {
        List<Future<byte[]>> calls = new ArrayList<>(IN_FLIGHT);
        for (int i = 0; i < IN_FLIGHT; i++) {
            calls.add(grpcJava.call(payload));
        }
        int bytes = 0;
        for (Future<byte[]> call : calls) {
            bytes += call.get().length;
        }
        return bytes;
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @OperationsPerInvocation(IN_FLIGHT)
    public int rosInFlight() {
        List<CompletableFuture<byte[]>> calls = new ArrayList<>(IN_FLIGHT);
        for (int i = 0; i < IN_FLIGHT; i++) {
            calls.add(ros.call(payload));
        }
        int bytes = 0;
        for (CompletableFuture<byte[]> call : calls) {
            bytes += call.join().length;
        }
        return bytes;
    }
}
