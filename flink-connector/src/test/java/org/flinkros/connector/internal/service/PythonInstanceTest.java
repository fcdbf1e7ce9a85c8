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

import org.flinkros.client.RosServerOptions;
import org.flinkros.client.ServiceTokens;
import org.flinkros.connector.PythonService;
import org.flinkros.connector.RosDescriptor;
import org.flinkros.connector.testing.Clusters;
import org.flinkros.connector.testing.LogCapture;
import org.flinkros.connector.testing.Python;

import org.apache.flink.api.connector.source.SourceEvent;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.io.InputStatus;
import org.apache.flink.metrics.groups.SourceReaderMetricGroup;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.type.TypeReference;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.util.FlinkRuntimeException;
import org.apache.flink.util.SimpleUserCodeClassLoader;
import org.apache.flink.util.UserCodeClassLoader;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A Python service's instance, through its source reader as a task runs it, with a stand-in for
 * {@code python -m flinkros.host} (standard library only, under {@code
 * src/test/resources/python/standin}) that keeps the host's process contract and misbehaves on
 * request: the ready file publishes the endpoint; an exit before it is a failed start, with the
 * exit code and standard error in the message; an exit after it fails the instance; closing stops
 * the process, never hangs and leaves none behind; the process's output reaches the log.
 */
class PythonInstanceTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir Path directory;

    private String python;
    private Path standin;
    private Path record;
    private final List<RosServiceReader> readers = new ArrayList<>();

    @BeforeEach
    void copyTheStandIn() throws IOException {
        python = Python.plain();
        standin = directory.resolve("standin");
        Files.createDirectories(standin.resolve("flinkros"));
        for (String file : new String[] {"__init__.py", "host.py"}) {
            try (InputStream in =
                    PythonInstanceTest.class.getResourceAsStream(
                            "/python/standin/flinkros/" + file)) {
                Files.copy(in, standin.resolve("flinkros").resolve(file));
            }
        }
        record = directory.resolve("record.json");
    }

    @AfterEach
    void closeReaders() throws Exception {
        for (RosServiceReader reader : readers) {
            reader.close();
        }
    }

    /** A Python service run by the stand-in in {@code mode}. */
    private PythonService.Builder service(String mode) {
        return PythonService.builder("standin_models:SquareModel")
                .executable(python)
                .pythonPath(standin.toString())
                .environment("STANDIN_MODE", mode)
                .environment("STANDIN_RECORD", record.toString());
    }

    /** A task's view of instance {@code index}: the events it sends to the enumerator. */
    private static final class Context implements SourceReaderContext {
        final BlockingQueue<SourceEvent> sent = new LinkedBlockingQueue<>();
        final int index;
        final Configuration configuration;

        Context(int index, Configuration configuration) {
            this.index = index;
            this.configuration = configuration;
        }

        @Override
        public SourceReaderMetricGroup metricGroup() {
            return UnregisteredMetricsGroup.createSourceReaderMetricGroup();
        }

        @Override
        public Configuration getConfiguration() {
            return configuration;
        }

        @Override
        public String getLocalHostName() {
            return "127.0.0.1";
        }

        @Override
        public int getIndexOfSubtask() {
            return index;
        }

        @Override
        public void sendSplitRequest() {}

        @Override
        public void sendSourceEventToCoordinator(SourceEvent sourceEvent) {
            sent.add(sourceEvent);
        }

        @Override
        public UserCodeClassLoader getUserCodeClassLoader() {
            return SimpleUserCodeClassLoader.create(PythonInstanceTest.class.getClassLoader());
        }
    }

    private RosServiceReader start(Context context, RosDescriptor descriptor, String token) {
        RosServiceReader reader = new RosServiceReader(context, descriptor, token);
        readers.add(reader);
        reader.start();
        return reader;
    }

    /**
     * Runs the reader as its task does (poll when available) until it sends an event of {@code
     * type}; fails if it throws first or nothing comes within {@link #WAIT}.
     */
    private static <E extends SourceEvent> E awaitEvent(
            RosServiceReader reader, Context context, Class<E> type) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            for (SourceEvent event : context.sent) {
                if (type.isInstance(event)) {
                    return type.cast(event);
                }
            }
            reader.isAvailable().get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            assertThat(reader.pollNext(null)).isEqualTo(InputStatus.NOTHING_AVAILABLE);
        }
        throw new AssertionError("no " + type.getSimpleName() + " within " + WAIT);
    }

    /** Runs the reader as its task does until it throws, and returns what it threw. */
    private static RuntimeException awaitFailure(RosServiceReader reader) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                reader.pollNext(null);
            } catch (RuntimeException e) {
                return e;
            }
            reader.isAvailable().get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        }
        throw new AssertionError("the reader did not fail within " + WAIT);
    }

    /** What the stand-in recorded about itself, once it has. */
    private Map<String, Object> recorded() throws Exception {
        Clusters.eventually(WAIT, "the stand-in recorded itself", () -> Files.exists(record));
        return new ObjectMapper()
                .readValue(record.toFile(), new TypeReference<Map<String, Object>>() {});
    }

    private long recordedPid() throws Exception {
        return ((Number) recorded().get("pid")).longValue();
    }

    private static boolean alive(long pid) {
        Optional<ProcessHandle> process = ProcessHandle.of(pid);
        return process.isPresent() && process.get().isAlive();
    }

    @Test
    void theReadyFilePublishesTheEndpointAndCloseStopsTheProcessCleanly() throws Exception {
        String token = ServiceTokens.generate();
        Context context = new Context(1, new Configuration());
        RosDescriptor descriptor =
                RosDescriptor.builder("py-ready", service("serve").build())
                        .parallelism(2)
                        .serverOptions(
                                RosServerOptions.builder()
                                        .queueCapacity(77)
                                        .batching("square", 16, Duration.ofMillis(2))
                                        .build())
                        .build();
        try (LogCapture logs = LogCapture.of(PythonInstance.LOGGER_PREFIX + "py-ready")) {
            RosServiceReader reader = start(context, descriptor, token);
            ServiceEvents.InstanceStarted started =
                    awaitEvent(reader, context, ServiceEvents.InstanceStarted.class);
            assertThat(started.host).isEqualTo("127.0.0.1");
            assertThat(started.port).as("the port of the ready file").isEqualTo(4242);

            Map<String, Object> recorded = recorded();
            @SuppressWarnings("unchecked")
            List<String> argv = (List<String>) recorded.get("argv");
            assertThat(argv)
                    .containsSequence("--service", "standin_models:SquareModel")
                    .contains("--ready-file", "--stats-file")
                    .containsSequence("--option", "bindHost=127.0.0.1")
                    .containsSequence("--option", "port=0")
                    .containsSequence("--option", "queueCapacity=77")
                    .containsSequence("--option", "maxBatchSize@square=16")
                    .containsSequence("--option", "maxBatchDelayMicros@square=2000");
            assertThat(String.join(" ", argv))
                    .as("the token is never on the command line")
                    .doesNotContain(token)
                    .doesNotContain("token");
            @SuppressWarnings("unchecked")
            Map<String, String> env = (Map<String, String>) recorded.get("env");
            assertThat(env)
                    .containsEntry("FLINKROS_TOKEN", token)
                    .containsEntry("FLINKROS_SERVICE", "py-ready")
                    .containsEntry("FLINKROS_INSTANCE_INDEX", "1")
                    .containsEntry("FLINKROS_PARALLELISM", "2")
                    .containsEntry("FLINKROS_GPUS", "")
                    .containsEntry("PYTHONUNBUFFERED", "1");
            assertThat(env.get("PYTHONPATH")).startsWith(standin.toString());

            String logger = PythonInstance.LOGGER_PREFIX + "py-ready.1";
            Clusters.eventually(
                    WAIT,
                    "the process's output in the log",
                    () ->
                            logs.lines()
                                    .containsAll(
                                            List.of(
                                                    "INFO "
                                                            + logger
                                                            + " hello from stdout of"
                                                            + " standin_models:SquareModel",
                                                    "INFO "
                                                            + logger
                                                            + " INFO flinkros.host: loading"
                                                            + " standin_models:SquareModel",
                                                    "WARN " + logger + " a plain line on stderr")));

            long pid = recordedPid();
            assertThat(alive(pid)).isTrue();
            reader.close();
            assertThat(alive(pid)).as("the process is gone once close returns").isFalse();
            assertThat(Files.readAllLines(Path.of(record + ".stopped")))
                    .as("it stopped cleanly, on the end of its input")
                    .containsExactly("stopped");
        }
    }

    @Test
    void anExitBeforeTheReadyFileIsAFailedStartWithTheExitCodeAndStandardError() throws Exception {
        Context context = new Context(0, new Configuration());
        RosDescriptor descriptor =
                RosDescriptor.builder("py-broken", service("exit-before-ready").build()).build();
        RosServiceReader reader = start(context, descriptor, ServiceTokens.generate());

        ServiceEvents.OpenFailed failed =
                awaitEvent(reader, context, ServiceEvents.OpenFailed.class);
        assertThat(failed.cause)
                .contains("the Python process of RpcOperator service 'py-broken' instance 0")
                .contains("exited with code 3 before it served")
                .contains("ModelLoadError: no weights at /models/square");
        assertThat(context.sent).noneMatch(event -> event instanceof ServiceEvents.InstanceStarted);

        // The enumerator's verdict decides how the task fails, as for a Java open() that throws.
        reader.handleSourceEvents(new ServiceEvents.OpenVerdict(false, 1, 3));
        RuntimeException failure = awaitFailure(reader);
        assertThat(failure)
                .isInstanceOf(FlinkRuntimeException.class)
                .hasMessageContaining("instance 0 failed to start (1 of at most 3");
        assertThat(failure.getCause())
                .hasMessageContaining("exited with code 3")
                .hasMessageContaining("Traceback (most recent call last):");
    }

    @Test
    void anExitAfterTheReadyFileFailsTheInstance() throws Exception {
        Context context = new Context(0, new Configuration());
        RosDescriptor descriptor =
                RosDescriptor.builder("py-crash", service("exit-after-ready").build()).build();
        RosServiceReader reader = start(context, descriptor, ServiceTokens.generate());

        // It may exit before the reader announces it; the reader announces it and fails then.
        RuntimeException failure = awaitFailure(reader);
        assertThat(failure).hasMessage("RpcOperator service 'py-crash' instance 0 failed");
        assertThat(failure.getCause())
                .hasMessageContaining("exited with code 7 while it served")
                .hasMessageContaining("fatal: the model crashed");
        assertThat(context.sent)
                .anyMatch(event -> event instanceof ServiceEvents.InstanceStarted)
                .noneMatch(event -> event instanceof ServiceEvents.OpenFailed);
    }

    @Test
    void aKilledProcessFailsTheInstance() throws Exception {
        Context context = new Context(0, new Configuration());
        RosDescriptor descriptor =
                RosDescriptor.builder("py-killed", service("serve").build()).build();
        RosServiceReader reader = start(context, descriptor, ServiceTokens.generate());
        awaitEvent(reader, context, ServiceEvents.InstanceStarted.class);

        ProcessHandle.of(recordedPid()).ifPresent(ProcessHandle::destroyForcibly);
        RuntimeException failure = awaitFailure(reader);
        assertThat(failure).hasMessage("RpcOperator service 'py-killed' instance 0 failed");
        assertThat(failure.getCause()).hasMessageContaining("exited with code 137 while it served");
    }

    @Test
    void closeKillsAProcessThatIgnoresItsInputAndSigtermWithinTheStopTimeout() throws Exception {
        Context context = new Context(0, new Configuration());
        RosDescriptor descriptor =
                RosDescriptor.builder(
                                "py-stubborn",
                                service("stubborn").stopTimeout(Duration.ofMillis(600)).build())
                        .build();
        RosServiceReader reader = start(context, descriptor, ServiceTokens.generate());
        awaitEvent(reader, context, ServiceEvents.InstanceStarted.class);
        long pid = recordedPid();

        long closing = System.nanoTime();
        reader.close();
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - closing);
        assertThat(alive(pid)).as("killed").isFalse();
        assertThat(tookMillis)
                .as("close waits the stop timeout, then kills")
                .isGreaterThanOrEqualTo(600)
                .isLessThan(600 + PythonProcess.KILL_WAIT.toMillis());
    }

    @Test
    void closeDuringTheStartStopsTheProcess() throws Exception {
        Context context = new Context(0, new Configuration());
        RosDescriptor descriptor =
                RosDescriptor.builder("py-starting", service("never-ready").build()).build();
        RosServiceReader reader = start(context, descriptor, ServiceTokens.generate());
        long pid = recordedPid();
        assertThat(alive(pid)).isTrue();

        reader.close();
        assertThat(alive(pid)).isFalse();
        assertThat(context.sent).noneMatch(event -> event instanceof ServiceEvents.InstanceStarted);
    }

    @Test
    void aProcessThatIsNotReadyWithinTheStartupTimeoutFailsToStart() throws Exception {
        Context context = new Context(0, new Configuration());
        RosDescriptor descriptor =
                RosDescriptor.builder(
                                "py-slow",
                                service("never-ready")
                                        .startupTimeout(Duration.ofMillis(500))
                                        .build())
                        .build();
        RosServiceReader reader = start(context, descriptor, ServiceTokens.generate());

        ServiceEvents.OpenFailed failed =
                awaitEvent(reader, context, ServiceEvents.OpenFailed.class);
        assertThat(failed.cause)
                .contains("did not serve within its startup timeout of PT0.5S")
                .contains("INFO flinkros.host: loading");
        assertThat(alive(recordedPid())).as("the process was stopped").isFalse();
    }

    @Test
    void anInterpreterThatCannotRunIsAFailedStartNamingTheFix() throws Exception {
        Context context = new Context(0, new Configuration());
        RosDescriptor descriptor =
                RosDescriptor.builder(
                                "py-missing",
                                service("serve").executable("/nonexistent/python3").build())
                        .build();
        RosServiceReader reader = start(context, descriptor, ServiceTokens.generate());

        ServiceEvents.OpenFailed failed =
                awaitEvent(reader, context, ServiceEvents.OpenFailed.class);
        assertThat(failed.cause)
                .contains("cannot launch the Python process of RpcOperator service 'py-missing'")
                .contains("'/nonexistent/python3'")
                .contains("PythonService.Builder#executable")
                .contains("'python.executable'");
    }

    @Test
    void theTaskManagersPythonExecutableIsTheDefault() throws Exception {
        Configuration taskManager = new Configuration();
        taskManager.setString(PythonService.EXECUTABLE_OPTION, python);
        Context context = new Context(0, taskManager);
        PythonService withoutExecutable =
                PythonService.builder("standin_models:SquareModel")
                        .pythonPath(standin.toString())
                        .environment("STANDIN_RECORD", record.toString())
                        .build();
        RosServiceReader reader =
                start(
                        context,
                        RosDescriptor.builder("py-default", withoutExecutable).build(),
                        ServiceTokens.generate());
        awaitEvent(reader, context, ServiceEvents.InstanceStarted.class);
    }

    @Test
    void claimedGpusAreTheProcesssVisibleDevices() throws Exception {
        Configuration taskManager = new Configuration();
        taskManager.setString(GpuAllocator.AMOUNT_OPTION, "8");
        Context context = new Context(0, taskManager);
        RosDescriptor descriptor =
                RosDescriptor.builder("py-gpu", service("serve").build())
                        .cpuCores(1)
                        .taskHeapMemoryMb(64)
                        .gpus(2)
                        .build();
        RosServiceReader reader = start(context, descriptor, ServiceTokens.generate());
        awaitEvent(reader, context, ServiceEvents.InstanceStarted.class);

        @SuppressWarnings("unchecked")
        Map<String, String> env = (Map<String, String>) recorded().get("env");
        String gpus = env.get("FLINKROS_GPUS");
        assertThat(gpus).matches("\\d,\\d");
        assertThat(env).containsEntry("CUDA_VISIBLE_DEVICES", gpus);
    }
}
