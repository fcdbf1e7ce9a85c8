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

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.annotation.Nullable;
import javax.annotation.concurrent.GuardedBy;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A child process that hosts an instance (a Python interpreter running {@code flinkros.host}), tied
 * to the task that launched it:
 *
 * <ul>
 *   <li>its standard input stays open and unused: the process shuts down when it closes, so it
 *       never outlives the TaskManager JVM, however that ends;
 *   <li>its standard output and error go to {@code log} line by line (standard output at INFO,
 *       standard error at the level a line names, as logs write it, else WARN), read by daemon
 *       threads, each line cut at {@link #MAX_LINE_CHARS}; the last {@link #TAIL_LINES} lines of
 *       standard error are kept for error messages;
 *   <li>{@link #stop} closes its standard input, then terminates it, then kills it and whatever it
 *       started, each after a bounded wait.
 * </ul>
 */
@Internal
final class PythonProcess {
    private static final Logger LOG = LoggerFactory.getLogger(PythonProcess.class);

    /** Longer lines are cut here, so a process cannot fill the TaskManager's memory or log. */
    static final int MAX_LINE_CHARS = 8192;

    /** Lines of standard error kept for error messages. */
    static final int TAIL_LINES = 30;

    /** How long after the process exits its output may still be read before {@link #exited}. */
    static final Duration DRAIN_WAIT = Duration.ofSeconds(2);

    /** How long a killed process may take to go. */
    static final Duration KILL_WAIT = Duration.ofSeconds(5);

    /** The level a line of a log names: first, or after one field (a time). */
    private static final Pattern LEVEL =
            Pattern.compile("(?:\\S+\\s+)?(TRACE|DEBUG|INFO|WARN|WARNING|ERROR|CRITICAL)[\\s:]");

    private final Process process;
    private final String description;
    private final CompletableFuture<Integer> exited;

    @GuardedBy("tail")
    private final Deque<String> tail = new ArrayDeque<>();

    private volatile boolean stopping;

    private PythonProcess(Process process, String description, Logger log, String threadName) {
        this.process = process;
        this.description = description;
        CompletableFuture<Void> stdout =
                pump(
                        process.getInputStream(),
                        line -> log.info("{}", line),
                        threadName + "-stdout");
        CompletableFuture<Void> stderr =
                pump(
                        process.getErrorStream(),
                        line -> {
                            logStderr(log, line);
                            synchronized (tail) {
                                if (tail.size() == TAIL_LINES) {
                                    tail.removeFirst();
                                }
                                tail.addLast(line);
                            }
                        },
                        threadName + "-stderr");
        CompletableFuture<Void> drained = CompletableFuture.allOf(stdout, stderr);
        this.exited =
                process.onExit()
                        .thenCompose(
                                exitedProcess ->
                                        drained.completeOnTimeout(
                                                null, DRAIN_WAIT.toMillis(), TimeUnit.MILLISECONDS))
                        .thenApply(ignored -> process.exitValue());
    }

    /**
     * Launches {@code command} with exactly {@code environment}, in {@code directory} (null: this
     * process's).
     *
     * @param description what the process is, for messages: "the Python process of ..."
     * @param log where its output goes
     * @param threadName the prefix of its reader threads' names
     */
    static PythonProcess start(
            List<String> command,
            Map<String, String> environment,
            @Nullable File directory,
            String description,
            Logger log,
            String threadName)
            throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().clear();
        builder.environment().putAll(environment);
        if (directory != null) {
            builder.directory(directory);
        }
        return new PythonProcess(builder.start(), description, log, threadName);
    }

    /** The process's id. */
    long pid() {
        return process.pid();
    }

    /** Whether it still runs. */
    boolean isAlive() {
        return process.isAlive();
    }

    /**
     * Completes with the exit code once the process has exited and its output is read (or {@link
     * #DRAIN_WAIT} passed, if something it started holds its output open).
     */
    CompletableFuture<Integer> exited() {
        return exited;
    }

    /** Whether {@link #stop} was called: an exit from now on was asked for. */
    boolean stopping() {
        return stopping;
    }

    /** The last lines it wrote to standard error, oldest first. */
    List<String> stderrTail() {
        synchronized (tail) {
            return new ArrayList<>(tail);
        }
    }

    /** What it is, and its pid. */
    String description() {
        return description + " (pid " + process.pid() + ")";
    }

    /**
     * Stops the process: closes its standard input (it shuts down cleanly), terminates it (SIGTERM)
     * if it still runs after half of {@code timeout}, and kills it and the processes it started if
     * it still runs after {@code timeout}. Returns within {@code timeout} plus {@link #KILL_WAIT};
     * an interrupt kills at once. Idempotent.
     */
    void stop(Duration timeout) {
        stopping = true;
        List<ProcessHandle> started = process.descendants().collect(Collectors.toList());
        try {
            process.getOutputStream().close();
        } catch (IOException ignored) {
            // Closed already, or the process is gone: either way it sees the end of its input.
        }
        long half = Math.max(1, timeout.toMillis() / 2);
        try {
            if (!process.waitFor(half, TimeUnit.MILLISECONDS)) {
                LOG.warn(
                        "{} is still running {} ms after its input closed; terminating it",
                        description(),
                        half);
                process.destroy();
                if (!process.waitFor(timeout.toMillis() - half, TimeUnit.MILLISECONDS)) {
                    LOG.warn(
                            "{} is still running {} after it was asked to stop; killing it",
                            description(),
                            timeout);
                    kill(started);
                    if (!process.waitFor(KILL_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                        LOG.error(
                                "{} did not go within {} of being killed",
                                description(),
                                KILL_WAIT);
                    }
                }
            }
        } catch (InterruptedException e) {
            LOG.warn("Stopping {} was interrupted; killing it", description());
            kill(started);
            Thread.currentThread().interrupt();
            return;
        }
        // What the process started and left behind would otherwise outlive it.
        for (ProcessHandle child : started) {
            if (child.isAlive()) {
                LOG.warn(
                        "Process {} started by {} outlived it; killing it",
                        child.pid(),
                        description());
                child.destroyForcibly();
            }
        }
    }

    private void kill(List<ProcessHandle> started) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        started.forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
    }

    /**
     * Logs a line of standard error at the level it names first, as Python's logging ({@code INFO
     * name: message}) and the native runtime ({@code <time> INFO message}) write them: {@code
     * TRACE}/{@code DEBUG} at DEBUG, {@code INFO} at INFO, {@code WARN}/{@code WARNING} at WARN,
     * {@code ERROR}/{@code CRITICAL} at ERROR; any other line (a traceback, a print) at WARN.
     */
    static void logStderr(Logger log, String line) {
        Matcher level = LEVEL.matcher(line);
        switch (level.lookingAt() ? level.group(1) : "WARN") {
            case "TRACE":
            case "DEBUG":
                log.debug("{}", line);
                break;
            case "INFO":
                log.info("{}", line);
                break;
            case "ERROR":
            case "CRITICAL":
                log.error("{}", line);
                break;
            default:
                log.warn("{}", line);
        }
    }

    /** Reads lines from {@code in} on a daemon thread until its end, which completes the result. */
    private static CompletableFuture<Void> pump(
            InputStream in, Consumer<String> lines, String threadName) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread thread =
                new Thread(
                        () -> {
                            try (Reader reader =
                                    new InputStreamReader(in, StandardCharsets.UTF_8)) {
                                readLines(reader, lines);
                            } catch (IOException | RuntimeException e) {
                                LOG.debug("Reading {} stopped", threadName, e);
                            } finally {
                                done.complete(null);
                            }
                        },
                        threadName);
        thread.setDaemon(true);
        thread.start();
        return done;
    }

    /**
     * Hands each line of {@code reader} to {@code lines}, without its line end; a line longer than
     * {@link #MAX_LINE_CHARS} is cut there and says how much was left out.
     */
    static void readLines(Reader reader, Consumer<String> lines) throws IOException {
        char[] buffer = new char[4096];
        StringBuilder line = new StringBuilder();
        long dropped = 0;
        int read;
        while ((read = reader.read(buffer)) >= 0) {
            for (int i = 0; i < read; i++) {
                char c = buffer[i];
                if (c == '\n') {
                    lines.accept(finish(line, dropped));
                    line.setLength(0);
                    dropped = 0;
                } else if (line.length() < MAX_LINE_CHARS) {
                    line.append(c);
                } else {
                    dropped++;
                }
            }
        }
        if (line.length() > 0 || dropped > 0) {
            lines.accept(finish(line, dropped));
        }
    }

    private static String finish(StringBuilder line, long dropped) {
        int end = line.length();
        if (dropped == 0 && end > 0 && line.charAt(end - 1) == '\r') {
            end--;
        }
        String text = line.substring(0, end);
        return dropped == 0 ? text : text + "... (" + dropped + " more characters)";
    }
}
