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

import org.flinkros.client.ServiceTokens;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.ParameterTool;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Runs a service as its own long-running job, which other jobs of the cluster call by name: a
 * shared service. SQL jobs reach it through {@code ML_PREDICT} with {@code 'discovery' =
 * 'cluster'}; any job or program can find its instances through the cluster's REST API.
 *
 * <p>From the command line, with the service's class in the jar:
 *
 * <pre>{@code
 * flink run -d -c org.flinkros.connector.RosServe my-models.jar \
 *     --name sentiment --operator com.acme.SentimentModel --parallelism 2 \
 *     --token-file /secrets/sentiment.token
 * }</pre>
 *
 * <p>The job is named {@code ros-serve: <name>}; callers find it by that name, so one cluster runs
 * at most one shared service of a name. Unlike a per-job service, it runs until it is cancelled,
 * restarts on its own (its instances fail and restart as usual), and its callers come and go. Its
 * token is read from the token file, or made and written there (readable by its owner only) if the
 * file does not exist: only jobs given that file can call the service.
 */
@PublicEvolving
public final class RosServe {
    /** The prefix of a shared service's job name; the service's name follows it. */
    public static final String JOB_NAME_PREFIX = "ros-serve: ";

    private RosServe() {}

    /** The name of the job that runs the shared service {@code serviceName}. */
    public static String jobName(String serviceName) {
        return JOB_NAME_PREFIX + serviceName;
    }

    /**
     * Adds the service to {@code env} as a shared service whose callers hold {@code token}. Run the
     * environment with {@code env.execute(RosServe.jobName(name))}, or use {@link #start}.
     */
    public static RosService add(
            StreamExecutionEnvironment env, RosDescriptor descriptor, String token) {
        return RosServices.add(env, descriptor, ServiceTokens.validate(token), true);
    }

    /** Adds the service to {@code env} and submits the job without waiting for it to end. */
    public static JobClient start(
            StreamExecutionEnvironment env, RosDescriptor descriptor, String token)
            throws Exception {
        add(env, descriptor, token);
        return env.executeAsync(jobName(descriptor.name()));
    }

    /**
     * The token in {@code file}; if the file does not exist, a new token written there, readable by
     * its owner only.
     */
    public static String tokenFrom(Path file) throws IOException {
        if (!Files.exists(file)) {
            String token = ServiceTokens.generate();
            try {
                Files.createFile(
                        file,
                        PosixFilePermissions.asFileAttribute(
                                PosixFilePermissions.fromString("rw-------")));
                Files.write(file, token.getBytes(StandardCharsets.UTF_8));
                return token;
            } catch (FileAlreadyExistsException raced) {
                // Another caller made it first: read theirs.
            } catch (UnsupportedOperationException notPosix) {
                Files.write(file, token.getBytes(StandardCharsets.UTF_8));
                return token;
            }
        }
        String token = new String(Files.readAllBytes(file), StandardCharsets.UTF_8).trim();
        try {
            return ServiceTokens.validate(token);
        } catch (IllegalArgumentException e) {
            throw new IOException("token file " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * The token in {@code file}, which must exist: what callers of a shared service read.
     *
     * @throws IOException if the file does not exist or holds no valid token
     */
    public static String readToken(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException(
                    "token file "
                            + file
                            + " does not exist: give callers of a shared service the token file"
                            + " its RosServe job was started with");
        }
        return tokenFrom(file);
    }

    /**
     * Runs a shared service: {@code --name <service> --operator <RpcOperator class with a public
     * no-argument constructor> --token-file <file>}, and optionally {@code --parallelism}, {@code
     * --cpu-cores}, {@code --task-heap-mb} and {@code --gpus}.
     */
    public static void main(String[] args) throws Exception {
        ParameterTool params = ParameterTool.fromArgs(args);
        String name = required(params, "name");
        String operatorClass = required(params, "operator");
        Path tokenFile = Paths.get(required(params, "token-file"));
        RpcOperator operator;
        try {
            operator =
                    Class.forName(
                                    operatorClass,
                                    true,
                                    Thread.currentThread().getContextClassLoader())
                            .asSubclass(RpcOperator.class)
                            .getDeclaredConstructor()
                            .newInstance();
        } catch (ReflectiveOperationException | ClassCastException e) {
            throw new IllegalArgumentException(
                    "--operator "
                            + operatorClass
                            + " must name an RpcOperator class with a public no-argument"
                            + " constructor in the job's jar: "
                            + e,
                    e);
        }
        RosDescriptor.Builder descriptor =
                RosDescriptor.builder(name, operator).parallelism(params.getInt("parallelism", 1));
        if (params.has("cpu-cores")) {
            descriptor.cpuCores(params.getDouble("cpu-cores"));
        }
        if (params.has("task-heap-mb")) {
            descriptor.taskHeapMemoryMb(params.getInt("task-heap-mb"));
        }
        if (params.has("gpus")) {
            descriptor.gpus(params.getInt("gpus"));
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        add(env, descriptor.build(), tokenFrom(tokenFile));
        env.execute(jobName(name));
    }

    private static String required(ParameterTool params, String key) {
        if (!params.has(key) || params.get(key) == null || params.get(key).trim().isEmpty()) {
            throw new IllegalArgumentException(
                    "ros-serve needs --"
                            + key
                            + "; usage: --name <service> --operator <RpcOperator class>"
                            + " --token-file <file> [--parallelism N] [--cpu-cores C]"
                            + " [--task-heap-mb M] [--gpus G]");
        }
        return params.get(key);
    }
}
