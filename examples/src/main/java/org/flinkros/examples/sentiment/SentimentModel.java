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
package org.flinkros.examples.sentiment;

import org.flinkros.client.RosException;
import org.flinkros.client.StatusCode;
import org.flinkros.connector.RpcOperator;
import org.flinkros.connector.RpcOperatorContext;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A small sentiment model, run as an RpcOperator service: {@link #open} "loads" it by embedding the
 * vocabulary into two centroids, {@link #invoke} scores a review by its similarity to each. It
 * stands in for a real model (same lifecycle: load once per instance, then serve).
 */
public final class SentimentModel implements RpcOperator {
    private static final long serialVersionUID = 1L;

    /** The method this service offers. */
    public static final String CLASSIFY = "classify";

    private static final int DIMENSIONS = 1024;

    private transient TextEmbedding embedding;
    private transient float[] positive;
    private transient float[] negative;
    private transient int instance;

    @Override
    public void open(RpcOperatorContext context) {
        instance = context.instanceIndex();
        embedding = new TextEmbedding(DIMENSIONS);
        positive = centroid(Vocabulary.POSITIVE);
        negative = centroid(Vocabulary.NEGATIVE);
    }

    private float[] centroid(java.util.List<String> words) {
        float[] sum = new float[DIMENSIONS];
        for (String word : words) {
            float[] vector = embedding.embed(word);
            for (int i = 0; i < DIMENSIONS; i++) {
                sum[i] += vector[i];
            }
        }
        return TextEmbedding.normalise(sum);
    }

    @Override
    public byte[] invoke(String method, byte[] payload) {
        if (!CLASSIFY.equals(method)) {
            throw new RosException(StatusCode.NOT_FOUND, "unknown method '" + method + "'");
        }
        float[] text = embedding.embed(new String(payload, StandardCharsets.UTF_8));
        float margin = TextEmbedding.dot(text, positive) - TextEmbedding.dot(text, negative);
        float score = (float) (1 / (1 + Math.exp(-8 * margin)));
        return ByteBuffer.allocate(8).putFloat(score).putInt(instance).array();
    }

    /** A decoded reply. */
    static final class Prediction {
        final boolean positive;
        final float score;
        final int instance;

        Prediction(byte[] reply) {
            ByteBuffer buffer = ByteBuffer.wrap(reply);
            this.score = buffer.getFloat();
            this.instance = buffer.getInt();
            this.positive = score >= 0.5f;
        }
    }
}
