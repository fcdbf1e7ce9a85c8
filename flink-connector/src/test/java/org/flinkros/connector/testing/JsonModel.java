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

import org.flinkros.connector.RpcOperator;
import org.flinkros.connector.RpcOperatorContext;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A model as SQL calls it: JSON {@code {"id": 7, "text": "abc"}} in, {@code {"length": 3, "shout":
 * "ABC"}} out. Counts its executions per probe key; can crash one instance once.
 */
public final class JsonModel implements RpcOperator {
    private static final long serialVersionUID = 1L;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, AtomicLong> EXECUTED = new ConcurrentHashMap<>();
    private static final Map<String, AtomicInteger> OPENS = new ConcurrentHashMap<>();

    private final String probeKey;
    private final int crashingInstance;
    private final long crashAfter;
    private transient int index;
    private transient int attempt;
    private transient long served;

    private JsonModel(String probeKey, int crashingInstance, long crashAfter) {
        this.probeKey = probeKey;
        this.crashingInstance = crashingInstance;
        this.crashAfter = crashAfter;
        EXECUTED.put(probeKey, new AtomicLong());
    }

    /** A model that never fails. */
    public static JsonModel of(String probeKey) {
        return new JsonModel(probeKey, -1, 0);
    }

    /** A model whose instance {@code instance} crashes on its first attempt after n requests. */
    public static JsonModel crashing(String probeKey, int instance, long n) {
        return new JsonModel(probeKey, instance, n);
    }

    /** How many requests the instances of the model with this probe key ran. */
    public static long executed(String probeKey) {
        return EXECUTED.get(probeKey).get();
    }

    /** The expected reply for {@code text}. */
    public static String shout(String text) {
        return text.toUpperCase(java.util.Locale.ROOT);
    }

    @Override
    public void open(RpcOperatorContext context) {
        index = context.instanceIndex();
        attempt =
                OPENS.computeIfAbsent(probeKey + "/" + index, k -> new AtomicInteger())
                        .getAndIncrement();
    }

    @Override
    public java.util.Set<String> methods() {
        return java.util.Collections.singleton("predict");
    }

    @Override
    public byte[] invoke(String method, byte[] payload) throws Exception {
        if (index == crashingInstance && attempt == 0 && ++served > crashAfter) {
            throw new TestModel.InstanceCrash("instance " + index + " crashed (simulated)");
        }
        JsonNode input = JSON.readTree(payload);
        String text = input.path("text").asText();
        ObjectNode output = JSON.createObjectNode();
        output.put("length", text.length());
        output.put("shout", shout(text));
        EXECUTED.get(probeKey).incrementAndGet();
        return JSON.writeValueAsBytes(output);
    }
}
