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

import org.flinkros.examples.sentiment.Review;

import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.types.Row;

import java.util.Iterator;

/** What the SQL demos share: their input table, arguments and summary line. */
final class SqlDemos {
    private SqlDemos() {}

    /** {@code --records N}, 2000 by default. */
    static long recordsArg(String[] args) {
        long records = 2_000;
        for (int i = 0; i < args.length - 1; i++) {
            if (args[i].equals("--records")) {
                records = Long.parseLong(args[i + 1]);
            }
        }
        if (records < 1) {
            throw new IllegalArgumentException("--records must be at least 1, got " + records);
        }
        return records;
    }

    /** Registers {@code reviews (id BIGINT, positive BOOLEAN, text STRING)}, ids 0..records-1. */
    static void registerReviews(
            StreamExecutionEnvironment env, StreamTableEnvironment tEnv, long records) {
        registerReviews(env, tEnv, records, 0);
    }

    /** The same, at most {@code rate} reviews per second (no limit if 0). */
    static void registerReviews(
            StreamExecutionEnvironment env, StreamTableEnvironment tEnv, long records, int rate) {
        DataStream<Long> ids = env.fromSequence(0, records - 1);
        if (rate > 0) {
            ids = ids.map(new Pace(rate)).name("Pace");
        }
        tEnv.createTemporaryView(
                "reviews",
                tEnv.fromDataStream(
                        ids.map(Review::generate).returns(Review.class).name("Generate reviews")));
    }

    /** Lets at most {@code rate} records per second pass, per subtask: a stream's pace. */
    private static final class Pace implements MapFunction<Long, Long> {
        private static final long serialVersionUID = 1L;
        private final int rate;
        private transient long started;
        private transient long passed;

        Pace(int rate) {
            this.rate = rate;
        }

        @Override
        public Long map(Long id) throws InterruptedException {
            if (started == 0) {
                started = System.nanoTime();
            }
            long due = started + ++passed * 1_000_000_000L / rate;
            long wait = due - System.nanoTime();
            if (wait > 0) {
                Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
            }
            return id;
        }
    }

    /**
     * Reads {@code records} predictions {@code (id, positive, label, score)} and prints the summary
     * line.
     */
    static void summarise(String what, Iterator<Row> rows, long records) {
        long seen = 0;
        long errors = 0;
        long correct = 0;
        long start = System.nanoTime();
        while (seen < records && rows.hasNext()) {
            Row row = rows.next();
            seen++;
            Object label = row.getField("label");
            if (label == null) {
                errors++;
            } else if ("positive".equals(label) == (Boolean) row.getField("positive")) {
                correct++;
            }
        }
        System.out.printf(
                "%s: records=%d errors=%d accuracy=%.4f wall=%.1fs%n",
                what,
                seen,
                errors + (records - seen),
                seen == 0 ? 0.0 : (double) correct / seen,
                (System.nanoTime() - start) / 1e9);
    }
}
