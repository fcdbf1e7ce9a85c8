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
package org.flinkros.tests.cluster;

import java.io.File;
import java.net.MalformedURLException;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.jar.JarFile;

/**
 * The classpath of the cluster's JVMs: the test JVM's classpath (Flink, its connectors, logging)
 * without this project's own classes, which reach the cluster only inside the job jar, as they
 * would on a real Flink installation.
 */
public final class ClusterClasspath {
    private ClusterClasspath() {}

    /**
     * The test JVM's classpath without the build output of the modules of {@code projectClasses}:
     * every entry in the directory that holds one of their jars or classes directories (a module's
     * {@code target/}, or its version directory in the local Maven repository), and every other
     * entry that holds one of them (a job jar with the project shaded in).
     *
     * @throws IllegalStateException if any of {@code projectClasses} still loads from the result
     */
    public static List<Path> without(Class<?>... projectClasses) {
        Set<Path> excluded = new LinkedHashSet<>();
        for (Class<?> projectClass : projectClasses) {
            excluded.add(location(projectClass).getParent());
        }
        List<Path> classpath = new ArrayList<>();
        for (Path entry : testClasspath()) {
            if (excluded.stream().noneMatch(entry::startsWith)
                    && !containsAny(entry, projectClasses)) {
                classpath.add(entry);
            }
        }
        for (Class<?> projectClass : projectClasses) {
            if (loads(classpath, projectClass.getName())) {
                throw new IllegalStateException(
                        projectClass.getName() + " is still on the cluster classpath " + classpath);
            }
        }
        return classpath;
    }

    /** Whether a classpath entry (a jar, such as a shaded job jar, or a directory) holds any. */
    private static boolean containsAny(Path entry, Class<?>... classes) {
        for (Class<?> type : classes) {
            String file = type.getName().replace('.', '/') + ".class";
            if (Files.isDirectory(entry)) {
                if (Files.exists(entry.resolve(file))) {
                    return true;
                }
            } else if (Files.isRegularFile(entry)) {
                try (JarFile jar = new JarFile(entry.toFile())) {
                    if (jar.getEntry(file) != null) {
                        return true;
                    }
                } catch (java.io.IOException e) {
                    throw new IllegalStateException("cannot read " + entry, e);
                }
            }
        }
        return false;
    }

    /** The jar or classes directory a class was loaded from. */
    public static Path location(Class<?> type) {
        try {
            return Paths.get(type.getProtectionDomain().getCodeSource().getLocation().toURI())
                    .toAbsolutePath()
                    .normalize();
        } catch (URISyntaxException e) {
            throw new IllegalStateException("cannot locate " + type, e);
        }
    }

    /** Whether a JVM started with only {@code classpath} would load {@code className}. */
    public static boolean loads(List<Path> classpath, String className) {
        URL[] urls = new URL[classpath.size()];
        try {
            for (int i = 0; i < urls.length; i++) {
                urls[i] = classpath.get(i).toUri().toURL();
            }
        } catch (MalformedURLException e) {
            throw new IllegalStateException(e);
        }
        // The platform loader as parent: nothing from the test JVM's own classpath leaks in.
        try (URLClassLoader loader =
                new URLClassLoader(urls, ClassLoader.getPlatformClassLoader())) {
            Class.forName(className, false, loader);
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The test JVM's classpath. Surefire and Failsafe may start the JVM from a manifest-only jar;
     * they then name the real classpath in {@code surefire.test.class.path}.
     */
    private static List<Path> testClasspath() {
        String classpath = System.getProperty("surefire.test.class.path");
        if (classpath == null || classpath.isEmpty()) {
            classpath = System.getProperty("java.class.path");
        }
        List<Path> entries = new ArrayList<>();
        for (String entry : Arrays.asList(classpath.split(File.pathSeparator))) {
            if (!entry.isEmpty()) {
                entries.add(Paths.get(entry).toAbsolutePath().normalize());
            }
        }
        return entries;
    }
}
