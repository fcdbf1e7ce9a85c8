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

/** A review's result: the model's verdict, or the error that kept it from one. */
public class Scored {
    public long id;
    public boolean expectedPositive;
    public boolean predictedPositive;
    public float score;
    public int instance = -1;
    public String error;

    public Scored() {}

    static Scored of(Review review, SentimentModel.Prediction prediction) {
        Scored scored = new Scored();
        scored.id = review.id;
        scored.expectedPositive = review.positive;
        scored.predictedPositive = prediction.positive;
        scored.score = prediction.score;
        scored.instance = prediction.instance;
        return scored;
    }

    static Scored failed(Review review, Throwable error) {
        Scored scored = new Scored();
        scored.id = review.id;
        scored.expectedPositive = review.positive;
        scored.error = String.valueOf(error);
        return scored;
    }
}
