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
package org.flinkros.connector.sql;

import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A {@code ros} model's options are checked when a query using it is planned, with errors that name
 * the option and the fix.
 */
class RosModelProviderFactoryTest {
    private static final String TOKEN = "0123456789abcdef0123456789abcdef";

    private static TableEnvironment tableEnvironment() {
        TableEnvironment tEnv = TableEnvironment.create(EnvironmentSettings.inStreamingMode());
        tEnv.executeSql(
                "CREATE TEMPORARY VIEW reviews AS SELECT * FROM (VALUES ('good')) AS t(text)");
        return tEnv;
    }

    /** Plans {@code ML_PREDICT} over a model with {@code options}. */
    private static String plan(TableEnvironment tEnv, String options) {
        tEnv.executeSql(
                "CREATE TEMPORARY MODEL m INPUT (text STRING) OUTPUT (label STRING)"
                        + " WITH ('provider' = 'ros', "
                        + options
                        + ")");
        return tEnv.explainSql(
                "SELECT * FROM ML_PREDICT(TABLE reviews, MODEL m, DESCRIPTOR(text))");
    }

    @Test
    void aModelOfTheJobsServicePlans() {
        assertThat(plan(tableEnvironment(), "'service' = 's'")).contains("ML_PREDICT");
    }

    @Test
    void anUnknownOptionIsNamed() {
        assertThatThrownBy(() -> plan(tableEnvironment(), "'service' = 's', 'timout' = '1 s'"))
                .rootCause()
                .hasMessageContaining("timout");
    }

    @Test
    void aModelWithoutServiceIsRefused() {
        assertThatThrownBy(() -> plan(tableEnvironment(), "'method' = 'predict'"))
                .rootCause()
                .hasMessageContaining("service");
    }

    @Test
    void sharedServiceOptionsNeedClusterDiscovery(@TempDir Path dir) throws Exception {
        Path token = Files.write(dir.resolve("token"), TOKEN.getBytes());
        assertThatThrownBy(
                        () ->
                                plan(
                                        tableEnvironment(),
                                        "'service' = 's', 'token-file' = '" + token + "'"))
                .rootCause()
                .hasMessageContaining("'discovery' = 'cluster'");
    }

    @Test
    void aSharedServiceNeedsItsTokenFile(@TempDir Path dir) {
        String base = "'service' = 's', 'discovery' = 'cluster', 'rest-url' = 'http://jm:8081'";
        assertThatThrownBy(() -> plan(tableEnvironment(), base))
                .rootCause()
                .hasMessageContaining("'token-file'");
        Path missing = dir.resolve("missing");
        assertThatThrownBy(
                        () -> plan(tableEnvironment(), base + ", 'token-file' = '" + missing + "'"))
                .rootCause()
                .hasMessageContaining("does not exist");
    }

    @Test
    void aSharedServiceNeedsTheClustersRestAddress(@TempDir Path dir) throws Exception {
        Path token = Files.write(dir.resolve("token"), TOKEN.getBytes());
        String options = "'service' = 's', 'discovery' = 'cluster', 'token-file' = '" + token + "'";
        assertThatThrownBy(() -> plan(tableEnvironment(), options))
                .rootCause()
                .hasMessageContaining("'rest-url'");
        // The session's REST address is enough.
        TableEnvironment session = tableEnvironment();
        session.getConfig().set("rest.address", "jobmanager");
        assertThat(plan(session, options)).contains("ML_PREDICT");
    }
}
