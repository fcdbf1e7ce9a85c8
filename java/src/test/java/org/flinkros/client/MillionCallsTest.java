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
package org.flinkros.client;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.ref.WeakReference;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A million calls through the Java client, 256 in flight, against two instances: every future
 * completes, memory stays flat after warm-up, and once every client and server is closed no runtime
 * thread, file descriptor or reference into Java is left. Runs in a JVM of its own (see the
 * module's build) with a pre-touched fixed heap, so that resident memory measures the rest.
 */
class MillionCallsTest {
    private static final long CALLS = Long.getLong("flinkros.calls", 1_000_000);
    private static final long WARM_UP = CALLS / 5;
    private static final int IN_FLIGHT = 256;
    private static final long MIB = 1024 * 1024;

    @Test
    void everyCallCompletesMemoryStaysFlatAndNothingIsLeftAfterClose() throws Exception {
        assertThat(runtimeThreads()).as("no runtime before the first handle").isEmpty();
        // A first round opens what the JVM keeps open for good (jars of the classes it loads).
        try (ServingThread warm = ServingThread.echo(RosServer.start(RosServerOptions.defaults()));
                RosClient client = RosClient.create(RosClientOptions.defaults())) {
            client.updateEndpoints(Arrays.asList(warm.endpoint()));
            assertThat(run(client, 1000, new ArrayList<>())).isZero();
        }
        Waits.eventually(
                "runtime threads gone after the first round",
                Duration.ofSeconds(15),
                () -> runtimeThreads().isEmpty());
        // The JDK opens descriptors of its own for good the first time its file channels are used.
        residentBytes();
        Set<String> descriptorsBefore = openDescriptors();

        List<WeakReference<CompletableFuture<byte[]>>> sampled = new ArrayList<>();
        long residentAfterWarmUp;
        long heapAfterWarmUp;
        long failed;
        try (ServingThread a = ServingThread.echo(RosServer.start(RosServerOptions.defaults()));
                ServingThread b = ServingThread.echo(RosServer.start(RosServerOptions.defaults()));
                RosClient client = RosClient.create(RosClientOptions.defaults())) {
            client.updateEndpoints(Arrays.asList(a.endpoint(), b.endpoint()));
            failed = run(client, WARM_UP, sampled);
            residentAfterWarmUp = residentBytes();
            heapAfterWarmUp = usedHeapAfterGc();
            failed += run(client, CALLS - WARM_UP, sampled);
            long residentGrowth = residentBytes() - residentAfterWarmUp;
            long heapGrowth = usedHeapAfterGc() - heapAfterWarmUp;

            assertThat(failed).as("failed calls").isZero();
            assertThat(client.stats().succeeded()).isEqualTo(CALLS);
            assertThat(a.served.get() + b.served.get()).isEqualTo(CALLS);
            // 800k calls after warm-up: a leak of 64 bytes a call would grow by 49 MiB.
            assertThat(residentGrowth)
                    .as("resident memory growth after warm-up, MiB")
                    .isLessThan(32 * MIB);
            assertThat(heapGrowth).as("heap growth after warm-up, MiB").isLessThan(16 * MIB);
        }

        // Completed futures are not held by the runtime (each call's global reference is gone).
        usedHeapAfterGc();
        assertThat(sampled.stream().filter(r -> r.get() != null).count())
                .as("sampled futures still reachable after the calls completed")
                .isZero();
        // The last handle closed: the runtime shut down and its threads left the JVM.
        Waits.eventually(
                "runtime threads gone: " + runtimeThreads(),
                Duration.ofSeconds(15),
                () -> runtimeThreads().isEmpty());
        Waits.eventually(
                "file descriptors left open: " + leftOver(descriptorsBefore),
                Duration.ofSeconds(15),
                () -> leftOver(descriptorsBefore).isEmpty());
    }

    /** Makes {@code calls} calls, {@link #IN_FLIGHT} at a time; returns how many failed. */
    private static long run(
            RosClient client, long calls, List<WeakReference<CompletableFuture<byte[]>>> sampled)
            throws InterruptedException {
        Semaphore slots = new Semaphore(IN_FLIGHT);
        AtomicLong failed = new AtomicLong();
        byte[] payload = "sixteen bytes!!!".getBytes(StandardCharsets.UTF_8);
        for (long i = 0; i < calls; i++) {
            slots.acquire();
            CompletableFuture<byte[]> call = client.call("echo", payload);
            if (i % 1000 == 0) {
                sampled.add(new WeakReference<>(call));
            }
            call.whenComplete(
                    (reply, error) -> {
                        if (error != null || reply.length <= payload.length) {
                            failed.incrementAndGet();
                        }
                        slots.release();
                    });
        }
        assertThat(slots.tryAcquire(IN_FLIGHT, 60, TimeUnit.SECONDS))
                .as("every call completed")
                .isTrue();
        return failed.get();
    }

    private static List<String> runtimeThreads() {
        List<String> names = new ArrayList<>();
        for (Thread thread : Thread.getAllStackTraces().keySet()) {
            if (thread.getName().startsWith("ros-runtime-")
                    || thread.getName().startsWith("ros-client")) {
                names.add(thread.getName());
            }
        }
        return names;
    }

    /** What the process's file descriptors point to (files, sockets by inode, pipes). */
    private static Set<String> openDescriptors() {
        Set<String> targets = new HashSet<>();
        try (Stream<Path> fds = Files.list(Paths.get("/proc/self/fd"))) {
            fds.forEach(
                    fd -> {
                        try {
                            targets.add(fd.getFileName() + " -> " + Files.readSymbolicLink(fd));
                        } catch (IOException closedMeanwhile) {
                            // The descriptor of the listing itself, or one closed while listing.
                        }
                    });
        } catch (IOException e) {
            throw new AssertionError("this test reads /proc (Linux)", e);
        }
        return targets;
    }

    private static Set<String> leftOver(Set<String> before) {
        Set<String> now = openDescriptors();
        now.removeAll(before);
        Set<String> described = new HashSet<>();
        for (String fd : now) {
            described.add(fd + describeSocket(fd));
        }
        return described;
    }

    /** For a socket, its line of /proc/net/tcp (addresses and state), to tell what it is. */
    private static String describeSocket(String fd) {
        int start = fd.indexOf("socket:[");
        if (start < 0) {
            return "";
        }
        String inode = fd.substring(start + 8, fd.length() - 1);
        for (String table :
                new String[] {
                    "/proc/net/tcp",
                    "/proc/net/tcp6",
                    "/proc/net/unix",
                    "/proc/net/netlink",
                    "/proc/net/udp",
                    "/proc/net/udp6"
                }) {
            try {
                for (String line : Files.readAllLines(Paths.get(table))) {
                    String[] fields = line.trim().split("\\s+");
                    if (Arrays.asList(fields).contains(inode)) {
                        return " " + table + ": " + line.trim();
                    }
                }
            } catch (IOException unreadable) {
                return "";
            }
        }
        return "";
    }

    private static long residentBytes() throws IOException {
        for (String line : Files.readAllLines(Paths.get("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new AssertionError("no VmRSS in /proc/self/status");
    }

    private static long usedHeapAfterGc() {
        Runtime runtime = Runtime.getRuntime();
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return runtime.totalMemory() - runtime.freeMemory();
    }
}
