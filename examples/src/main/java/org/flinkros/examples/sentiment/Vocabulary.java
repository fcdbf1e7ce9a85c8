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

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/** Words the review generator writes with and the model learns from. */
final class Vocabulary {
    private Vocabulary() {}

    static final List<String> POSITIVE =
            Arrays.asList(
                    "excellent",
                    "great",
                    "wonderful",
                    "reliable",
                    "delightful",
                    "fantastic",
                    "superb",
                    "sturdy",
                    "brilliant",
                    "pleasant",
                    "love it",
                    "highly recommend");

    static final List<String> NEGATIVE =
            Arrays.asList(
                    "terrible",
                    "awful",
                    "broken",
                    "flimsy",
                    "disappointing",
                    "useless",
                    "horrible",
                    "faulty",
                    "poor",
                    "annoying",
                    "waste of money",
                    "never again");

    static final List<String> PRODUCTS =
            Arrays.asList(
                    "kettle",
                    "headphones",
                    "backpack",
                    "lamp",
                    "keyboard",
                    "blender",
                    "tent",
                    "camera",
                    "chair",
                    "phone case");

    static final List<String> FILLERS =
            Arrays.asList(
                    "arrived on tuesday",
                    "for my kitchen",
                    "after two weeks of use",
                    "as a gift",
                    "compared to the old one",
                    "in the box");

    static String pick(List<String> words, SplittableRandom random) {
        return words.get(random.nextInt(words.size()));
    }
}
