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
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The JobManager's REST API: what the cluster runs and where, and jar submission as {@code flink
 * run} does it. Plain HTTP, so the test sees what an operator of the cluster would.
 */
public final class FlinkRest {
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    private final String baseUrl;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
    private final ObjectMapper json = new ObjectMapper();

    FlinkRest(int port) {
        this.baseUrl = "http://127.0.0.1:" + port;
    }

    /** GETs {@code path}; any answer but 200 (or no answer) is an {@link IOException}. */
    public JsonNode get(String path) throws IOException {
        return send(
                "GET " + path,
                HttpRequest.newBuilder(URI.create(baseUrl + path)).timeout(TIMEOUT).GET().build());
    }

    /**
     * Uploads a job jar, as {@code flink run} does.
     *
     * @return the jar's id for {@link #runJar}
     */
    public String uploadJar(Path jar) throws IOException {
        String boundary = "flink-ros-" + System.nanoTime();
        byte[] head =
                ("--"
                                + boundary
                                + "\r\nContent-Disposition: form-data; name=\"jarfile\"; filename=\""
                                + jar.getFileName()
                                + "\"\r\nContent-Type: application/x-java-archive\r\n\r\n")
                        .getBytes(StandardCharsets.UTF_8);
        byte[] tail = ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8);
        HttpRequest request =
                HttpRequest.newBuilder(URI.create(baseUrl + "/jars/upload"))
                        .timeout(Duration.ofMinutes(2))
                        .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                        .POST(HttpRequest.BodyPublishers.ofByteArray(concat(head, jar, tail)))
                        .build();
        String file = send("upload " + jar, request).path("filename").asText();
        return file.substring(file.lastIndexOf('/') + 1);
    }

    private static byte[] concat(byte[] head, Path file, byte[] tail) throws IOException {
        java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
        body.write(head);
        body.write(java.nio.file.Files.readAllBytes(file));
        body.write(tail);
        return body.toByteArray();
    }

    /** Runs the main method of an uploaded jar, as {@code flink run -c} does; returns the job. */
    public JobID runJar(String jarId, String entryClass, List<String> programArgs)
            throws IOException {
        ObjectNode body = json.createObjectNode();
        body.put("entryClass", entryClass);
        body.putPOJO("programArgsList", programArgs);
        HttpRequest request =
                HttpRequest.newBuilder(URI.create(baseUrl + "/jars/" + jarId + "/run"))
                        .timeout(Duration.ofMinutes(2))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                        .build();
        return JobID.fromHexString(send("run " + jarId, request).path("jobid").asText());
    }

    private JsonNode send(String what, HttpRequest request) throws IOException {
        HttpResponse<String> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        if (response.statusCode() != 200) {
            throw new IOException(what + ": " + response.statusCode() + " " + response.body());
        }
        return json.readTree(response.body());
    }

    /** The ids of the registered TaskManagers. */
    public List<String> taskManagerIds() throws IOException {
        List<String> ids = new ArrayList<>();
        for (JsonNode tm : get("/taskmanagers").path("taskmanagers")) {
            ids.add(tm.path("id").asText());
        }
        return ids;
    }

    /** The job's state, e.g. RUNNING or FINISHED. */
    public String jobState(JobID job) throws IOException {
        return get("/jobs/" + job).path("state").asText();
    }

    /** How many checkpoints of the job completed. */
    public long completedCheckpoints(JobID job) throws IOException {
        return get("/jobs/" + job + "/checkpoints").path("counts").path("completed").asLong();
    }

    /**
     * When the newest completed checkpoint was triggered and completed (epoch milliseconds, as
     * {@code [trigger, completed]}), or null if none has completed.
     */
    public long[] latestCompletedCheckpoint(JobID job) throws IOException {
        JsonNode latest = get("/jobs/" + job + "/checkpoints").path("latest").path("completed");
        if (latest.isMissingNode() || latest.isNull()) {
            return null;
        }
        return new long[] {
            latest.path("trigger_timestamp").asLong(), latest.path("latest_ack_timestamp").asLong()
        };
    }

    /** The job's vertices, with the current attempt of each subtask. */
    public List<Vertex> vertices(JobID job) throws IOException {
        List<Vertex> vertices = new ArrayList<>();
        for (JsonNode vertex : get("/jobs/" + job).path("vertices")) {
            vertices.add(vertex(job, vertex.path("id").asText()));
        }
        return vertices;
    }

    /** The vertex whose name contains {@code name}. */
    public Vertex vertexNamed(JobID job, String name) throws IOException {
        for (JsonNode vertex : get("/jobs/" + job).path("vertices")) {
            if (vertex.path("name").asText().contains(name)) {
                return vertex(job, vertex.path("id").asText());
            }
        }
        throw new IllegalStateException("job " + job + " has no vertex named like '" + name + "'");
    }

    private Vertex vertex(JobID job, String id) throws IOException {
        JsonNode vertex = get("/jobs/" + job + "/vertices/" + id);
        List<Subtask> subtasks = new ArrayList<>();
        for (JsonNode subtask : vertex.path("subtasks")) {
            subtasks.add(
                    new Subtask(
                            subtask.path("subtask").asInt(),
                            subtask.path("status").asText(),
                            subtask.path("attempt").asInt(),
                            subtask.path("taskmanager-id").asText()));
        }
        return new Vertex(id, vertex.path("name").asText(), subtasks);
    }

    /**
     * A subtask's metrics whose names end with the given suffixes (e.g. {@code ".ros.queueDepth"}),
     * by suffix. The JobManager caches metrics for {@code metrics.fetcher.update-interval}; a
     * metric not reported yet is an {@link IOException}, so that {@link Poll} waits for it.
     */
    public Map<String, Long> subtaskMetrics(
            JobID job, Vertex vertex, int subtask, String... suffixes) throws IOException {
        String path =
                "/jobs/" + job + "/vertices/" + vertex.id + "/subtasks/" + subtask + "/metrics";
        Map<String, String> suffixByName = new TreeMap<>();
        for (JsonNode metric : get(path)) {
            String name = metric.path("id").asText();
            for (String suffix : suffixes) {
                if (name.endsWith(suffix)) {
                    suffixByName.put(name, suffix);
                }
            }
        }
        List<String> names = new ArrayList<>(suffixByName.keySet());
        if (names.size() != suffixes.length) {
            throw new IOException(
                    "subtask "
                            + subtask
                            + " of "
                            + vertex.name
                            + " reports "
                            + names
                            + ", not one metric for each of "
                            + List.of(suffixes));
        }
        Map<String, Long> values = new TreeMap<>();
        for (JsonNode metric : get(path + "?get=" + String.join(",", names))) {
            values.put(suffixByName.get(metric.path("id").asText()), metric.path("value").asLong());
        }
        if (values.size() != names.size()) {
            throw new IOException("no values yet for " + names + ": " + values);
        }
        return values;
    }

    /** The failures the job went through (its exception history), oldest last. */
    public List<Failure> failures(JobID job) throws IOException {
        List<Failure> failures = new ArrayList<>();
        for (JsonNode entry :
                get("/jobs/" + job + "/exceptions").path("exceptionHistory").path("entries")) {
            failures.add(
                    new Failure(
                            entry.path("taskName").asText(),
                            entry.path("taskManagerId").asText(),
                            entry.path("exceptionName").asText()));
        }
        return failures;
    }

    /** A job vertex. */
    public static final class Vertex {
        public final String id;
        public final String name;
        public final List<Subtask> subtasks;

        Vertex(String id, String name, List<Subtask> subtasks) {
            this.id = id;
            this.name = name;
            this.subtasks = subtasks;
        }

        /** Subtask {@code index}. */
        public Subtask subtask(int index) {
            return subtasks.get(index);
        }
    }

    /** The current attempt of a subtask and the TaskManager it runs on. */
    public static final class Subtask {
        public final int index;
        public final String status;
        public final int attempt;
        public final String taskManagerId;

        Subtask(int index, String status, int attempt, String taskManagerId) {
            this.index = index;
            this.status = status;
            this.attempt = attempt;
            this.taskManagerId = taskManagerId;
        }

        public boolean isRunning() {
            return "RUNNING".equals(status);
        }

        @Override
        public String toString() {
            return "#" + index + " " + status + " attempt " + attempt + " on " + taskManagerId;
        }
    }

    /** One entry of a job's exception history. */
    public static final class Failure {
        public final String taskName;
        public final String taskManagerId;
        public final String exception;

        Failure(String taskName, String taskManagerId, String exception) {
            this.taskName = taskName;
            this.taskManagerId = taskManagerId;
            this.exception = exception;
        }

        @Override
        public String toString() {
            return taskName + " on " + taskManagerId + ": " + exception;
        }
    }
}
