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

import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * A small text embedding: character trigrams hashed into a fixed number of dimensions, then
 * L2-normalised (the "hashing trick"). Cheap, deterministic, and real work for the CPU.
 */
final class TextEmbedding {
    private final int dimensions;

    TextEmbedding(int dimensions) {
        this.dimensions = dimensions;
    }

    float[] embed(String text) {
        float[] vector = new float[dimensions];
        byte[] bytes = (" " + text.toLowerCase(Locale.ROOT) + " ").getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i + 3 <= bytes.length; i++) {
            int hash = 0x811C9DC5;
            for (int j = i; j < i + 3; j++) {
                hash = (hash ^ (bytes[j] & 0xFF)) * 0x01000193;
            }
            int bucket = Math.floorMod(hash, dimensions);
            // A second hash bit decides the sign, which keeps collisions from only adding up.
            vector[bucket] += ((hash >>> 31) == 0) ? 1f : -1f;
        }
        return normalise(vector);
    }

    static float[] normalise(float[] vector) {
        double norm = 0;
        for (float v : vector) {
            norm += v * v;
        }
        if (norm > 0) {
            float scale = (float) (1 / Math.sqrt(norm));
            for (int i = 0; i < vector.length; i++) {
                vector[i] *= scale;
            }
        }
        return vector;
    }

    static float dot(float[] a, float[] b) {
        float sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += a[i] * b[i];
        }
        return sum;
    }
}
