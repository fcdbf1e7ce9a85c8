package org.flinkros.tests.job;

import org.flinkros.connector.RpcOperator;
import org.flinkros.connector.RpcOperatorContext;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Collections;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;

/**
 * The service's "model": squares a long, taking a fixed time per request as inference would, and
 * says who answered: the instance index and the process id of its TaskManager, so that the test can
 * tell the original instances from a restarted one.
 */
public final class SquareOperator implements RpcOperator {
    private static final long serialVersionUID = 1L;

    /** The one method. */
    public static final String METHOD = "square";

    private final long costNanos;
    private transient int index;
    private transient long pid;

    /** A model that takes {@code cost} per request. */
    public SquareOperator(Duration cost) {
        this.costNanos = cost.toNanos();
    }

    @Override
    public void open(RpcOperatorContext context) {
        // The job jar is the only place this class exists on the cluster: if the TaskManager's own
        // class loader found it, the test would prove nothing about class loading.
        if (getClass().getClassLoader() == ClassLoader.getSystemClassLoader()) {
            throw new IllegalStateException(
                    "job classes must be loaded from the job jar, not the TaskManager classpath");
        }
        index = context.getInstanceIndex();
        pid = ProcessHandle.current().pid();
    }

    @Override
    public Set<String> methods() {
        return Collections.singleton(METHOD);
    }

    @Override
    public byte[] invoke(String method, byte[] payload) {
        LockSupport.parkNanos(costNanos);
        long x = ByteBuffer.wrap(payload).getLong();
        return ByteBuffer.allocate(20).putLong(x * x).putInt(index).putLong(pid).array();
    }

    /** A request for {@code x}. */
    public static byte[] request(long x) {
        return ByteBuffer.allocate(8).putLong(x).array();
    }

    /** The output for {@code x} and its reply: {@code x,square,instance,pid}. */
    public static String outputLine(long x, byte[] reply) {
        ByteBuffer buffer = ByteBuffer.wrap(reply);
        return x + "," + buffer.getLong() + "," + buffer.getInt() + "," + buffer.getLong();
    }
}
