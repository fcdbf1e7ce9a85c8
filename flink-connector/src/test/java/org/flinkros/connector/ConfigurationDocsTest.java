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
package org.flinkros.connector;

import org.flinkros.client.RosClientOptions;
import org.flinkros.client.RosServerOptions;
import org.flinkros.connector.sql.RosModelProviderFactory;

import org.apache.flink.configuration.ConfigOption;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * docs/configuration.md cannot drift from the code: each options table names exactly the options
 * its builder has, and each default it gives is the builder's default.
 */
class ConfigurationDocsTest {
    private static final Path DOCS = Paths.get("..", "docs", "configuration.md");
    private static final RpcOperator ECHO = (method, payload) -> payload;

    @Test
    void theServiceTableMatchesRosDescriptor() throws Exception {
        Map<String, String> documented = table("## Declaring a service");
        Set<String> options = builderOptions(RosDescriptor.Builder.class);
        options.add("name");
        options.add("operator");
        assertThat(documented.keySet()).containsExactlyInAnyOrderElementsOf(options);

        RosDescriptor defaults = RosDescriptor.builder("x", ECHO).build();
        documented.forEach(
                (option, text) -> {
                    if (text.equals("(required)")) {
                        return;
                    }
                    Object value = invoke(defaults, option);
                    if (value instanceof RosServerOptions) {
                        assertThat(value).hasToString(RosServerOptions.defaults().toString());
                        value = "RosServerOptions.defaults()";
                    }
                    String shown =
                            value instanceof Number
                                            && ((Number) value).doubleValue() == 0
                                            && text.equals("not declared")
                                    ? "not declared"
                                    : render(value);
                    assertThat(shown).as("default of %s", option).isEqualTo(text);
                });
    }

    @Test
    void theCallingTableMatchesRosAsyncDataStreamBuilder() throws Exception {
        Map<String, String> documented = table("## Calling a service");
        assertThat(documented.keySet())
                .containsExactlyInAnyOrderElementsOf(
                        builderOptions(RosAsyncDataStream.Builder.class));
        assertThat(documented.get("timeout")).isEqualTo(render(RosAsyncDataStream.DEFAULT_TIMEOUT));
        assertThat(documented.get("capacity"))
                .isEqualTo(render(RosAsyncDataStream.DEFAULT_CAPACITY));
        assertThat(documented.get("startupTimeout"))
                .isEqualTo(RosAsyncDataStream.DEFAULT_STARTUP_TIMEOUT.toMinutes() + " min");
        assertThat(documented.get("startupInstances")).isEqualTo("1");
    }

    @Test
    void theClientTableMatchesRosClientOptions() throws Exception {
        Map<String, String> documented = table("## The client");
        assertThat(documented.keySet())
                .containsExactlyInAnyOrderElementsOf(
                        builderOptions(RosClientOptions.Builder.class));
        RosClientOptions defaults = RosClientOptions.defaults();
        documented.forEach(
                (option, text) -> {
                    String shown;
                    if (option.equals("ejection")) {
                        shown =
                                render(defaults.ejectionMin())
                                        + ", "
                                        + render(defaults.ejectionMax());
                    } else if (option.equals("callbackExecutor")) {
                        assertThat(defaults.callbackExecutor()).isNull();
                        shown = "a thread owned by the client";
                    } else {
                        shown = render(invoke(defaults, option));
                    }
                    assertThat(shown).as("default of %s", option).isEqualTo(text);
                });
    }

    @Test
    void theServerTableMatchesRosServerOptions() throws Exception {
        Map<String, String> documented = table("## The server");
        assertThat(documented.keySet())
                .containsExactlyInAnyOrderElementsOf(
                        builderOptions(RosServerOptions.Builder.class));
        RosServerOptions defaults = RosServerOptions.defaults();
        documented.forEach(
                (option, text) -> {
                    String shown;
                    if (option.equals("tls")) {
                        shown = render(defaults.tlsCertificateFile());
                        assertThat(defaults.tlsKeyFile()).isNull();
                    } else if (option.equals("batching")) {
                        // No method has batching of its own by default.
                        assertThat(defaults.maxBatchSize("m")).isEqualTo(defaults.maxBatchSize());
                        assertThat(defaults.maxBatchDelay("m")).isEqualTo(defaults.maxBatchDelay());
                        shown = "none";
                    } else {
                        Object value = invoke(defaults, option);
                        shown =
                                option.equals("bindHost") && value == null
                                        ? "not set"
                                        : render(value);
                    }
                    assertThat(shown).as("default of %s", option).isEqualTo(text);
                });
    }

