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

import org.flinkros.client.RosServerStats;
import org.flinkros.connector.PythonService;

import org.apache.flink.annotation.Internal;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.util.FlinkRuntimeException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.annotation.Nullable;
import javax.annotation.concurrent.GuardedBy;

import java.io.File;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * One instance of a Python service: a process running {@code <python> -m flinkros.host}, which
 * loads the service's class, calls its {@code open()}, starts its own server and then writes a
 * ready file ({@code {"port": N, "pid": P, "methods": [...]}}); while it serves it rewrites a stats
 * file every second.
 *
 * <p>The start runs off the task's thread: claim the GPUs, launch the process, wait for the ready
 * file (at most {@link PythonService#startupTimeout()}). The process exiting before it is ready is
 * a failed start, reported with its exit code and the last lines of its standard error; exiting
 * after, while nobody asked it to, fails the instance ({@link #stoppedOnError()}), and Flink then
 * restarts that instance alone. {@link #close()} stops the process at any point (see {@link
 * PythonProcess#stop}), gives the GPUs back and deletes the instance's files.
 */
@Internal
final class PythonInstance implements InstanceLauncher, ServingInstance {
    private static final Logger LOG = LoggerFactory.getLogger(PythonInstance.class);

    /** The prefix of the loggers that get the processes' output: {@code <prefix><service>.<i>}. */
    static final String LOGGER_PREFIX = "org.flinkros.python.";

    /** The module the interpreter runs. */
    static final String HOST_MODULE = "flinkros.host";

    static final String READY_FILE = "ready.properties";
    static final String STATS_FILE = "stats.properties";

    /** How often the start looks for the ready file. */
    private static final long POLL_MILLIS = 50;

    /** Longest line of standard error quoted in an error message. */
    private static final int QUOTED_LINE_CHARS = 1000;

    /** What the instance needs to start, given by the reader. */
    interface Steps {
        GpuAllocator.Lease claimGpus() throws Exception;

        /** The interpreter to run. */
        String executable();

        String serviceName();

        int instanceIndex();

        int parallelism();

        /** How many batches the process runs at once. */
        int concurrency();

        /** The service's secret token; it goes into the environment, never the command line. */
        String token();

        /**
         * The server options as {@code [name, value, ...]} by their native names, the bind address
         * resolved, without the token and the methods.
         */
        String[] serverOptions();
    }

    private final String instance;
    private final PythonService python;
    private final Steps steps;
    private final Logger output;
    private final Thread thread;
    private final CompletableFuture<PythonInstance> started = new CompletableFuture<>();
    private final CompletableFuture<Void> stoppedOnError = new CompletableFuture<>();
    @Nullable private volatile Throwable fatalError;

    /** Set before {@link #started} completes. */
    private volatile int port;

    private volatile PythonStats stats;

    @GuardedBy("this")
    private boolean closed;

    @GuardedBy("this")
    @Nullable
    private GpuAllocator.Lease gpus;

    @GuardedBy("this")
    @Nullable
    private Path directory;

    @GuardedBy("this")
    @Nullable
    private PythonProcess process;

    /**
     * @param instance the instance's name, {@code <service>-<index>}
     * @param output where the process's standard output and error go
     */
    PythonInstance(String instance, PythonService python, Steps steps, Logger output) {
        this.instance = instance;
        this.python = python;
        this.steps = steps;
        this.output = output;
        this.thread = new Thread(this::run, "ros-svc-" + instance + "-python");
        thread.setDaemon(true);
    }

    @Override
    public void start() {
        thread.start();
    }

    @Override
    public CompletableFuture<PythonInstance> started() {
        return started;
    }

    private String description() {
        return "the Python process of RpcOperator service '"
                + steps.serviceName()
                + "' instance "
                + steps.instanceIndex();
    }

    private void run() {
        try {
            GpuAllocator.Lease lease = steps.claimGpus();
            keep(state -> state.gpus = lease);
            Path files =
                    Files.createTempDirectory(
                            Paths.get(System.getProperty("java.io.tmpdir")),
                            "flinkros-" + instance + "-");
            keep(state -> state.directory = files);
            Path readyFile = files.resolve(READY_FILE);
            Path statsFile = files.resolve(STATS_FILE);
            String executable = steps.executable();
            List<String> command =
                    command(
                            executable,
                            python.serviceClass(),
                            readyFile,
                            statsFile,
                            steps.concurrency(),
                            steps.serverOptions());
            Map<String, String> environment =
                    environment(
                            System.getenv(),
                            python,
                            steps.serviceName(),
                            steps.instanceIndex(),
                            steps.parallelism(),
                            steps.token(),
                            lease.indices());
            PythonProcess launched = launch(command, environment, executable);
            keep(state -> state.process = launched);
            LOG.info(
                    "RpcOperator service '{}' instance {}: launched Python process {} ({}); its"
                            + " output goes to the logger {}",
                    steps.serviceName(),
                    steps.instanceIndex(),
                    launched.pid(),
                    String.join(" ", command),
                    output.getName());
            Properties ready = awaitReady(launched, readyFile);
            port = readyPort(launched, ready);
            stats = new PythonStats(statsFile, launched.description(), PythonStats.INTERVAL);
            synchronized (this) {
                if (closed) {
                    throw new InterruptedException("instance " + instance + " closed");
                }
            }
            LOG.info(
                    "RpcOperator service '{}' instance {}: Python process {} serves {} on port {}",
                    steps.serviceName(),
                    steps.instanceIndex(),
                    launched.pid(),
                    ready.getProperty("methods", "its methods"),
                    port);
            launched.exited().whenComplete((code, error) -> onExit(launched, code));
            started.complete(this);
        } catch (Throwable t) {
            releaseQuietly();
            started.completeExceptionally(t);
        }
    }

    private PythonProcess launch(
            List<String> command, Map<String, String> environment, String executable) {
        File directory = python.workingDirectory().map(File::new).orElse(null);
        try {
            return PythonProcess.start(
                    command,
                    environment,
                    directory,
                    description(),
                    output,
                    "ros-svc-" + instance + "-python");
        } catch (IOException e) {
            throw new FlinkRuntimeException(
                    "cannot launch "
                            + description()
                            + " with the interpreter '"
                            + executable
                            + "'"
                            + (directory == null ? "" : " in " + directory)
                            + ": "
                            + e.getMessage()
                            + ". Name an interpreter that has the flinkros package with"
                            + " PythonService.Builder#executable or Flink's option '"
                            + PythonService.EXECUTABLE_OPTION
                            + "'",
                    e);
        }
    }

    /**
     * Waits for the ready file: the process wrote it (renamed into place, so it is complete),
     * exited without it, or took longer than its startup timeout.
     */
    private Properties awaitReady(PythonProcess launched, Path readyFile)
            throws InterruptedException {
        Duration timeout = python.startupTimeout();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (Files.exists(readyFile)) {
                return readReady(launched, readyFile);
            }
            try {
                int code = launched.exited().get(POLL_MILLIS, TimeUnit.MILLISECONDS);
                if (Files.exists(readyFile)) {
                    // It served and exited at once: a start, whose failure follows.
                    return readReady(launched, readyFile);
                }
                throw new FlinkRuntimeException(
                        withStderr(
                                launched,
                                launched.description()
                                        + " exited with code "
                                        + code
                                        + " before it served"));
            } catch (TimeoutException stillStarting) {
                // Look again.
            } catch (ExecutionException e) {
                throw new FlinkRuntimeException(launched.description() + " was lost", e);
            }
            if (System.nanoTime() - deadline > 0) {
                throw new FlinkRuntimeException(
                        withStderr(
                                launched,
                                launched.description()
                                        + " did not serve within its startup timeout of "
                                        + timeout
                                        + " (PythonService.Builder#startupTimeout)"));
            }
        }
    }

    private static Properties readReady(PythonProcess launched, Path readyFile) {
        try (Reader reader = Files.newBufferedReader(readyFile, StandardCharsets.UTF_8)) {
            Properties ready = new Properties();
            ready.load(reader);
            return ready;
        } catch (IOException | IllegalArgumentException e) {
            throw new FlinkRuntimeException(
                    launched.description()
                            + " wrote a ready file that cannot be read ("
                            + e.getMessage()
                            + "); its flinkros package does not match this flink-ros jar",
                    e);
        }
    }

    private static int readyPort(PythonProcess launched, Properties ready) {
        int port;
        try {
            port = Integer.parseInt(ready.getProperty("port", ""));
        } catch (NumberFormatException e) {
            port = 0;
        }
        if (port < 1 || port > 65535) {
            throw new FlinkRuntimeException(
                    launched.description()
                            + " wrote a ready file without a valid port: "
                            + ready
                            + "; its flinkros package does not match this flink-ros jar");
        }
        return port;
    }

    private void onExit(PythonProcess exited, @Nullable Integer code) {
        if (exited.stopping()) {
            return;
        }
        fatalError =
                new FlinkRuntimeException(
                        withStderr(
                                exited,
                                exited.description()
                                        + " exited with code "
                                        + code
                                        + " while it served"));
        // The reader fails the task with it at once, which logs it.
        stoppedOnError.complete(null);
    }

    /** {@code what}, with the last lines the process wrote to standard error. */
    private static String withStderr(PythonProcess process, String what) {
        List<String> tail = process.stderrTail();
        StringBuilder message = new StringBuilder(what);
        if (tail.isEmpty()) {
            return message.append("; it wrote nothing to stderr").toString();
        }
        message.append(". The last lines it wrote to stderr:");
        boolean noPackage = false;
        for (String line : tail) {
            message.append("\n    ")
                    .append(
                            line.length() > QUOTED_LINE_CHARS
                                    ? line.substring(0, QUOTED_LINE_CHARS) + "..."
                                    : line);
            noPackage |=
                    line.contains("No module named 'flinkros'")
                            || line.contains("No module named flinkros");
        }
        if (noPackage) {
            message.append(
                    "\nThe interpreter has no flinkros package: install it for that interpreter,"
                            + " or name one that has it with PythonService.Builder#executable or"
                            + " Flink's option '"
                            + PythonService.EXECUTABLE_OPTION
                            + "'");
        }
        return message.toString();
    }

    /** The command line: no secret in it, since other users of the host can read it. */
    static List<String> command(
            String executable,
            String serviceClass,
            Path readyFile,
            Path statsFile,
            int concurrency,
            String[] serverOptions) {
        List<String> command =
                new ArrayList<>(
                        Arrays.asList(
                                executable,
                                "-m",
                                HOST_MODULE,
                                "--service",
                                serviceClass,
                                "--ready-file",
                                readyFile.toString(),
                                "--stats-file",
                                statsFile.toString(),
                                "--concurrency",
                                Integer.toString(concurrency)));
        for (int i = 0; i + 1 < serverOptions.length; i += 2) {
            if (serverOptions[i].equals("token")) {
                throw new IllegalArgumentException("the token must not be on the command line");
            }
            command.add("--option");
            command.add(serverOptions[i] + "=" + serverOptions[i + 1]);
        }
        return command;
    }

    /**
     * The process's environment: the TaskManager's ({@code inherited}), the service's own
     * variables, its Python path in front of {@code PYTHONPATH}, and what the instance sets itself.
     */
    static Map<String, String> environment(
            Map<String, String> inherited,
            PythonService python,
            String serviceName,
            int instanceIndex,
            int parallelism,
            String token,
            int[] gpus) {
        Map<String, String> environment = new LinkedHashMap<>(inherited);
        environment.putAll(python.environment());
        if (!python.pythonPath().isEmpty()) {
            List<String> path = new ArrayList<>(python.pythonPath());
            String existing = environment.get("PYTHONPATH");
            if (existing != null && !existing.isEmpty()) {
                path.add(existing);
            }
            environment.put("PYTHONPATH", String.join(File.pathSeparator, path));
        }
        environment.put("PYTHONUNBUFFERED", "1");
        environment.put("FLINKROS_TOKEN", token);
        environment.put("FLINKROS_SERVICE", serviceName);
        environment.put("FLINKROS_INSTANCE_INDEX", Integer.toString(instanceIndex));
        environment.put("FLINKROS_PARALLELISM", Integer.toString(parallelism));
        String devices =
                Arrays.stream(gpus).mapToObj(Integer::toString).collect(Collectors.joining(","));
        environment.put("FLINKROS_GPUS", devices);
        if (gpus.length > 0) {
            environment.put("CUDA_VISIBLE_DEVICES", devices);
        }
        return environment;
    }

    // ServingInstance

    @Override
    public int port() {
        return port;
    }

    @Override
    public RosServerStats stats() {
        return stats.get();
    }

    @Override
    public Histogram batchSizes() {
        return stats.batchSizes();
    }

    @Override
    public CompletableFuture<Void> stoppedOnError() {
        return stoppedOnError;
    }

    @Nullable
    @Override
    public Throwable fatalError() {
        return fatalError;
    }

    // Lifecycle

    private interface Change {
        void apply(PythonInstance state);
    }

    /** Records a resource taken, or gives up at once if the instance was closed meanwhile. */
    private synchronized void keep(Change change) throws InterruptedException {
        change.apply(this);
        if (closed) {
            throw new InterruptedException("instance " + instance + " closed");
        }
    }

    /**
     * Stops the process, or the start in progress, gives the GPUs back and deletes the instance's
     * files. Returns within the service's stop timeout and a few seconds more.
     */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
        }
        if (!started.isDone()) {
            thread.interrupt();
        }
        release();
        try {
            thread.join(python.stopTimeout().plus(PythonProcess.KILL_WAIT).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void releaseQuietly() {
        try {
            release();
        } catch (RuntimeException e) {
            LOG.warn("Releasing RpcOperator instance {} failed", instance, e);
        }
    }

    private void release() {
        PythonProcess running;
        GpuAllocator.Lease lease;
        Path files;
        synchronized (this) {
            running = process;
            lease = gpus;
            files = directory;
            process = null;
            gpus = null;
            directory = null;
        }
        try {
            if (running != null) {
                running.stop(python.stopTimeout());
            }
        } finally {
            if (lease != null) {
                lease.close();
            }
            if (files != null) {
                deleteQuietly(files);
            }
        }
    }

    private static void deleteQuietly(Path directory) {
        try (Stream<Path> files = Files.walk(directory)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).collect(Collectors.toList())) {
                Files.deleteIfExists(file);
            }
        } catch (IOException | UncheckedIOException e) {
            LOG.debug("Cannot delete {}", directory, e);
        }
    }

    @Override
    public String toString() {
        return "PythonInstance{" + instance + ", " + python + '}';
    }
}
