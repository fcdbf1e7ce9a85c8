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
package org.flinkros.connector.testing;

import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.runtime.clusterframework.types.ResourceID;
import org.apache.flink.runtime.executiongraph.AccessExecutionGraph;
import org.apache.flink.runtime.executiongraph.AccessExecutionJobVertex;
import org.apache.flink.runtime.executiongraph.AccessExecutionVertex;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.taskexecutor.TaskExecutor;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.lang.reflect.Field;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** What tests need to know about a MiniCluster and the jobs on it. */
public final class Clusters {
    /** What the name of a service's vertex contains. */
    public static final String SERVICE_VERTEX = "RpcOperatorService";

    private Clusters() {}

    /** Makes {@code env}'s job fail for good on its first failure, so a test sees the failure. */
    public static void withoutRestarts(StreamExecutionEnvironment env) {
        Configuration noRestarts = new Configuration();
        noRestarts.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        env.configure(noRestarts);
    }

    /** Polls {@code condition} until it holds, failing after {@code limit}. */
    public static void eventually(Duration limit, String what, Callable<Boolean> condition)
            throws Exception {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.call()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for: " + what);
            }
            Thread.sleep(10);
        }
    }

    /** The vertex whose name contains {@code name}. */
    public static AccessExecutionJobVertex vertex(AccessExecutionGraph graph, String name) {
        for (AccessExecutionJobVertex vertex : graph.getVerticesTopologically()) {
            if (vertex.getName().contains(name)) {
                return vertex;
            }
        }
        throw new AssertionError("no vertex named like '" + name + "'");
    }

    /** The vertices whose names do not contain {@code name}. */
    private static List<AccessExecutionJobVertex> verticesExcept(
            AccessExecutionGraph graph, String name) {
        List<AccessExecutionJobVertex> others = new ArrayList<>();
        for (AccessExecutionJobVertex vertex : graph.getVerticesTopologically()) {
            if (!vertex.getName().contains(name)) {
                others.add(vertex);
            }
        }
        return others;
    }

    /** The current attempt number of each subtask of {@code vertex}. */
    public static List<Integer> attempts(AccessExecutionJobVertex vertex) {
        List<Integer> attempts = new ArrayList<>();
        for (AccessExecutionVertex subtask : vertex.getTaskVertices()) {
            attempts.add(subtask.getCurrentExecutionAttempt().getAttemptNumber());
        }
        return attempts;
    }

    /** The current attempt numbers of the service instances (the RpcOperatorService vertex). */
    public static List<Integer> serviceAttempts(AccessExecutionGraph graph) {
        return attempts(vertex(graph, SERVICE_VERTEX));
    }

    /** The current attempt numbers of every data-plane subtask (all vertices but the service). */
    public static List<Integer> dataPlaneAttempts(AccessExecutionGraph graph) {
        List<Integer> attempts = new ArrayList<>();
        for (AccessExecutionJobVertex vertex : verticesExcept(graph, SERVICE_VERTEX)) {
            attempts.addAll(attempts(vertex));
        }
        return attempts;
    }

    /** The execution graph of a running or finished job. */
    public static AccessExecutionGraph graph(MiniCluster cluster, JobID job) throws Exception {
        return cluster.getExecutionGraph(job).get();
    }

    /**
     * The index, for {@link MiniCluster#terminateTaskManager}, of the TaskManager with this
     * resource id. MiniCluster has no public way to tell, so this reads its list of TaskManagers.
     */
    @SuppressWarnings("unchecked")
    public static int taskManagerIndex(MiniCluster cluster, ResourceID resource) throws Exception {
        Field field = MiniCluster.class.getDeclaredField("taskManagers");
        field.setAccessible(true);
        List<TaskExecutor> taskManagers;
        synchronized (cluster) {
            taskManagers = new ArrayList<>((List<TaskExecutor>) field.get(cluster));
        }
        for (int i = 0; i < taskManagers.size(); i++) {
            if (taskManagers.get(i).getResourceID().equals(resource)) {
                return i;
            }
        }
        throw new AssertionError("no TaskManager with resource id " + resource);
    }
}
