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
package org.flinkros.connector;

import org.apache.flink.annotation.PublicEvolving;

import javax.annotation.Nullable;

import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A service whose instances are Python processes: each instance runs {@code <python> -m
 * flinkros.host} with a class of the {@code flinkros} Python package's {@code Service} kind, which
 * loads its model in {@code open()} and serves the methods it declares. Declare one with {@link
 * RosDescriptor#builder(String, PythonService)}; callers call it exactly as a Java service, with
 * {@link RosAsyncDataStream} and the same method names and payloads.
 *
 * <pre>{@code
 * RosService squares = RosServices.add(env,
 *         RosDescriptor.builder("square", PythonService.builder("my_models:SquareModel")
 *                         .pythonPath("/opt/models")
 *                         .build())
 *                 .parallelism(2)
 *                 .build());
 * }</pre>
 *
 * <p>The Python package {@code flinkros} must be installed for the interpreter that runs the
 * instances, on every TaskManager host, together with the module of the class; {@link
 * Builder#executable} picks the interpreter. Each instance's process is tied to its task: it stops
 * when the task stops (its standard input closes, then it is terminated), also when the TaskManager
 * dies, and the task fails when the process exits, so that Flink restarts that instance alone. Its
 * standard output and error go to the TaskManager's log, under the logger {@code
 * org.flinkros.python.<service>.<instance index>}: standard output at INFO, standard error at the
 * level a line names first, as Python's logging and the runtime's log write it ({@code INFO},
 * {@code WARNING}, ...), else WARN. A process that exits before it serves fails the instance's
 * start, with its exit code and the last lines of its standard error in the message.
 *
 * <p>Immutable and serializable: the job carries it. Every builder method rejects invalid values
 * with an {@link IllegalArgumentException} that names the value.
 */
@PublicEvolving
public final class PythonService implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Flink's option for the Python interpreter of Python jobs (PyFlink's), also used here. */
    public static final String EXECUTABLE_OPTION = "python.executable";

    /** The interpreter used when neither the builder nor {@value #EXECUTABLE_OPTION} names one. */
    public static final String DEFAULT_EXECUTABLE = "python3";

    /** Environment variables the instance sets itself; they cannot be set by the service. */
    public static final String RESERVED_ENVIRONMENT_PREFIX = "FLINKROS_";

    private static final String IDENTIFIER = "[A-Za-z_][A-Za-z0-9_]*";
    private static final Pattern SERVICE_CLASS =
            Pattern.compile(
                    IDENTIFIER
                            + "(\\."
                            + IDENTIFIER
                            + ")*:"
                            + IDENTIFIER
                            + "(\\."
                            + IDENTIFIER
                            + ")*");
    private static final Pattern ENVIRONMENT_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private final String serviceClass;
    @Nullable private final String executable;
    private final Map<String, String> environment;
    @Nullable private final String workingDirectory;
    private final List<String> pythonPath;
    private final Duration startupTimeout;
    private final Duration stopTimeout;

    private PythonService(Builder builder) {
        this.serviceClass = builder.serviceClass;
        this.executable = builder.executable;
        this.environment = Collections.unmodifiableMap(new LinkedHashMap<>(builder.environment));
        this.workingDirectory = builder.workingDirectory;
        this.pythonPath = Collections.unmodifiableList(new ArrayList<>(builder.pythonPath));
        this.startupTimeout = builder.startupTimeout;
        this.stopTimeout = builder.stopTimeout;
    }

    /**
     * A Python service with the defaults: {@code PythonService.builder(serviceClass).build()}.
     *
     * @param serviceClass {@code module:Class}, e.g. {@code my_models.vision:Classifier}: the
     *     module's dotted name, a colon, and the name of its class (dotted for a nested class)
     */
    public static PythonService of(String serviceClass) {
        return builder(serviceClass).build();
    }

    /**
     * Starts a Python service.
     *
     * @param serviceClass {@code module:Class}, e.g. {@code my_models.vision:Classifier}: the
     *     module's dotted name, a colon, and the name of its class (dotted for a nested class)
     * @throws IllegalArgumentException if {@code serviceClass} is not of that form
     */
    public static Builder builder(String serviceClass) {
        return new Builder(serviceClass);
    }

    /** The class every instance serves, as {@code module:Class}. */
    public String serviceClass() {
        return serviceClass;
    }

    /**
     * The interpreter that runs the instances, if set on the builder. When not, an instance uses
     * Flink's option {@value #EXECUTABLE_OPTION} (from the job's configuration when the service is
     * added, else from its TaskManager's), and else {@value #DEFAULT_EXECUTABLE}.
     */
    public Optional<String> executable() {
        return Optional.ofNullable(executable);
    }

    /** Environment variables the instances' processes get besides the TaskManager's own. */
    public Map<String, String> environment() {
        return environment;
    }

    /** The processes' working directory, if set; else the TaskManager's. */
    public Optional<String> workingDirectory() {
        return Optional.ofNullable(workingDirectory);
    }

    /** Directories put in front of the processes' {@code PYTHONPATH}, in this order. */
    public List<String> pythonPath() {
        return pythonPath;
    }

    /**
     * How long an instance may take from launching its process to serving (the model load included)
     * before its start counts as failed.
     */
    public Duration startupTimeout() {
        return startupTimeout;
    }

    /**
     * How long a stopping instance waits for its process to shut down cleanly (it answers its
     * queued requests UNAVAILABLE, so their callers retry elsewhere, and runs the class's {@code
     * close()}) before killing it.
     */
    public Duration stopTimeout() {
        return stopTimeout;
    }

    /** This service with {@code executable}, unless it names one already. */
    PythonService withDefaultExecutable(String executable) {
        if (this.executable != null) {
            return this;
        }
        return toBuilder().executable(executable).build();
    }

    private Builder toBuilder() {
        Builder builder = new Builder(serviceClass);
        builder.executable = executable;
        builder.environment.putAll(environment);
        builder.workingDirectory = workingDirectory;
        builder.pythonPath.addAll(pythonPath);
        builder.startupTimeout = startupTimeout;
        builder.stopTimeout = stopTimeout;
        return builder;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof PythonService)) {
            return false;
        }
        PythonService that = (PythonService) o;
        return serviceClass.equals(that.serviceClass)
                && Objects.equals(executable, that.executable)
                && environment.equals(that.environment)
                && Objects.equals(workingDirectory, that.workingDirectory)
                && pythonPath.equals(that.pythonPath)
                && startupTimeout.equals(that.startupTimeout)
                && stopTimeout.equals(that.stopTimeout);
    }

    @Override
    public int hashCode() {
        return Objects.hash(
                serviceClass,
                executable,
                environment,
                workingDirectory,
                pythonPath,
                startupTimeout,
                stopTimeout);
    }

    /** Names the environment's variables but not their values, which may be secrets. */
    @Override
    public String toString() {
        return "PythonService{"
                + serviceClass
                + ", executable="
                + (executable == null ? "default" : executable)
                + ", environment="
                + environment.keySet()
                + ", workingDirectory="
                + workingDirectory
                + ", pythonPath="
                + pythonPath
                + ", startupTimeout="
                + startupTimeout
                + ", stopTimeout="
                + stopTimeout
                + '}';
    }

    /** Builder of {@link PythonService}. */
    @PublicEvolving
    public static final class Builder {
        private final String serviceClass;
        @Nullable private String executable;
        private final Map<String, String> environment = new LinkedHashMap<>();
        @Nullable private String workingDirectory;
        private final List<String> pythonPath = new ArrayList<>();
        private Duration startupTimeout = Duration.ofMinutes(10);
        private Duration stopTimeout = Duration.ofSeconds(10);

        private Builder(String serviceClass) {
            if (serviceClass == null || !SERVICE_CLASS.matcher(serviceClass.trim()).matches()) {
                throw new IllegalArgumentException(
                        "a Python service is named as 'module:Class' (the module's dotted name, a"
                                + " colon and the name of a class in it, e.g."
                                + " 'my_models.vision:Classifier'), got '"
                                + serviceClass
                                + "'");
            }
            this.serviceClass = serviceClass.trim();
        }

        /**
         * The Python interpreter: a path, or a command found on the TaskManager's {@code PATH}. Not
         * set by default: an instance uses Flink's option {@value #EXECUTABLE_OPTION} (from the
         * job's configuration when the service is added, else from its TaskManager's), and else
         * {@value #DEFAULT_EXECUTABLE}. It must have the {@code flinkros} package installed.
         */
        public Builder executable(String executable) {
            this.executable = notBlank("executable", executable);
            return this;
        }

        /**
         * Sets an environment variable of the instances' processes. Variables whose names start
         * with {@value #RESERVED_ENVIRONMENT_PREFIX} are the instance's own (its token, index,
         * GPUs); {@code PYTHONUNBUFFERED} is always 1, and {@code CUDA_VISIBLE_DEVICES} is the
         * instance's GPUs when it has any.
         */
        public Builder environment(String name, String value) {
            if (name == null || !ENVIRONMENT_NAME.matcher(name).matches()) {
                throw new IllegalArgumentException(
                        "an environment variable's name is letters, digits and '_', not starting"
                                + " with a digit; got '"
                                + name
                                + "'");
            }
            if (name.startsWith(RESERVED_ENVIRONMENT_PREFIX)) {
                throw new IllegalArgumentException(
                        "environment variable '"
                                + name
                                + "' is reserved: every name starting with "
                                + RESERVED_ENVIRONMENT_PREFIX
                                + " is set by the instance itself");
            }
            this.environment.put(name, Objects.requireNonNull(value, "value of " + name));
            return this;
        }

        /** Sets several environment variables; see {@link #environment(String, String)}. */
        public Builder environment(Map<String, String> variables) {
            variables.forEach(this::environment);
            return this;
        }

        /**
         * The processes' working directory, on the TaskManager hosts. Default: the TaskManager's
         * own.
         */
        public Builder workingDirectory(String workingDirectory) {
            this.workingDirectory = notBlank("workingDirectory", workingDirectory);
            return this;
        }

        /**
         * Adds directories (on the TaskManager hosts) to put in front of the processes' {@code
         * PYTHONPATH}, where the module of the class and its own modules can be found.
         */
        public Builder pythonPath(String... directories) {
            for (String directory : directories) {
                pythonPath.add(notBlank("pythonPath entry", directory));
            }
            return this;
        }

        /**
         * How long an instance may take from launching its process to serving, the model load
         * included; longer, and its start counts as failed (see {@link
         * RosDescriptor.Builder#maxOpenAttempts}). Default 10 minutes.
         */
        public Builder startupTimeout(Duration startupTimeout) {
            this.startupTimeout = positive("startupTimeout", startupTimeout);
            return this;
        }

        /**
         * How long a stopping instance waits for its process to shut down cleanly before it kills
         * the process. Default 10 s.
         */
        public Builder stopTimeout(Duration stopTimeout) {
            this.stopTimeout = positive("stopTimeout", stopTimeout);
            return this;
        }

        /** The Python service. */
        public PythonService build() {
            return new PythonService(this);
        }

        private static String notBlank(String name, String value) {
            if (value == null || value.trim().isEmpty()) {
                throw new IllegalArgumentException(
                        name + " must not be blank, got '" + value + "'");
            }
            return value.trim();
        }

        private static Duration positive(String name, Duration value) {
            if (value == null || value.isNegative() || value.isZero()) {
                throw new IllegalArgumentException(name + " must be positive, got " + value);
            }
            return value;
        }
    }
}
