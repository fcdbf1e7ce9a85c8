package org.flinkros.connector;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.metrics.MetricGroup;

/** What an {@link RpcOperator} instance knows about itself. */
@PublicEvolving
public interface RpcOperatorContext {

    /** The service's name, as declared in its {@link RosDescriptor}. */
    String getServiceName();

    /** This instance's index, from 0 to {@link #getParallelism()} - 1. */
    int getInstanceIndex();

    /** How many instances the service has. */
    int getParallelism();

    /** Where the instance can register its own metrics. */
    MetricGroup getMetricGroup();

    /** The class loader of the job's user code. */
    ClassLoader getUserCodeClassLoader();

    /**
     * The GPU device indices this instance holds on its TaskManager host, as many as {@link
     * RosDescriptor#getGpus()}; empty if it asked for none. Instances on one host never share an
     * index.
     */
    int[] getGpuIndices();
}
