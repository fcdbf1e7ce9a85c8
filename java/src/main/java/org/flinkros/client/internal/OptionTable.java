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
package org.flinkros.client.internal;

import org.apache.flink.annotation.Internal;

import javax.annotation.Nullable;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Scanner;
import java.util.function.ToLongFunction;

/**
 * Defaults and limits of the client and server options, read from {@code options.properties}: the
 * table the native runtime compiles in, so that both sides start from the same defaults and refuse
 * the same values. Options cross to the runtime by the table's names.
 */
@Internal
public final class OptionTable {
    private static final String RESOURCE = "options.properties";

    /** The options of {@code RosClientOptions}. */
    public static final OptionTable CLIENT = load("client.");

    /** The options of {@code RosServerOptions}. */
    public static final OptionTable SERVER = load("server.");

    private final Map<String, Spec> specs;

    private OptionTable(Map<String, Spec> specs) {
        this.specs = Collections.unmodifiableMap(specs);
    }

    /** The names of the options, in the table's order. */
    public Iterable<String> names() {
        return specs.keySet();
    }

    /** The default of a text option; null when it has none. */
    @Nullable
    public String defaultText(String name) {
        return spec(name).defaultValue;
    }

    /** The default of an integer option. */
    public int defaultInt(String name) {
        return Math.toIntExact(defaultLong(name));
    }

    /** The default of an integer option. */
    public long defaultLong(String name) {
        return Long.parseLong(required(name));
    }

    /** The default of a real option. */
    public double defaultReal(String name) {
        return Double.parseDouble(required(name));
    }

    /** The default of the duration option {@code <name>Millis}. */
    public Duration defaultDuration(String name) {
        return Duration.ofMillis(defaultLong(name + "Millis"));
    }

    /** Returns {@code value} if it is within the limits of {@code name}. */
    public int checkInt(String name, int value) {
        checkLong(name, value);
        return value;
    }

    /** Returns {@code value} if it is within the limits of {@code name}. */
    public long checkLong(String name, long value) {
        Spec spec = spec(name);
        boolean below = spec.min != null && value < Long.parseLong(spec.min);
        boolean above = spec.max != null && value > Long.parseLong(spec.max);
        if (below || above) {
            throw new IllegalArgumentException(
                    name + " must be " + spec.range("") + ", got " + value);
        }
        return value;
    }

    /** Returns {@code value} if it is a number within the limits of {@code name}. */
    public double checkReal(String name, double value) {
        Spec spec = spec(name);
        boolean below = spec.min != null && !(value >= Double.parseDouble(spec.min));
        boolean above = spec.max != null && !(value <= Double.parseDouble(spec.max));
        if (below || above || Double.isNaN(value)) {
            throw new IllegalArgumentException(
                    name + " must be " + spec.range("") + ", got " + value);
        }
        return value;
    }

    /**
     * Returns {@code value} if its whole milliseconds are within the limits of the duration option
     * {@code <name>Millis}.
     */
    public Duration checkDuration(String name, Duration value) {
        return checkDuration(name, "Millis", " ms", value, OptionTable::toMillisSaturated);
    }

    /**
     * Returns {@code value} if its microseconds (a part of one counting as one) are within the
     * limits of the duration option {@code <name>Micros}.
     */
    public Duration checkMicros(String name, Duration value) {
        return checkDuration(name, "Micros", " µs", value, OptionTable::toMicrosSaturated);
    }

    private Duration checkDuration(
            String name,
            String suffix,
            String unit,
            Duration value,
            ToLongFunction<Duration> inUnits) {
        if (value == null) {
            throw new IllegalArgumentException(name + " must not be null");
        }
        Spec spec = spec(name + suffix);
        long units = inUnits.applyAsLong(value);
        boolean below =
                spec.min != null && (value.isNegative() || units < Long.parseLong(spec.min));
        boolean above = spec.max != null && units > Long.parseLong(spec.max);
        if (below || above) {
            throw new IllegalArgumentException(
                    name + " must be " + spec.range(unit) + ", got " + value);
        }
        return value;
    }

    /** The default of the duration option {@code <name>Micros}. */
    public Duration defaultMicros(String name) {
        return Duration.ofNanos(Math.multiplyExact(defaultLong(name + "Micros"), 1000L));
    }

    /** The value of a microsecond option as the runtime takes it; a part of one counts as one. */
    public static String micros(Duration value) {
        return Long.toString(toMicrosSaturated(value));
    }

    /** The value of a duration option as the runtime takes it: whole milliseconds. */
    public static String millis(Duration value) {
        return Long.toString(toMillisSaturated(value));
    }

    private static long toMicrosSaturated(Duration value) {
        try {
            long nanos = value.toNanos();
            return nanos / 1000 + (nanos % 1000 > 0 ? 1 : 0);
        } catch (ArithmeticException overflow) {
            return value.isNegative() ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
    }

    private static long toMillisSaturated(Duration value) {
        try {
            return value.toMillis();
        } catch (ArithmeticException overflow) {
            return value.isNegative() ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
    }

    private String required(String name) {
        String value = spec(name).defaultValue;
        if (value == null) {
            throw new IllegalStateException(RESOURCE + " has no default for " + name);
        }
        return value;
    }

    private Spec spec(String name) {
        Spec spec = specs.get(name);
        if (spec == null) {
            throw new IllegalStateException(RESOURCE + " has no option " + name);
        }
        return spec;
    }

    private static OptionTable load(String prefix) {
        Map<String, Spec> specs = new LinkedHashMap<>();
        try (InputStream in = OptionTable.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(
                        RESOURCE + " is missing from the flink-ros jar; the jar is broken");
            }
            Scanner lines = new Scanner(in, StandardCharsets.UTF_8.name());
            while (lines.hasNextLine()) {
                String line = lines.nextLine().trim();
                if (line.isEmpty() || line.startsWith("#")) {
                    continue;
                }
                int equals = line.indexOf('=');
                String key = line.substring(0, equals).trim();
                if (key.startsWith(prefix)) {
                    specs.put(
                            key.substring(prefix.length()), Spec.parse(line.substring(equals + 1)));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
        return new OptionTable(specs);
    }

    /** A line of the table: {@code <default> [<min>, <max>]}. */
    private static final class Spec {
        @Nullable final String defaultValue;
        @Nullable final String min;
        @Nullable final String max;

        Spec(@Nullable String defaultValue, @Nullable String min, @Nullable String max) {
            this.defaultValue = defaultValue;
            this.min = min;
            this.max = max;
        }

        static Spec parse(String text) {
            int bracket = text.indexOf('[');
            if (bracket < 0) {
                return new Spec(nonEmpty(text), null, null);
            }
            String limits = text.substring(bracket + 1, text.lastIndexOf(']'));
            int comma = limits.indexOf(',');
            return new Spec(
                    nonEmpty(text.substring(0, bracket)),
                    nonEmpty(limits.substring(0, comma)),
                    nonEmpty(limits.substring(comma + 1)));
        }

        String range(String unit) {
            if (min != null && max != null) {
                return "in [" + min + ", " + max + "]" + unit;
            }
            return min != null ? "at least " + min + unit : "at most " + max + unit;
        }

        @Nullable
        private static String nonEmpty(String text) {
            String trimmed = text.trim();
            return trimmed.isEmpty() ? null : trimmed;
        }
    }
}
