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
package org.flinkros.connector.internal.service;

import org.apache.flink.annotation.Internal;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Hands out GPU device indices to service instances on one host.
 *
 * <p>Flink grants a slot an amount of the external resource {@code gpu} but exposes all of a
 * TaskManager's GPUs to every slot, with no per-slot assignment. Instances therefore claim indices
 * themselves: index {@code i} is held by whoever holds an exclusive lock on the file {@code
 * gpu-<i>.lock} in a directory shared by the host. File locks work across class loaders (each Flink
 * job has its own) and across processes, and the operating system releases them when a process
 * dies, so a crashed TaskManager never leaks a GPU.
 */
@Internal
final class GpuAllocator {
    /** The TaskManager option that says how many GPUs it has. */
    static final String AMOUNT_OPTION = "external-resource.gpu.amount";

    private static final ConfigOption<Long> AMOUNT =
            ConfigOptions.key(AMOUNT_OPTION).longType().defaultValue(0L);

    private GpuAllocator() {}

    /** Indices held by one instance; {@link #close()} gives them back. */
    static final class Lease implements AutoCloseable {
        private final int[] indices;
        private final List<FileChannel> channels;

        private Lease(int[] indices, List<FileChannel> channels) {
            this.indices = indices;
            this.channels = channels;
        }

        int[] indices() {
            return indices.clone();
        }

        @Override
        public void close() {
            for (FileChannel channel : channels) {
                try {
                    channel.close();
                } catch (IOException ignored) {
                    // The lock goes with the channel; nothing else to release.
                }
            }
        }
    }

    /**
     * Claims {@code count} GPU indices among the {@value #AMOUNT_OPTION} of the TaskManager.
     *
     * @throws IllegalStateException naming the missing resource if the TaskManager declares too few
     *     GPUs, or if all are held by other instances
     */
    static Lease acquire(int count, Configuration taskManagerConfig, Path lockDirectory)
            throws IOException {
        if (count == 0) {
            return new Lease(new int[0], new ArrayList<>());
        }
        long amount = taskManagerConfig.get(AMOUNT);
        if (amount < count) {
            throw new IllegalStateException(
                    "the service asks for "
                            + count
                            + " GPU(s) per instance, but this TaskManager declares "
                            + amount
                            + " of the external resource 'gpu' (set 'external-resources: gpu' and '"
                            + AMOUNT_OPTION
                            + "')");
        }
        Files.createDirectories(lockDirectory);
        List<FileChannel> held = new ArrayList<>();
        int[] indices = new int[count];
        int found = 0;
        for (int index = 0; index < amount && found < count; index++) {
            FileChannel channel =
                    FileChannel.open(
                            lockDirectory.resolve("gpu-" + index + ".lock"),
                            StandardOpenOption.CREATE,
                            StandardOpenOption.WRITE);
            if (tryLock(channel)) {
                held.add(channel);
                indices[found++] = index;
            } else {
                channel.close();
            }
        }
        if (found < count) {
            new Lease(indices, held).close();
            throw new IllegalStateException(
                    "no free GPU on this host: the service asks for "
                            + count
                            + " per instance and the other instances hold the rest of the "
                            + amount
                            + " declared by '"
                            + AMOUNT_OPTION
                            + "'");
        }
        return new Lease(indices, held);
    }

    private static boolean tryLock(FileChannel channel) throws IOException {
        try {
            FileLock lock = channel.tryLock();
            return lock != null;
        } catch (OverlappingFileLockException heldInThisJvm) {
            return false;
        }
    }

    /** The directory of the host's lock files. */
    static Path defaultLockDirectory() {
        return Paths.get(System.getProperty("java.io.tmpdir"), "flink-ros-gpus");
    }
}
