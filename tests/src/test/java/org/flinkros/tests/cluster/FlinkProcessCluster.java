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
package org.flinkros.tests.cluster;

import org.apache.flink.api.common.JobID;
import org.apache.flink.client.deployment.StandaloneClusterId;
import org.apache.flink.client.program.rest.RestClusterClient;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.runtime.jobmaster.JobResult;
import org.apache.flink.runtime.taskexecutor.TaskManagerRunner;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A Flink session cluster of real processes on loopback: a JobManager and TaskManagers, each a
 * {@code java} process with a config directory of its own, started from a classpath without the
 * project's classes (see {@link ClusterClasspath}). Jobs are submitted over REST with their jar.
 *
 * <p>Each process writes its output to {@code <name>.out} in the work directory. {@link #close()}
 * kills every process; a shutdown hook does too if the test JVM exits first.
 */
public final class FlinkProcessCluster implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FlinkProcessCluster.class);
    private static final String LOOPBACK = "127.0.0.1";
    private static final String JOB_MANAGER = "jobmanager";

    /** Starts of a cluster whose JobManager found a port taken, before the test fails. */
    private static final int START_ATTEMPTS = 3;

    // TaskManager memory in MiB. Starting TaskManagerRunner directly skips the start scripts that
    // derive these, so every component is set, and the JVM flags follow from them.
    private static final int FRAMEWORK_HEAP_MB = 128;
    private static final int TASK_HEAP_MB = 256;
    private static final int FRAMEWORK_OFF_HEAP_MB = 128;
    private static final int TASK_OFF_HEAP_MB = 64;
    private static final int MANAGED_MB = 64;
    private static final int NETWORK_MB = 64;
    private static final int METASPACE_MB = 256;
    private static final int OVERHEAD_MB = 192;
    private static final int TASK_MANAGER_CPU_CORES = 2;
    private static final int SLOTS_PER_TASK_MANAGER = 2;
    private static final int JOB_MANAGER_HEAP_MB = 512;

    /** What Flink's distribution passes on Java 17 (env.java.opts.all), for its reflection. */
    private static final List<String> JAVA_17_OPTIONS =
            Arrays.asList(
                    "--add-exports=java.base/sun.net.util=ALL-UNNAMED",
                    "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
                    "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
                    "--add-opens=java.base/java.lang=ALL-UNNAMED",
                    "--add-opens=java.base/java.net=ALL-UNNAMED",
                    "--add-opens=java.base/java.io=ALL-UNNAMED",
                    "--add-opens=java.base/java.nio=ALL-UNNAMED",
                    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
                    "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
                    "--add-opens=java.base/java.text=ALL-UNNAMED",
                    "--add-opens=java.base/java.time=ALL-UNNAMED",
                    "--add-opens=java.base/java.util=ALL-UNNAMED",
                    "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
                    "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
                    "--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED");

    private static final String LOG4J_CONFIG =
            String.join(
                    "\n",
                    "rootLogger.level = INFO",
                    "rootLogger.appenderRef.out.ref = out",
                    "appender.out.name = out",
                    "appender.out.type = Console",
                    "appender.out.layout.type = PatternLayout",
                    "appender.out.layout.pattern = %d{HH:mm:ss,SSS} %-5p %-60c %x - %m%n",
                    "logger.pekko.name = org.apache.pekko",
                    "logger.pekko.level = WARN",
                    "logger.netty.name = org.apache.flink.shaded.netty4",
                    "logger.netty.level = WARN",
                    // The FileSink's committer re-registers a metric at every checkpoint.
                    "logger.metrics.name = org.apache.flink.metrics.MetricGroup",
                    "logger.metrics.level = ERROR",
                    "");

    private final Path workDir;
    private final String classpath;
    private final Map<String, String> config;
    private final int restPort;
    private final FlinkRest rest;
    private final Map<String, Process> processes = new LinkedHashMap<>();
    private final Set<String> killed = new HashSet<>();
    private final Thread shutdownHook = new Thread(this::killAll, "kill-flink-cluster");
    private RestClusterClient<StandaloneClusterId> client;

    private FlinkProcessCluster(
            Path workDir, List<Path> classpath, Map<String, String> clusterConfig)
            throws IOException {
        this.workDir = workDir;
        this.classpath =
                classpath.stream()
                        .map(Path::toString)
                        .collect(Collectors.joining(File.pathSeparator));
        int[] ports = freePorts(2);
        this.restPort = ports[0];
        this.rest = new FlinkRest(restPort);
        this.config = new LinkedHashMap<>();
        config.put("jobmanager.rpc.address", LOOPBACK);
        config.put("jobmanager.rpc.port", String.valueOf(ports[1]));
        config.put("jobmanager.bind-host", LOOPBACK);
        config.put("rest.address", LOOPBACK);
        config.put("rest.bind-address", LOOPBACK);
        config.put("rest.port", String.valueOf(restPort));
        config.put("taskmanager.host", LOOPBACK);
        config.put("taskmanager.bind-host", LOOPBACK);
        // TaskManagers start alongside the JobManager: if they find no ResourceManager yet, they
        // try again in half a second rather than the default 10 s.
        config.put("cluster.registration.error-delay", "500 ms");
        // REST answers from the job's current state, not a 3 s old copy: tests time what happens.
        config.put("rest.cache.execution-graph.timeout", "100 ms");
        config.put("rest.cache.checkpoint-statistics.timeout", "100 ms");
        config.putAll(clusterConfig);
    }

    /**
     * Starts a JobManager and {@code taskManagers} TaskManagers ({@code tm-0}, {@code tm-1}, ...),
     * and waits until all TaskManagers have registered.
     *
     * @param workDir emptied, then holds each process's config, temporary files and output
     * @param classpath the processes' classpath
     * @param clusterConfig options for every process (failover, restarts, heartbeats...)
     */
    public static FlinkProcessCluster start(
            Path workDir,
            List<Path> classpath,
            int taskManagers,
            Map<String, String> clusterConfig,
            Duration timeout)
            throws Exception {
        for (int attempt = 1; ; attempt++) {
            try {
                return startOnce(workDir, classpath, taskManagers, clusterConfig, timeout);
            } catch (Exception e) {
                // The ports are picked free here and bound later by the JobManager's JVM; another
                // process may take one in between. Only that is worth another start.
                if (attempt >= START_ATTEMPTS || !jobManagerCouldNotBind(workDir)) {
                    throw e;
                }
                LOG.warn(
                        "The JobManager could not bind a port picked for it (taken since);"
                                + " starting the cluster again on other ports");
            }
        }
    }

    private static boolean jobManagerCouldNotBind(Path workDir) throws IOException {
        Path output = workDir.resolve(JOB_MANAGER + ".out");
        return Files.exists(output)
                && new String(Files.readAllBytes(output), StandardCharsets.UTF_8)
                        .contains("java.net.BindException");
    }

    private static FlinkProcessCluster startOnce(
            Path workDir,
            List<Path> classpath,
            int taskManagers,
            Map<String, String> clusterConfig,
            Duration timeout)
            throws Exception {
        long startNanos = System.nanoTime();
        deleteRecursively(workDir);
        Files.createDirectories(workDir);
        Files.write(
                workDir.resolve("log4j.properties"), LOG4J_CONFIG.getBytes(StandardCharsets.UTF_8));
        FlinkProcessCluster cluster = new FlinkProcessCluster(workDir, classpath, clusterConfig);
        Runtime.getRuntime().addShutdownHook(cluster.shutdownHook);
        try {
            cluster.launch(
                    JOB_MANAGER,
                    StandaloneSessionClusterEntrypoint.class,
                    Map.of(),
                    Arrays.asList(
                            "-Xmx" + JOB_MANAGER_HEAP_MB + "m",
                            "-Xms" + JOB_MANAGER_HEAP_MB + "m"));
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < taskManagers; i++) {
                String id = "tm-" + i;
                ids.add(id);
                cluster.launch(
                        id, TaskManagerRunner.class, taskManagerConfig(id), taskManagerJvmFlags());
            }
            Poll.until(
                    taskManagers + " TaskManagers registered",
                    timeout,
                    () -> {
                        cluster.checkAlive();
                        return cluster.rest.taskManagerIds().containsAll(ids);
                    });
            LOG.info(
                    "JobManager and {} TaskManagers up after {} ms; their output is in {}",
                    taskManagers,
                    (System.nanoTime() - startNanos) / 1_000_000,
                    workDir);
            return cluster;
        } catch (Throwable t) {
            cluster.printLogTails(40);
            cluster.close();
            throw t;
        }
    }

    private static Map<String, String> taskManagerConfig(String resourceId) {
        Map<String, String> config = new LinkedHashMap<>();
        config.put("taskmanager.resource-id", resourceId);
        config.put("taskmanager.numberOfTaskSlots", String.valueOf(SLOTS_PER_TASK_MANAGER));
        config.put("taskmanager.cpu.cores", String.valueOf((double) TASK_MANAGER_CPU_CORES));
        config.put("taskmanager.memory.framework.heap.size", FRAMEWORK_HEAP_MB + "m");
        config.put("taskmanager.memory.task.heap.size", TASK_HEAP_MB + "m");
        config.put("taskmanager.memory.framework.off-heap.size", FRAMEWORK_OFF_HEAP_MB + "m");
        config.put("taskmanager.memory.task.off-heap.size", TASK_OFF_HEAP_MB + "m");
        config.put("taskmanager.memory.managed.size", MANAGED_MB + "m");
        config.put("taskmanager.memory.network.min", NETWORK_MB + "m");
        config.put("taskmanager.memory.network.max", NETWORK_MB + "m");
        config.put("taskmanager.memory.jvm-metaspace.size", METASPACE_MB + "m");
        config.put("taskmanager.memory.jvm-overhead.min", OVERHEAD_MB + "m");
        config.put("taskmanager.memory.jvm-overhead.max", OVERHEAD_MB + "m");
        return config;
    }

    /** The JVM flags Flink's scripts derive from the memory options above. */
    private static List<String> taskManagerJvmFlags() {
        int heap = FRAMEWORK_HEAP_MB + TASK_HEAP_MB;
        int direct = FRAMEWORK_OFF_HEAP_MB + TASK_OFF_HEAP_MB + NETWORK_MB;
        return Arrays.asList(
                "-Xmx" + heap + "m",
                "-Xms" + heap + "m",
                "-XX:MaxDirectMemorySize=" + direct + "m",
                "-XX:MaxMetaspaceSize=" + METASPACE_MB + "m");
    }

    private void launch(
            String name, Class<?> mainClass, Map<String, String> ownConfig, List<String> jvmFlags)
            throws IOException {
        Path dir = Files.createDirectories(workDir.resolve(name));
        Path tmp = Files.createDirectories(dir.resolve("tmp"));
        Path conf = Files.createDirectories(dir.resolve("conf"));
        Map<String, String> processConfig = new LinkedHashMap<>(config);
        processConfig.put("io.tmp.dirs", tmp.toString());
        processConfig.putAll(ownConfig);
        // Flink 2.x reads config.yaml; flat keys are valid YAML and quoted values stay strings.
        StringBuilder yaml = new StringBuilder();
        processConfig.forEach(
                (key, value) ->
                        yaml.append(key)
                                .append(": '")
                                .append(value.replace("'", "''"))
                                .append("'\n"));
        Files.write(conf.resolve("config.yaml"), yaml.toString().getBytes(StandardCharsets.UTF_8));

        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmFlags);
        command.addAll(JAVA_17_OPTIONS);
        command.add("-Djava.io.tmpdir=" + tmp);
        command.add("-Dlog4j.configurationFile=" + workDir.resolve("log4j.properties"));
        command.add("-classpath");
        command.add(classpath);
        command.add(mainClass.getName());
        command.add("--configDir");
        command.add(conf.toString());
        Process process =
                new ProcessBuilder(command)
                        .directory(dir.toFile())
                        .redirectErrorStream(true)
                        .redirectOutput(output(name).toFile())
                        .start();
        processes.put(name, process);
    }

    /** The file a process's stdout and stderr go to. */
    public Path output(String name) {
        return workDir.resolve(name + ".out");
    }

    /** The REST API of the JobManager. */
    public FlinkRest rest() {
        return rest;
    }

    /** The operating system's id of a process. */
    public long pid(String name) {
        return process(name).pid();
    }

    /** Submits a job over REST; its jars (see {@link JobGraph#addJar}) are uploaded with it. */
    public JobID submit(JobGraph job) throws Exception {
        return client().submitJob(job).get(1, TimeUnit.MINUTES);
    }

    /** Waits for the job to end and returns how it ended. */
    public JobResult awaitResult(JobID job, Duration timeout) throws Exception {
        return client().requestJobResult(job).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Kills a process with SIGKILL, as a crashing machine would: no shutdown of any kind. */
    public void kill(String name) throws InterruptedException {
        Process process = process(name);
        killed.add(name);
        process.destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException(name + " did not die after SIGKILL");
        }
    }

    /**
     * The options a failure test runs with: region failover, fixed-delay restarts, a lost
     * TaskManager noticed in seconds (failed heartbeat RPCs, at worst the timeout), and slots
     * spread over the TaskManagers.
     */
    public static Map<String, String> failoverConfig(int restartAttempts, String restartDelay) {
        Map<String, String> config = new LinkedHashMap<>();
        config.put("jobmanager.execution.failover-strategy", "region");
        config.put("restart-strategy.type", "fixed-delay");
        config.put("restart-strategy.fixed-delay.attempts", String.valueOf(restartAttempts));
        config.put("restart-strategy.fixed-delay.delay", restartDelay);
        config.put("heartbeat.interval", "1 s");
        config.put("heartbeat.timeout", "5 s");
        config.put("taskmanager.load-balance.mode", "SLOTS");
        return config;
    }

    /** Starts one more TaskManager and waits until it has registered with the JobManager. */
    public void addTaskManager(String id, Duration timeout) throws Exception {
        launch(id, TaskManagerRunner.class, taskManagerConfig(id), taskManagerJvmFlags());
        Poll.until(
                "TaskManager " + id + " registered",
                timeout,
                () -> {
                    checkAlive();
                    return rest.taskManagerIds().contains(id);
                });
    }

    /** Fails if a process died that the test did not kill. */
    public void checkAlive() {
        processes.forEach(
                (name, process) -> {
                    if (!process.isAlive() && !killed.contains(name)) {
                        throw new IllegalStateException(
                                name
                                        + " exited with code "
                                        + process.exitValue()
                                        + "; see "
                                        + output(name));
                    }
                });
    }

    /** Prints the last lines of every process's output, to diagnose a failed test. */
    public void printLogTails(int lines) {
        for (Map.Entry<String, Process> entry : processes.entrySet()) {
            String name = entry.getKey();
            Process process = entry.getValue();
            StringBuilder text = new StringBuilder();
            text.append("===== ")
                    .append(name)
                    .append(" (pid ")
                    .append(process.pid())
                    .append(process.isAlive() ? ", alive" : ", exited " + process.exitValue())
                    .append("), last ")
                    .append(lines)
                    .append(" lines of ")
                    .append(output(name))
                    .append(" =====\n");
            try {
                List<String> all = Files.readAllLines(output(name), StandardCharsets.UTF_8);
                all.subList(Math.max(0, all.size() - lines), all.size())
                        .forEach(line -> text.append(line).append('\n'));
            } catch (IOException e) {
                text.append("(unreadable: ").append(e).append(")\n");
            }
            System.out.print(text);
        }
    }

    @Override
    public void close() {
        if (client != null) {
            client.close();
        }
        killAll();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
            // The hook is running or will run; nothing to undo.
        }
    }

    private void killAll() {
        for (Process process : processes.values()) {
            process.destroyForcibly();
        }
        for (Process process : processes.values()) {
            try {
                process.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private RestClusterClient<StandaloneClusterId> client() throws Exception {
        if (client == null) {
            Configuration clientConfig = new Configuration();
            clientConfig.set(RestOptions.ADDRESS, LOOPBACK);
            clientConfig.set(RestOptions.PORT, restPort);
            client = new RestClusterClient<>(clientConfig, StandaloneClusterId.getInstance());
        }
        return client;
    }

    private Process process(String name) {
        Process process = processes.get(name);
        if (process == null) {
            throw new IllegalArgumentException(
                    "no process " + name + "; have " + processes.keySet());
        }
        return process;
    }

    /** {@code count} distinct free ports: all held open at once, so none is handed out twice. */
    private static int[] freePorts(int count) throws IOException {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            int[] ports = new int[count];
            for (int i = 0; i < count; i++) {
                ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(LOOPBACK));
                sockets.add(socket);
                ports[i] = socket.getLocalPort();
            }
            return ports;
        } finally {
            for (ServerSocket socket : sockets) {
                socket.close();
            }
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toArray(Path[]::new)) {
                Files.delete(path);
            }
        }
    }
}
