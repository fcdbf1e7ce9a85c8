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

import org.flinkros.client.RosServerOptions;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.operators.SlotSharingGroup;

import javax.annotation.Nullable;

import java.io.Serializable;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Declares an RpcOperator service: its name, its compute, how many instances it runs and the
 * resources of its own SlotSharingGroup. Build one with {@link #builder(String, RpcOperator)} for a
 * Java {@link RpcOperator}, or with {@link #builder(String, PythonService)} for a class of the
 * {@code flinkros} Python package run in a Python process per instance, and add it to a job with
 * {@link RosServices#add}. Both kinds are called alike.
 *
 * <p>Every builder method rejects invalid values with an {@link IllegalArgumentException} that
 * names the value.
 */
@PublicEvolving
public final class RosDescriptor implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");

    /** The name of Flink's external resource for GPUs, as in {@code external-resources: gpu}. */
    public static final String GPU_RESOURCE = "gpu";

    private final String name;
    @Nullable private final RpcOperator operator;
    @Nullable private final PythonService python;
    private final int parallelism;
    private final double cpuCores;
    private final int taskHeapMemoryMb;
    private final int taskOffHeapMemoryMb;
    private final int managedMemoryMb;
    private final int gpus;
    private final int concurrency;
    private final RosServerOptions serverOptions;
    private final int maxOpenAttempts;

    private RosDescriptor(Builder builder) {
        this.name = builder.name;
        this.operator = builder.operator;
        this.python = builder.python;
        this.parallelism = builder.parallelism;
        this.cpuCores = builder.cpuCores;
        this.taskHeapMemoryMb = builder.taskHeapMemoryMb;
        this.taskOffHeapMemoryMb = builder.taskOffHeapMemoryMb;
        this.managedMemoryMb = builder.managedMemoryMb;
        this.gpus = builder.gpus;
        this.concurrency = builder.concurrency;
        this.serverOptions = builder.serverOptions;
        this.maxOpenAttempts = builder.maxOpenAttempts;
    }

    /**
     * Starts a descriptor.
     *
     * @param name the service's name: letters, digits, '_', '.', '-', at most 64 characters; it
     *     names the service's operator uid ({@code ros-svc-<name>}) and SlotSharingGroup ({@code
     *     ros-<name>}), so it must be unique within a job
     * @param operator the compute every instance runs
     */
    public static Builder builder(String name, RpcOperator operator) {
        return new Builder(name, Objects.requireNonNull(operator, "operator"), null);
    }

    /**
     * Starts a descriptor of a service whose instances are Python processes, each serving {@code
     * python}'s class (see {@link PythonService}). Everything else (parallelism, resources, GPUs,
     * server options, {@code maxOpenAttempts}, {@link Builder#concurrency}) means what it means for
     * a Java service; with a concurrency above 1 the Python class runs that many batches at once
     * and must be thread-safe.
     *
     * @param name the service's name, as for {@link #builder(String, RpcOperator)}
     * @param python the Python class every instance serves, and how its process runs
     */
    public static Builder builder(String name, PythonService python) {
        return new Builder(name, null, Objects.requireNonNull(python, "python"));
    }

    /** The service's name. */
    public String name() {
        return name;
    }

    /**
     * The compute every instance runs (each instance gets its own copy); null for a Python service,
     * whose compute is {@link #python()}.
     */
    @Nullable
    public RpcOperator operator() {
        return operator;
    }

    /** The Python class every instance serves, for a Python service; null for a Java one. */
    @Nullable
    public PythonService python() {
        return python;
    }

    /** This descriptor, its Python service using {@code executable} unless it names one. */
    RosDescriptor withDefaultPythonExecutable(String executable) {
        if (python == null || python.executable().isPresent()) {
            return this;
        }
        Builder builder = new Builder(name, null, python.withDefaultExecutable(executable));
        builder.parallelism = parallelism;
        builder.cpuCores = cpuCores;
        builder.taskHeapMemoryMb = taskHeapMemoryMb;
        builder.taskOffHeapMemoryMb = taskOffHeapMemoryMb;
        builder.managedMemoryMb = managedMemoryMb;
        builder.gpus = gpus;
        builder.concurrency = concurrency;
        builder.serverOptions = serverOptions;
        builder.maxOpenAttempts = maxOpenAttempts;
        return new RosDescriptor(builder);
    }

    /** How many instances run. */
    public int parallelism() {
        return parallelism;
    }

    /**
     * Whether the service declares resources for its slots. Without (the default), its slot sharing
     * group has no resource profile and its instances take ordinary slots, like the data plane's;
     * with, every slot is requested with that profile (Flink's fine-grained resource management).
     */
    public boolean hasResourceProfile() {
        return cpuCores > 0
                || taskHeapMemoryMb > 0
                || taskOffHeapMemoryMb > 0
                || managedMemoryMb > 0
                || gpus > 0;
    }

    /** CPU cores of each instance's slot; 0 when not declared. */
    public double cpuCores() {
        return cpuCores;
    }

    /** Task heap of each instance's slot, in MiB; 0 when not declared. */
    public int taskHeapMemoryMb() {
        return taskHeapMemoryMb;
    }

    /** Task off-heap memory of each instance's slot, in MiB (native model memory goes here). */
    public int taskOffHeapMemoryMb() {
        return taskOffHeapMemoryMb;
    }

    /** Managed memory of each instance's slot, in MiB. */
    public int managedMemoryMb() {
        return managedMemoryMb;
    }

    /** GPUs each instance needs (Flink's external resource {@value #GPU_RESOURCE}). */
    public int gpus() {
        return gpus;
    }

    /**
     * How many requests an instance runs at the same time. 1 (the default): serial invocation, so
     * the operator needs no synchronisation. Always 1 for a Python service, whose class decides.
     */
    public int concurrency() {
        return concurrency;
    }

    /**
     * How each instance's server listens, queues and keeps connections alive; the instance sets the
     * token (the job's) and the methods (the operator's) itself.
     */
    public RosServerOptions serverOptions() {
        return serverOptions;
    }

    /** Largest request or response, in bytes: {@code serverOptions().maxMessageBytes()}. */
    public int maxMessageBytes() {
        return serverOptions.maxMessageBytes();
    }

    /**
     * How many times in a row an instance may fail to start (its {@code open()} throws) before the
     * job fails without restarting.
     */
    public int maxOpenAttempts() {
        return maxOpenAttempts;
    }

    /** The uid of the service's operator in the job graph. */
    public String uid() {
        return "ros-svc-" + name;
    }

    /**
     * The service's own SlotSharingGroup: with the declared resources, or with no resource profile
     * when none are declared.
     */
    public SlotSharingGroup slotSharingGroup() {
        if (!hasResourceProfile()) {
            return SlotSharingGroup.newBuilder("ros-" + name).build();
        }
        SlotSharingGroup.Builder group =
                SlotSharingGroup.newBuilder("ros-" + name)
                        .setCpuCores(cpuCores)
                        .setTaskHeapMemoryMB(taskHeapMemoryMb)
                        .setTaskOffHeapMemoryMB(taskOffHeapMemoryMb)
                        .setManagedMemoryMB(managedMemoryMb);
        if (gpus > 0) {
            group.setExternalResource(GPU_RESOURCE, gpus);
        }
        return group.build();
    }

    @Override
    public String toString() {
        return "RosDescriptor{name="
                + name
                + (operator != null
                        ? ", operator=" + operator.getClass().getName()
                        : ", python=" + python)
                + ", parallelism="
                + parallelism
                + ", cpuCores="
                + cpuCores
                + ", taskHeapMemoryMb="
                + taskHeapMemoryMb
                + ", taskOffHeapMemoryMb="
                + taskOffHeapMemoryMb
                + ", managedMemoryMb="
                + managedMemoryMb
                + ", gpus="
                + gpus
                + ", concurrency="
                + concurrency
                + ", serverOptions="
                + serverOptions
                + ", maxOpenAttempts="
                + maxOpenAttempts
                + '}';
    }

    /** Builder of {@link RosDescriptor}. */
    @PublicEvolving
    public static final class Builder {
        private final String name;
        @Nullable private final RpcOperator operator;
        @Nullable private final PythonService python;
        private int parallelism = 1;
        private double cpuCores = 0;
        private int taskHeapMemoryMb = 0;
        private int taskOffHeapMemoryMb = 0;
        private int managedMemoryMb = 0;
        private int gpus = 0;
        private int concurrency = 1;
        private RosServerOptions serverOptions = RosServerOptions.defaults();
        private int maxOpenAttempts = 3;

        private Builder(
                String name, @Nullable RpcOperator operator, @Nullable PythonService python) {
            if (name == null || !NAME.matcher(name).matches()) {
                throw new IllegalArgumentException(
                        "service name must be 1-64 letters, digits, '_', '.' or '-' and start with"
                                + " a letter or digit, got '"
                                + name
                                + "'");
            }
            this.name = name;
            this.operator = operator;
            this.python = python;
        }

        /** How many instances run. Default 1. */
        public Builder parallelism(int parallelism) {
            if (parallelism < 1) {
                throw new IllegalArgumentException(
                        "parallelism must be at least 1, got " + parallelism);
            }
            this.parallelism = parallelism;
            return this;
        }

        /**
         * CPU cores of each instance's slot. Not declared by default: see {@link #taskHeapMemoryMb}
         * for what declaring resources means.
         */
        public Builder cpuCores(double cpuCores) {
            if (!(cpuCores > 0) || Double.isInfinite(cpuCores)) {
                throw new IllegalArgumentException("cpuCores must be positive, got " + cpuCores);
            }
            this.cpuCores = cpuCores;
            return this;
        }

        /**
         * Task heap of each instance's slot, in MiB. Not declared by default.
         *
         * <p>Without declared resources the instances take ordinary slots of the cluster. Declaring
         * any resource (this, {@link #cpuCores}, memory or {@link #gpus}) gives the service's slot
         * sharing group a resource profile (Flink's fine-grained resource management), which then
         * needs both {@code cpuCores} and {@code taskHeapMemoryMb}; the data plane's slot sharing
         * groups should declare their resources too, or Flink may place a data-plane task in a slot
         * sized for an instance and leave the instance waiting.
         */
        public Builder taskHeapMemoryMb(int taskHeapMemoryMb) {
            if (taskHeapMemoryMb < 1) {
                throw new IllegalArgumentException(
                        "taskHeapMemoryMb must be at least 1, got " + taskHeapMemoryMb);
            }
            this.taskHeapMemoryMb = taskHeapMemoryMb;
            return this;
        }

        /** Task off-heap memory of each instance's slot, in MiB. Not declared by default. */
        public Builder taskOffHeapMemoryMb(int taskOffHeapMemoryMb) {
            this.taskOffHeapMemoryMb = notNegative("taskOffHeapMemoryMb", taskOffHeapMemoryMb);
            return this;
        }

        /** Managed memory of each instance's slot, in MiB. Not declared by default. */
        public Builder managedMemoryMb(int managedMemoryMb) {
            this.managedMemoryMb = notNegative("managedMemoryMb", managedMemoryMb);
            return this;
        }

        /**
         * GPUs each instance needs. Default 0. The slot requests Flink's external resource {@value
         * RosDescriptor#GPU_RESOURCE}, so the TaskManagers must declare it ({@code
         * external-resources: gpu} and {@code external-resource.gpu.amount}); an instance learns
         * its device indices from {@link RpcOperatorContext#gpuIndices()}.
         */
        public Builder gpus(int gpus) {
            this.gpus = notNegative("gpus", gpus);
            return this;
        }

        /**
         * How many requests an instance runs at the same time. Default 1: serial invocation. Above
         * 1, {@link RpcOperator#invoke} is called from that many threads at once and must be
         * thread-safe. For a Python service: that many batches at once, in threads of its process.
         */
        public Builder concurrency(int concurrency) {
            if (concurrency < 1 || concurrency > 1024) {
                throw new IllegalArgumentException(
                        "concurrency must be in [1, 1024], got " + concurrency);
            }
            this.concurrency = concurrency;
            return this;
        }

        private static int notNegative(String name, int value) {
            if (value < 0) {
                throw new IllegalArgumentException(name + " must not be negative, got " + value);
            }
            return value;
        }

        /**
         * How each instance's server listens, queues and keeps connections alive (queue capacity,
         * largest message, keepalive, bind address, port). Default {@link
         * RosServerOptions#defaults()}: an instance binds a free port where its TaskManager binds
         * ({@code taskmanager.bind-host}, else the address it announces). The token and the methods
         * are set by the service (the job's token, the operator's methods), whatever these options
         * say. A Python service's process gets these options too, and its class declares the
         * methods.
         */
        public Builder serverOptions(RosServerOptions serverOptions) {
            this.serverOptions = Objects.requireNonNull(serverOptions, "serverOptions");
            return this;
        }

        /**
         * How many times in a row an instance may fail to start (its {@code open()} throws; for a
         * Python service, also its process exiting or outlasting {@link
         * PythonService#startupTimeout()} before it serves) before the job fails without
         * restarting, naming the service and the cause. Default 3. Flink's restart strategy
         * restarts the instance after each earlier failure; a start that serves resets the count.
         */
        public Builder maxOpenAttempts(int maxOpenAttempts) {
            if (maxOpenAttempts < 1) {
                throw new IllegalArgumentException(
                        "maxOpenAttempts must be at least 1, got " + maxOpenAttempts);
            }
            this.maxOpenAttempts = maxOpenAttempts;
            return this;
        }

        /**
         * The descriptor.
         *
         * @throws IllegalArgumentException if resources are declared without both {@code cpuCores}
         *     and {@code taskHeapMemoryMb}, which Flink needs for a resource profile
         */
        public RosDescriptor build() {
            RosDescriptor descriptor = new RosDescriptor(this);
            if (descriptor.hasResourceProfile() && (cpuCores == 0 || taskHeapMemoryMb == 0)) {
                throw new IllegalArgumentException(
                        "RpcOperator service '"
                                + name
                                + "' declares resources ("
                                + descriptor
                                + ") but not both cpuCores and taskHeapMemoryMb, which Flink's"
                                + " fine-grained resource management needs for a slot profile:"
                                + " add .cpuCores(..) and .taskHeapMemoryMb(..) sized to fit a"
                                + " slot of your TaskManagers, or declare no resources to use"
                                + " ordinary slots");
            }
            return descriptor;
        }
    }
}
