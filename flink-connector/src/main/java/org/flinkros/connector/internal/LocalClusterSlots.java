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
package org.flinkros.connector.internal;

import org.apache.flink.annotation.Internal;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sizes the cluster that a local environment starts. Flink gives it as many slots as the job's
 * highest parallelism, which fits a job whose operators share one slot sharing group; a service's
 * instances take slots of their own, so without more slots a data-plane subtask would wait forever
 * for one. When the user has not set {@code taskmanager.numberOfTaskSlots}, it is set to fit the
 * data plane plus every instance; when they have and it is too small, adding the service fails with
 * the number to set.
 */
@Internal
public final class LocalClusterSlots {
    private static final Logger LOG = LoggerFactory.getLogger(LocalClusterSlots.class);

    /** Instances of all services added to the environment so far. */
    private static final ConfigOption<Integer> SERVICE_SLOTS =
            ConfigOptions.key("flink-ros.local-cluster.service-slots").intType().defaultValue(0);

    /** The highest parallelism of a data-plane operator calling a service so far. */
    private static final ConfigOption<Integer> DATA_PLANE_SLOTS =
            ConfigOptions.key("flink-ros.local-cluster.data-plane-slots").intType().defaultValue(0);

    /** Whether flink-ros set the slots (not the user). */
    private static final ConfigOption<Boolean> SIZED_BY_FLINK_ROS =
            ConfigOptions.key("flink-ros.local-cluster.sized").booleanType().defaultValue(false);

    private LocalClusterSlots() {}

    /** A service with {@code instances} instances is added to the local environment. */
    public static void reserveForService(StreamExecutionEnvironment env, int instances) {
        ReadableConfig config = env.getConfiguration();
        resize(
                env,
                config.get(SERVICE_SLOTS) + instances,
                Math.max(config.get(DATA_PLANE_SLOTS), env.getParallelism()));
    }

    /** A data-plane operator calling a service runs with {@code parallelism} subtasks. */
    public static void fitDataPlane(StreamExecutionEnvironment env, int parallelism) {
        ReadableConfig config = env.getConfiguration();
        resize(env, config.get(SERVICE_SLOTS), Math.max(config.get(DATA_PLANE_SLOTS), parallelism));
    }

    private static void resize(StreamExecutionEnvironment env, int services, int dataPlane) {
        ReadableConfig config = env.getConfiguration();
        int taskManagers = config.get(TaskManagerOptions.MINI_CLUSTER_NUM_TASK_MANAGERS);
        int needed = services + dataPlane;
        Configuration update = new Configuration();
        update.set(SERVICE_SLOTS, services);
        update.set(DATA_PLANE_SLOTS, dataPlane);
        boolean setByUser =
                config.getOptional(TaskManagerOptions.NUM_TASK_SLOTS).isPresent()
                        && !config.get(SIZED_BY_FLINK_ROS);
        if (setByUser) {
            int slots = config.get(TaskManagerOptions.NUM_TASK_SLOTS);
            if (slots * taskManagers < needed) {
                throw new IllegalArgumentException(
                        "The local cluster would have "
                                + slots * taskManagers
                                + " task slots ('"
                                + TaskManagerOptions.NUM_TASK_SLOTS.key()
                                + ": "
                                + slots
                                + "' x "
                                + taskManagers
                                + " TaskManager(s)), but the job needs "
                                + needed
                                + ": "
                                + dataPlane
                                + " for the data plane and "
                                + services
                                + " for RpcOperator service instances, which take slots of their"
                                + " own. Set '"
                                + TaskManagerOptions.NUM_TASK_SLOTS.key()
                                + "' to at least "
                                + divideRoundUp(needed, taskManagers)
                                + ", or leave it unset and flink-ros sizes the local cluster");
            }
        } else {
            int slots = divideRoundUp(needed, taskManagers);
            update.set(TaskManagerOptions.NUM_TASK_SLOTS, slots);
            update.set(SIZED_BY_FLINK_ROS, true);
            LOG.info(
                    "The local cluster gets {} task slots per TaskManager: {} for the data plane"
                            + " and {} for RpcOperator service instances",
                    slots,
                    dataPlane,
                    services);
        }
        env.configure(update);
    }

    private static int divideRoundUp(int dividend, int divisor) {
        return (dividend + divisor - 1) / divisor;
    }
}
