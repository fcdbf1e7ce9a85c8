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
package org.flinkros.examples.digits;

/**
 * What the model said about one sample: the true label, the prediction, who answered, or why not.
 */
public final class Prediction {
    public int label;
    public int predicted = -1;
    public int instance = -1;
    public String error;

    public Prediction() {}

    static Prediction of(int label, int predicted, int instance) {
        Prediction prediction = new Prediction();
        prediction.label = label;
        prediction.predicted = predicted;
        prediction.instance = instance;
        return prediction;
    }

    static Prediction failed(int label, String error) {
        Prediction prediction = new Prediction();
        prediction.label = label;
        prediction.error = error;
        return prediction;
    }

    /** {@code label,predicted,instance[,error]}: a line of the demo's file output. */
    @Override
    public String toString() {
        return label + "," + predicted + "," + instance + (error == null ? "" : "," + error);
    }
}
