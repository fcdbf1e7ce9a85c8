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
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Echo calls from Java: through the ROS runtime (JNI, Rust, tonic) on the multiplexed stream and as
 * unary calls, and through grpc-java (unary), one at a time (latency) and {@value #IN_FLIGHT} or
 * {@value #MANY_IN_FLIGHT} at a time (throughput).
 */
@State(Scope.Benchmark)
public class ClientCallBenchmark {
    static final int IN_FLIGHT = 64;
    static final int MANY_IN_FLIGHT = 512;

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
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public byte[] rosUnaryCall() {
        return ros.callUnary(payload).join();
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @OperationsPerInvocation(IN_FLIGHT)
    public int grpcJavaInFlight() throws Exception {
        return inFlight(grpcJava::call, IN_FLIGHT);
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @OperationsPerInvocation(IN_FLIGHT)
    public int rosInFlight() throws Exception {
        return inFlight(ros::call, IN_FLIGHT);
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @OperationsPerInvocation(IN_FLIGHT)
    public int rosUnaryInFlight() throws Exception {
        return inFlight(ros::callUnary, IN_FLIGHT);
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @OperationsPerInvocation(MANY_IN_FLIGHT)
    public int grpcJavaManyInFlight() throws Exception {
        return inFlight(grpcJava::call, MANY_IN_FLIGHT);
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @OperationsPerInvocation(MANY_IN_FLIGHT)
    public int rosManyInFlight() throws Exception {
        return inFlight(ros::call, MANY_IN_FLIGHT);
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @OperationsPerInvocation(MANY_IN_FLIGHT)
    public int rosUnaryManyInFlight() throws Exception {
        return inFlight(ros::callUnary, MANY_IN_FLIGHT);
    }

    /** Starts {@code count} calls, then waits for all of them. */
    private int inFlight(Function<byte[], Future<byte[]>> call, int count)
            throws ExecutionException, InterruptedException {
        List<Future<byte[]>> calls = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            calls.add(call.apply(payload));
        }
        int bytes = 0;
        for (Future<byte[]> done : calls) {
            bytes += done.get().length;
        }
        return bytes;
    }
}
