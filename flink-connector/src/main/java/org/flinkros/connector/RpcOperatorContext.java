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
import org.apache.flink.metrics.MetricGroup;

/** What an {@link RpcOperator} instance knows about itself. */
@PublicEvolving
public interface RpcOperatorContext {

    /** The service's name, as declared in its {@link RosDescriptor}. */
    String serviceName();

    /** This instance's index, from 0 to {@link #parallelism()} - 1. */
    int instanceIndex();

    /** How many instances the service has. */
    int parallelism();

    /** Where the instance can register its own metrics. */
    MetricGroup metricGroup();

    /** The class loader of the job's user code. */
    ClassLoader userCodeClassLoader();

    /**
     * The GPU device indices this instance holds on its TaskManager host, as many as {@link
     * RosDescriptor#gpus()}; empty if it asked for none. Instances on one host never share an
     * index.
     */
    int[] gpuIndices();
}
