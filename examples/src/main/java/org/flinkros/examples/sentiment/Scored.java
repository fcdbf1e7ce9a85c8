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
