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

import org.flinkros.client.RosException;
import org.flinkros.client.StatusCode;
import org.flinkros.connector.RpcOperator;
import org.flinkros.connector.RpcOperatorContext;

import java.nio.ByteBuffer;
import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Squares a long and says which instance did it. Tests run on a MiniCluster in this JVM, so the
 * static fields let a test see how often instances opened.
 */
public final class SquareOperator implements RpcOperator {
    private static final long serialVersionUID = 1L;

    /** How often each instance index was opened. */
    public static final Map<Integer, AtomicInteger> OPENS = new ConcurrentHashMap<>();

    /** Counted down as instances open; requests wait for it so every instance gets work. */
    private static volatile CountDownLatch allOpen = new CountDownLatch(0);

    private transient int index;

    /** Resets the counters for a service of {@code parallelism} instances. */
    public static void reset(int parallelism) {
        OPENS.clear();
        allOpen = new CountDownLatch(parallelism);
    }

    @Override
    public void open(RpcOperatorContext context) {
        index = context.instanceIndex();
        OPENS.computeIfAbsent(index, i -> new AtomicInteger()).incrementAndGet();
        allOpen.countDown();
    }

    @Override
    public Set<String> methods() {
        return Collections.singleton("square");
    }

    @Override
    public byte[] invoke(String method, byte[] payload) throws Exception {
        if (!"square".equals(method)) {
            throw new RosException(StatusCode.NOT_FOUND, "no method '" + method + "'");
        }
        if (!allOpen.await(1, TimeUnit.MINUTES)) {
            throw new IllegalStateException("not all instances opened");
        }
        long x = ByteBuffer.wrap(payload).getLong();
        return ByteBuffer.allocate(12).putLong(x * x).putInt(index).array();
    }

    /** Encodes a request. */
    public static byte[] request(long x) {
        return ByteBuffer.allocate(8).putLong(x).array();
    }

    /** The square in a reply. */
    public static long square(byte[] reply) {
        return ByteBuffer.wrap(reply).getLong();
    }

    /** The instance that made a reply. */
    public static int instance(byte[] reply) {
        return ByteBuffer.wrap(reply).getInt(8);
    }
}
