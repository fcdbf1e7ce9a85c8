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

import org.flinkros.connector.RosDescriptor;

import org.apache.flink.annotation.Internal;

/**
 * How a service's slots are described in messages about scheduling: what they need, and the fix.
 */
@Internal
public final class ServiceResources {
    private ServiceResources() {}

    /** The slot profile of the service's instances, in words. */
    public static String describe(RosDescriptor descriptor) {
        if (!descriptor.hasResourceProfile()) {
            return "no resource profile: any free slot of the cluster";
        }
        StringBuilder profile =
                new StringBuilder("resource profile: ")
                        .append(descriptor.cpuCores())
                        .append(" CPU cores, ")
                        .append(descriptor.taskHeapMemoryMb())
                        .append(" MiB task heap");
        if (descriptor.taskOffHeapMemoryMb() > 0) {
            profile.append(", ").append(descriptor.taskOffHeapMemoryMb()).append(" MiB off-heap");
        }
        if (descriptor.managedMemoryMb() > 0) {
            profile.append(", ").append(descriptor.managedMemoryMb()).append(" MiB managed");
        }
        if (descriptor.gpus() > 0) {
            profile.append(", ").append(descriptor.gpus()).append(" gpu");
        }
        return profile.toString();
    }

    /** What to change when the service's instances find no slot. */
    public static String slotAdvice(RosDescriptor descriptor) {
        if (!descriptor.hasResourceProfile()) {
            return "The service's "
                    + descriptor.parallelism()
                    + " instance(s) take slots of their own besides the data plane's: give the"
                    + " cluster that many more task slots ('taskmanager.numberOfTaskSlots' or"
                    + " more TaskManagers).";
        }
        return "Each instance needs a slot with that profile: make sure a TaskManager can offer it"
                + " (the JobManager logs 'Missing resources' when none can; lower the service's"
                + " resources or give the TaskManagers more), and declare resources for the data"
                + " plane's slot sharing groups too, so that no data-plane task takes a slot sized"
                + " for an instance.";
    }
}
