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

import java.util.SplittableRandom;

/** A generated product review, with the sentiment it was written with. */
public class Review {
    public long id;
    public String text;
    public boolean positive;

    public Review() {}

    /** The review with this id: the same id always gives the same review. */
    public static Review generate(long id) {
        SplittableRandom random = new SplittableRandom(id * 0x9E3779B97F4A7C15L);
        Review review = new Review();
        review.id = id;
        review.positive = random.nextBoolean();
        String opinion =
                Vocabulary.pick(
                        review.positive ? Vocabulary.POSITIVE : Vocabulary.NEGATIVE, random);
        String second =
                Vocabulary.pick(
                        review.positive ? Vocabulary.POSITIVE : Vocabulary.NEGATIVE, random);
        review.text =
                "The "
                        + Vocabulary.pick(Vocabulary.PRODUCTS, random)
                        + " "
                        + Vocabulary.pick(Vocabulary.FILLERS, random)
                        + " is "
                        + opinion
                        + ", really "
                        + second
                        + ".";
        return review;
    }
}
