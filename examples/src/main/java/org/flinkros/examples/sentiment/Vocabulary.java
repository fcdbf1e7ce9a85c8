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
