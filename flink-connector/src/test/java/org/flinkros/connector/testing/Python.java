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
package org.flinkros.connector.testing;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Optional;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The Python interpreters tests run. */
public final class Python {
    /**
     * The system property naming the interpreter that has the {@code flinkros} package (the build
     * sets it to {@code python/target/venv/bin/python}).
     */
    public static final String FLINKROS_PYTHON = "flinkros.python";

    private Python() {}

    /**
     * A plain {@code python3} from the {@code PATH}, for stand-in scripts that use the standard
     * library only; the test is skipped where there is none.
     */
    public static String plain() {
        Optional<Path> found = onPath("python3");
        assumeTrue(found.isPresent(), "no python3 on the PATH");
        return found.get().toString();
    }

    /**
     * The interpreter with the {@code flinkros} package, from {@value #FLINKROS_PYTHON}; the test
     * is skipped, saying why, where the property is not set or names no file (the Python package
     * was not built).
     */
    public static String withFlinkros() {
        String property = System.getProperty(FLINKROS_PYTHON, "").trim();
        assumeTrue(
                !property.isEmpty(),
                "system property " + FLINKROS_PYTHON + " names no interpreter with flinkros");
        assumeTrue(
                Files.isExecutable(Paths.get(property)),
                FLINKROS_PYTHON
                        + "="
                        + property
                        + " does not exist: build the Python package first (python/)");
        return property;
    }

    private static Optional<Path> onPath(String command) {
        String path = System.getenv("PATH");
        if (path == null) {
            return Optional.empty();
        }
        for (String directory : path.split(File.pathSeparator)) {
            Path candidate = Paths.get(directory, command);
            if (Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }
}
