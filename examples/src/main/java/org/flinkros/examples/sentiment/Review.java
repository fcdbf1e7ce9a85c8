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
