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
package org.flinkros.examples.sql;

import org.flinkros.client.RosException;
import org.flinkros.client.StatusCode;
import org.flinkros.connector.RpcOperator;
import org.flinkros.connector.RpcOperatorContext;
import org.flinkros.examples.sentiment.SentimentModel;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.Set;

/**
 * The sentiment model as {@code ML_PREDICT} calls it: JSON {@code {"text": "..."}} in (the model's
 * INPUT columns), {@code {"label": "positive", "score": 0.93}} out (its OUTPUT columns).
 */
public final class JsonSentimentModel implements RpcOperator {
    private static final long serialVersionUID = 1L;

    /** The method {@code ML_PREDICT} calls unless the model's {@code 'method'} says otherwise. */
    public static final String PREDICT = "predict";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final SentimentModel model = new SentimentModel();

    @Override
    public void open(RpcOperatorContext context) {
        model.open(context);
    }

    @Override
    public Set<String> methods() {
        return Collections.singleton(PREDICT);
    }

    @Override
    public byte[] invoke(String method, byte[] payload) throws Exception {
        JsonNode input = JSON.readTree(payload);
        JsonNode text = input.get("text");
        if (text == null || !text.isTextual()) {
            throw new RosException(
                    StatusCode.INVALID_ARGUMENT, "expected {\"text\": \"...\"}, got " + input);
        }
        byte[] reply =
                model.invoke(
                        SentimentModel.CLASSIFY, text.asText().getBytes(StandardCharsets.UTF_8));
        float score = ByteBuffer.wrap(reply).getFloat();
        ObjectNode output = JSON.createObjectNode();
        output.put("label", score >= 0.5f ? "positive" : "negative");
        output.put("score", score);
        return JSON.writeValueAsBytes(output);
    }
}
