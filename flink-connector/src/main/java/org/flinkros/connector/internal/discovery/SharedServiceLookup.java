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
package org.flinkros.connector.internal.discovery;

import org.flinkros.connector.RosServe;
import org.flinkros.connector.internal.service.RosServiceEnumerator;
import org.flinkros.connector.internal.service.RosServiceSource;

import org.apache.flink.annotation.Internal;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds a shared service's instances through the cluster's REST API: the running job named {@link
 * RosServe#jobName}, its service vertex, and the endpoints its enumerator reports as the metric
 * {@value RosServiceEnumerator#ENDPOINTS_METRIC}. Where the metric is remembers itself between
 * lookups, so a lookup is one request until the job or its vertex changes.
 *
 * <p>Not thread-safe: one caller at a time.
 */
@Internal
public final class SharedServiceLookup {
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    private final String restUrl;
    private final String serviceName;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
    private final ObjectMapper json = new ObjectMapper();

    /** {@code /jobs/<job>/vertices/<vertex>/jm-operator-metrics?get=<metric>}, once found. */
    private String metricPath;

    public SharedServiceLookup(String restUrl, String serviceName) {
        this.restUrl = restUrl.endsWith("/") ? restUrl.substring(0, restUrl.length() - 1) : restUrl;
        this.serviceName = serviceName;
    }

    /**
     * The {@code host:port} of each serving instance.
     *
     * @throws IOException naming what is missing: no REST API at the address, no running job of
     *     that name, or no endpoints reported yet
     */
    public List<String> endpoints() throws IOException {
        if (metricPath != null) {
            try {
                List<String> endpoints = read(metricPath);
                if (endpoints != null) {
                    return endpoints;
                }
            } catch (IOException e) {
                // The job or its vertex may have changed: find them again.
            }
            metricPath = null;
        }
        String path = findMetric();
        List<String> endpoints = read(path);
        if (endpoints == null) {
            throw new IOException(
                    "shared RpcOperator service '" + serviceName + "' reports no endpoints yet");
        }
        metricPath = path;
        return endpoints;
    }

    private String findMetric() throws IOException {
        String jobName = RosServe.jobName(serviceName);
        String job = null;
        List<String> otherStates = new ArrayList<>();
        for (JsonNode overview : get("/jobs/overview").path("jobs")) {
            if (!jobName.equals(overview.path("name").asText())) {
                continue;
            }
            String state = overview.path("state").asText();
            if (!"RUNNING".equals(state)) {
                otherStates.add(state);
            } else if (job != null) {
                throw new IOException(
                        "two running jobs are named '"
                                + jobName
                                + "': cancel one, a shared service's name must be unique");
            } else {
                job = overview.path("jid").asText();
            }
        }
        if (job == null) {
            throw new IOException(
                    "no running job named '"
                            + jobName
                            + "' at "
                            + restUrl
                            + (otherStates.isEmpty()
                                    ? ""
                                    : " (jobs of that name are " + otherStates + ")")
                            + ": start the shared service with RosServe (flink run -c"
                            + " org.flinkros.connector.RosServe ... --name "
                            + serviceName
                            + ")");
        }
        String vertex = null;
        for (JsonNode v : get("/jobs/" + job).path("vertices")) {
            if (v.path("name").asText().contains(RosServiceSource.operatorName(serviceName))) {
                vertex = v.path("id").asText();
            }
        }
        if (vertex == null) {
            throw new IOException("job '" + jobName + "' (" + job + ") has no service vertex");
        }
        String metrics = "/jobs/" + job + "/vertices/" + vertex + "/jm-operator-metrics";
        for (JsonNode metric : get(metrics)) {
            String id = metric.path("id").asText();
            if (id.equals(RosServiceEnumerator.ENDPOINTS_METRIC)
                    || id.endsWith("." + RosServiceEnumerator.ENDPOINTS_METRIC)) {
                return metrics + "?get=" + URLEncoder.encode(id, StandardCharsets.UTF_8);
            }
        }
        throw new IOException(
                "shared RpcOperator service '"
                        + serviceName
                        + "' reports no endpoints yet (its job "
                        + job
                        + " is starting)");
    }

    /** The endpoints at {@code path}, or null if the metric has no value. */
    private List<String> read(String path) throws IOException {
        for (JsonNode metric : get(path)) {
            String value = metric.path("value").asText("");
            List<String> endpoints = new ArrayList<>();
            for (String endpoint : value.split(",")) {
                if (!endpoint.trim().isEmpty()) {
                    endpoints.add(endpoint.trim());
                }
            }
            return endpoints;
        }
        return null;
    }

    private JsonNode get(String path) throws IOException {
        HttpRequest request =
                HttpRequest.newBuilder(URI.create(restUrl + path)).timeout(TIMEOUT).GET().build();
        HttpResponse<String> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (IOException e) {
            throw new IOException("no Flink REST API at " + restUrl + ": " + e, e);
        }
        if (response.statusCode() != 200) {
            throw new IOException(
                    "GET " + restUrl + path + ": " + response.statusCode() + " " + response.body());
        }
        return json.readTree(response.body());
    }
}
