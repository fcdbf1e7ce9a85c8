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
                        .append(descriptor.getCpuCores())
                        .append(" CPU cores, ")
                        .append(descriptor.getTaskHeapMemoryMb())
                        .append(" MiB task heap");
        if (descriptor.getTaskOffHeapMemoryMb() > 0) {
            profile.append(", ")
                    .append(descriptor.getTaskOffHeapMemoryMb())
                    .append(" MiB off-heap");
        }
        if (descriptor.getManagedMemoryMb() > 0) {
            profile.append(", ").append(descriptor.getManagedMemoryMb()).append(" MiB managed");
        }
        if (descriptor.getGpus() > 0) {
            profile.append(", ").append(descriptor.getGpus()).append(" gpu");
        }
        return profile.toString();
    }

    /** What to change when the service's instances find no slot. */
    public static String slotAdvice(RosDescriptor descriptor) {
        if (!descriptor.hasResourceProfile()) {
            return "The service's "
                    + descriptor.getParallelism()
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