    @Test
    void theModelTableMatchesTheModelProviderOptions() throws Exception {
        Map<String, String> documented = table("## SQL models");
        RosModelProviderFactory factory = new RosModelProviderFactory();
        Set<ConfigOption<?>> options = new java.util.HashSet<>(factory.optionalOptions());
        options.addAll(factory.requiredOptions());
        Set<String> keys = new TreeSet<>();
        for (ConfigOption<?> option : options) {
            keys.add(option.key());
            String text = documented.get(option.key());
            if (factory.requiredOptions().contains(option)) {
                assertThat(text).as("default of %s", option.key()).isEqualTo("(required)");
            } else if (option.hasDefaultValue()) {
                assertThat(text)
                        .as("default of %s", option.key())
                        .isEqualTo(render(option.defaultValue()));
            }
        }
        assertThat(documented.keySet()).containsExactlyInAnyOrderElementsOf(keys);
    }

    /** The public setters of a builder: the options it has. */
    private static Set<String> builderOptions(Class<?> builder) {
        Set<String> options = new TreeSet<>();
        for (Method method : builder.getDeclaredMethods()) {
            if (Modifier.isPublic(method.getModifiers()) && method.getReturnType() == builder) {
                options.add(method.getName());
            }
        }
        return options;
    }

    /**
     * The rows of the first table after {@code heading}: option name to documented default, with
     * backticks dropped. A row naming two options ({@code `a` / `b`}, defaults {@code x / y})
     * yields both; {@code `ejection(min, max)`} yields {@code ejection}.
     */
    private static Map<String, String> table(String heading) throws IOException {
        List<String> lines = Files.readAllLines(DOCS, StandardCharsets.UTF_8);
        int at = 0;
        while (!lines.get(at).startsWith(heading)) {
            at++;
        }
        while (!lines.get(at).startsWith("| ")) {
            at++;
        }
        Map<String, String> rows = new LinkedHashMap<>();
        for (at += 2; at < lines.size() && lines.get(at).startsWith("| "); at++) {
            String[] cells = lines.get(at).split("\\|");
            String names = cells[1].trim().replace("`", "");
            String value = cells[2].trim().replace("`", "");
            String[] options = names.split(" / ");
            String[] values = options.length > 1 ? value.split(" / ") : new String[] {value};
            for (int i = 0; i < options.length; i++) {
                String option = options[i].replaceAll("\\(.*\\)", "");
                rows.put(option, values[i]);
            }
        }
        return rows;
    }

    private static Object invoke(Object target, String accessor) {
        try {
            return target.getClass().getMethod(accessor).invoke(target);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("no accessor " + accessor + " on " + target.getClass(), e);
        }
    }

    /** A value as the docs write it. */
    private static String render(Object value) {
        if (value == null) {
            return "none";
        }
        if (value instanceof Duration) {
            long millis = ((Duration) value).toMillis();
            if (millis == 0) {
                return "0";
            }
            if (millis % 60_000 == 0) {
                return millis / 60_000 + " min";
            }
            return millis % 1000 == 0 ? millis / 1000 + " s" : millis + " ms";
        }
        if ((value instanceof Integer || value instanceof Long)
                && ((Number) value).longValue() >= 1 << 20
                && ((Number) value).longValue() % (1 << 20) == 0) {
            return (((Number) value).longValue() >> 20) + " MiB";
        }
        if (value instanceof Double) {
            double number = (Double) value;
            return number == Math.rint(number)
                    ? String.valueOf((long) number)
                    : String.valueOf(number);
        }
        if (value instanceof Collection && ((Collection<?>) value).isEmpty()) {
            return "any";
        }
        return String.valueOf(value);
    }
}
