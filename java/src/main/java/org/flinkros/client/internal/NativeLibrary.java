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

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.Properties;

/**
 * Loads the native runtime ({@code ros_jni}) once per class loader.
 *
 * <p>Order: the file named by the system property {@value #LIBRARY_PATH_PROPERTY}; else {@code
 * System.loadLibrary("ros_jni")}; else the copy inside the jar under {@code /native/<os>-<arch>/},
 * extracted to a unique temporary file. A unique file per load lets several class loaders (one per
 * Flink job) each load their own copy, which the JVM requires. After loading, the library's version
 * must equal this jar's.
 */
@Internal
public final class NativeLibrary {
    /** System property naming a library file to load instead of the bundled one. */
    public static final String LIBRARY_PATH_PROPERTY = "flinkros.native.library";

    private static final Logger LOG = LoggerFactory.getLogger(NativeLibrary.class);
    private static final String LIBRARY_NAME = "ros_jni";

    private static volatile boolean loaded;

    private NativeLibrary() {}

    /** Loads the library if this class loader has not yet. Thread-safe and idempotent. */
    public static void load() {
        if (loaded) {
            return;
        }
        synchronized (NativeLibrary.class) {
            if (loaded) {
                return;
            }
            String origin = loadLibrary();
            checkVersion(javaVersion(), NativeBridge.nativeVersion(), origin);
            loaded = true;
        }
    }

    private static String loadLibrary() {
        String explicit = System.getProperty(LIBRARY_PATH_PROPERTY);
        if (explicit != null && !explicit.isEmpty()) {
            try {
                System.load(explicit);
                return explicit;
            } catch (UnsatisfiedLinkError taken) {
                Path file = Paths.get(explicit);
                if (!Files.isRegularFile(file)) {
                    throw taken;
                }
                // Already loaded by another class loader (another job's): load a copy of our own.
                try (InputStream in = Files.newInputStream(file)) {
                    return loadCopy(in, explicit);
                } catch (IOException e) {
                    throw new UncheckedIOException("Cannot read " + explicit, e);
                }
            }
        }
        try {
            System.loadLibrary(LIBRARY_NAME);
            return "java.library.path";
        } catch (UnsatisfiedLinkError notOnPathOrTaken) {
            // Not installed, or already loaded by another class loader: use our own copy.
            return loadFromJar();
        }
    }

    /**
     * Loads a private copy of the library read from {@code in}: a library file can be loaded by one
     * class loader only, and every Flink job has its own.
     */
    private static String loadCopy(InputStream in, String origin) throws IOException {
        Path file = Files.createTempFile("libros_jni-", "-" + System.mapLibraryName(""));
        Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
        System.load(file.toString());
        try {
            // The mapping stays valid; only Windows refuses to delete a loaded library.
            Files.delete(file);
        } catch (IOException stillInUse) {
            file.toFile().deleteOnExit();
        }
        return origin;
    }

    private static String loadFromJar() {
        String platform = platform();
        String resource = "/native/" + platform + "/" + System.mapLibraryName(LIBRARY_NAME);
        try (InputStream in = NativeLibrary.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new UnsatisfiedLinkError(
                        "flink-ros has no native library for platform "
                                + platform
                                + " (looked for "
                                + resource
                                + " in the jar). Build it with 'mvn -B verify' on that "
                                + "platform, or point -D"
                                + LIBRARY_PATH_PROPERTY
                                + " at a built library.");
            }
            String origin = loadCopy(in, resource);
            LOG.debug("Loaded flink-ros native library {} for {}", resource, platform);
            return origin;
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "Cannot extract the flink-ros native library " + resource, e);
        }
    }

    /** The platform directory name, as the build's os-maven-plugin names it. */
    static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        String osName =
                os.startsWith("linux")
                        ? "linux"
                        : os.startsWith("mac") || os.startsWith("darwin")
                                ? "osx"
                                : os.startsWith("windows") ? "windows" : os;
        String archName;
        switch (arch) {
            case "amd64":
            case "x86_64":
                archName = "x86_64";
                break;
            case "aarch64":
            case "arm64":
                archName = "aarch_64";
                break;
            default:
                archName = arch;
        }
        return osName + "-" + archName;
    }

    static String javaVersion() {
        Properties properties = new Properties();
        try (InputStream in = NativeLibrary.class.getResourceAsStream("ros-version.properties")) {
            if (in == null) {
                throw new IllegalStateException("ros-version.properties is missing from the jar");
            }
            properties.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read ros-version.properties", e);
        }
        return properties.getProperty("version");
    }

    /**
     * Fails unless the native library was built from the same sources as this jar: its version must
     * equal the Java version without a {@code -SNAPSHOT} suffix.
     */
    static void checkVersion(String javaVersion, String nativeVersion, String origin) {
        String expected = javaVersion.replace("-SNAPSHOT", "");
        if (!expected.equals(nativeVersion)) {
            throw new UnsatisfiedLinkError(
                    "flink-ros native library version "
                            + nativeVersion
                            + " (loaded from "
                            + origin
                            + ") does not match the Java library version "
                            + javaVersion
                            + "; use the native library built with this jar");
        }
    }
}
