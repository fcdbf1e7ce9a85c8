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

import org.flinkros.tests.cluster.FlinkRest.Subtask;
import org.flinkros.tests.cluster.FlinkRest.Vertex;

import org.apache.flink.api.common.JobID;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where a job's tasks run, as the JobManager reports it: each task named {@code instance-<i>} (a
 * service instance) or {@code data-plane-<v>.<i>} (subtask i of the v-th other vertex), with its
 * TaskManager and attempt.
 */
public final class TaskLayout {
    /** The prefix of a service instance's task name. */
    public static final String INSTANCE = "instance-";

    /** The prefix of a data-plane task's name. */
    public static final String DATA_PLANE = "data-plane-";

    private final Map<String, List<String>> tasksByTaskManager = new TreeMap<>();
    private final Map<String, Integer> attempts = new TreeMap<>();
    private boolean allRunning = true;

    private TaskLayout() {}

    /** The layout now; {@code serviceVertex} is (part of) the service vertex's name. */
    public static TaskLayout of(FlinkRest rest, JobID job, String serviceVertex)
            throws IOException {
        TaskLayout layout = new TaskLayout();
        int dataPlaneVertex = 0;
        for (Vertex vertex : rest.vertices(job)) {
            boolean service = vertex.name.contains(serviceVertex);
            String prefix = service ? INSTANCE : DATA_PLANE + dataPlaneVertex++ + ".";
            for (Subtask subtask : vertex.subtasks) {
                String task = prefix + subtask.index;
                layout.allRunning &= subtask.isRunning();
                layout.attempts.put(task, subtask.attempt);
                layout.tasksByTaskManager
                        .computeIfAbsent(subtask.taskManagerId, tm -> new ArrayList<>())
                        .add(task);
            }
        }
        return layout;
    }

    /** Whether the job has tasks and every one of them is running. */
    public boolean allRunning() {
        return allRunning && !attempts.isEmpty();
    }

    /** Task names by TaskManager id. */
    public Map<String, List<String>> tasksByTaskManager() {
        return tasksByTaskManager;
    }

    /** The attempt number of every task, by task name. */
    public Map<String, Integer> attempts() {
        return attempts;
    }

    /** The TaskManagers that run at least one task whose name starts with {@code prefix}. */
    public List<String> taskManagersRunning(String prefix) {
        List<String> found = new ArrayList<>();
        tasksByTaskManager.forEach(
                (tm, tasks) -> {
                    if (tasks.stream().anyMatch(task -> task.startsWith(prefix))) {
                        found.add(tm);
                    }
                });
        return found;
    }

    @Override
    public String toString() {
        return tasksByTaskManager.toString();
    }
}
