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
package org.flinkros.examples;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** Runs a demo as a user runs it, from its {@code main}, and returns what it printed. */
public final class DemoRuns {

    /** A demo's {@code main}. */
    @FunctionalInterface
    public interface Main {
        void run(String[] args) throws Exception;
    }

    private DemoRuns() {}

    /** The lines {@code main} printed with these arguments; they are printed here too. */
    public static String[] printedLines(Main main, String... args) throws Exception {
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream original = System.out;
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            main.run(args);
        } finally {
            System.setOut(original);
        }
        String output = captured.toString(StandardCharsets.UTF_8);
        original.print(output);
        return output.trim().split("\n");
    }

    /** The last line {@code main} printed: the demos' summary. */
    public static String summary(Main main, String... args) throws Exception {
        String[] lines = printedLines(main, args);
        return lines[lines.length - 1];
    }
}
