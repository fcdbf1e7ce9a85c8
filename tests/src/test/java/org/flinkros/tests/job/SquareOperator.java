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
package org.flinkros.tests.job;

import org.flinkros.connector.RpcOperator;
import org.flinkros.connector.RpcOperatorContext;

import javax.annotation.Nullable;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

/**
 * The service's "model": squares a long, taking a fixed time per request as inference would, and
 * says who answered: the instance index and the process id of its TaskManager, so that the test can
 * tell the original instances from a restarted one.
 */
public final class SquareOperator implements RpcOperator {
    private static final long serialVersionUID = 1L;

    /** The one method. */
    public static final String METHOD = "square";

    private final long costNanos;
    private final long loadMillis;
    @Nullable private final String markerDir;
    private transient int index;
    private transient long pid;
    private transient boolean served;

    /** A model that takes {@code cost} per request and loads at once. */
    public SquareOperator(Duration cost) {
        this(cost, Duration.ZERO, null);
    }

    /**
     * A model that takes {@code load} to load and {@code cost} per request. With {@code markerDir},
     * each instance writes a file {@code served-<instance>-<pid>-<id>} holding the epoch
     * milliseconds of its first answer, so that a test sees when a restarted instance serves.
     */
    public SquareOperator(Duration cost, Duration load, @Nullable java.nio.file.Path markerDir) {
        this.costNanos = cost.toNanos();
        this.loadMillis = load.toMillis();
        this.markerDir = markerDir == null ? null : markerDir.toString();
    }

    /** The time each instance's first answer was written, by marker file name. */
    public static Map<String, Long> servedMarkers(java.nio.file.Path markerDir) throws IOException {
        Map<String, Long> served = new TreeMap<>();
        if (!Files.isDirectory(markerDir)) {
            return served;
        }
        try (Stream<java.nio.file.Path> files = Files.list(markerDir)) {
            for (java.nio.file.Path file : (Iterable<java.nio.file.Path>) files::iterator) {
                String name = file.getFileName().toString();
                String text = new String(Files.readAllBytes(file), StandardCharsets.UTF_8).trim();
                if (name.startsWith("served-") && !text.isEmpty()) {
                    served.put(name, Long.parseLong(text));
                }
            }
        }
        return served;
    }

    @Override
    public void open(RpcOperatorContext context) throws InterruptedException {
        // The job jar is the only place this class exists on the cluster: if the TaskManager's own
        // class loader found it, the test would prove nothing about class loading.
        if (getClass().getClassLoader() == ClassLoader.getSystemClassLoader()) {
            throw new IllegalStateException(
                    "job classes must be loaded from the job jar, not the TaskManager classpath");
        }
        index = context.instanceIndex();
        pid = ProcessHandle.current().pid();
        if (loadMillis > 0) {
            // The model load: seconds in which the instance's task is already running.
            Thread.sleep(loadMillis);
        }
    }

    @Override
    public Set<String> methods() {
        return Collections.singleton(METHOD);
    }

    /**
     * Makes the instance on the TaskManager of process {@code pid} stop answering: the request it
     * executes next never returns, and the requests behind it stay queued, until the process dies.
     * Requires a model made with a marker directory.
     */
    public static void freeze(java.nio.file.Path markerDir, long pid) throws IOException {
        Files.createFile(markerDir.resolve("freeze-" + pid));
    }

    @Override
    public byte[] invoke(String method, byte[] payload) throws IOException {
        if (markerDir != null && Files.exists(Paths.get(markerDir, "freeze-" + pid))) {
            // Parks until the test kills this TaskManager; a cancelled task ends it sooner.
            while (!Thread.currentThread().isInterrupted()) {
                LockSupport.park(this);
            }
            throw new IOException("frozen instance interrupted");
        }
        if (!served && markerDir != null) {
            served = true;
            java.nio.file.Path dir = Paths.get(markerDir);
            java.nio.file.Path marker =
                    dir.resolve("served-" + index + "-" + pid + "-" + UUID.randomUUID());
            java.nio.file.Path temporary = dir.resolve("." + marker.getFileName());
            Files.write(
                    temporary,
                    Long.toString(System.currentTimeMillis()).getBytes(StandardCharsets.UTF_8));
            Files.move(temporary, marker, StandardCopyOption.ATOMIC_MOVE);
        }
        LockSupport.parkNanos(costNanos);
        long x = ByteBuffer.wrap(payload).getLong();
        return ByteBuffer.allocate(20).putLong(x * x).putInt(index).putLong(pid).array();
    }

    /** A request for {@code x}. */
    public static byte[] request(long x) {
        return ByteBuffer.allocate(8).putLong(x).array();
    }

    /** The output for {@code x} and its reply: {@code x,square,instance,pid}. */
    public static String outputLine(long x, byte[] reply) {
        ByteBuffer buffer = ByteBuffer.wrap(reply);
        return x + "," + buffer.getLong() + "," + buffer.getInt() + "," + buffer.getLong();
    }
}
