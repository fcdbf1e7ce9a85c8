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

import org.flinkros.client.RosClient;
import org.flinkros.connector.RosServices;

import org.apache.flink.runtime.jobgraph.JobGraph;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Builds a job jar as a user would ship one: the flink-ros libraries (the native runtime included)
 * and the job's own classes, in one jar. Sources may be jars (a Maven build) or classes directories
 * (an IDE).
 */
public final class JobJar {
    private final JarOutputStream out;
    private final Set<String> written = new HashSet<>();

    private JobJar(JarOutputStream out) {
        this.out = out;
    }

    /**
     * Ships {@code graph} as a user would: with a job jar, written to {@code jar}, of flink-ros and
     * {@code jobClass}'s package, and nothing on the cluster's class path.
     */
    public static JobGraph attach(JobGraph graph, Path jar, Class<?> jobClass) throws IOException {
        build(
                jar,
                List.of(
                        ClusterClasspath.location(RosClient.class),
                        ClusterClasspath.location(RosServices.class)),
                jobClass);
        graph.addJar(new org.apache.flink.core.fs.Path(jar.toUri()));
        graph.setClasspaths(Collections.emptyList());
        return graph;
    }

    /**
     * Writes {@code jar} with the whole content of each library's jar or directory, and the classes
     * of {@code jobClass}'s package (and below) from where {@code jobClass} was loaded.
     */
    public static Path build(Path jar, List<Path> libraries, Class<?> jobClass) throws IOException {
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        Files.createDirectories(jar.getParent());
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), manifest)) {
            JobJar job = new JobJar(out);
            job.written.add(JarFile.MANIFEST_NAME);
            for (Path library : libraries) {
                job.add(library, "");
            }
            String jobPackage = jobClass.getPackage().getName().replace('.', '/') + "/";
            job.add(ClusterClasspath.location(jobClass), jobPackage);
        }
        return jar;
    }

    /** The names of the entries of a jar. */
    public static Set<String> entries(Path jar) throws IOException {
        try (JarFile file = new JarFile(jar.toFile())) {
            return file.stream().map(JarEntry::getName).collect(Collectors.toSet());
        }
    }

    private void add(Path source, String prefix) throws IOException {
        if (Files.isDirectory(source)) {
            try (Stream<Path> files = Files.walk(source)) {
                for (Path file : files.filter(Files::isRegularFile).sorted().toArray(Path[]::new)) {
                    String name = source.relativize(file).toString().replace('\\', '/');
                    if (name.startsWith(prefix)) {
                        try (InputStream in = Files.newInputStream(file)) {
                            write(name, in);
                        }
                    }
                }
            }
            return;
        }
        try (JarFile jar = new JarFile(source.toFile())) {
            Enumeration<JarEntry> entries = jar.entries();
            while (entries.hasMoreElements()) {
                JarEntry entry = entries.nextElement();
                if (!entry.isDirectory() && entry.getName().startsWith(prefix)) {
                    try (InputStream in = jar.getInputStream(entry)) {
                        write(entry.getName(), in);
                    }
                }
            }
        }
    }

    /** Writes an entry; the first of equal names wins (e.g. each jar's Maven metadata). */
    private void write(String name, InputStream in) throws IOException {
        if (!written.add(name)) {
            return;
        }
        out.putNextEntry(new JarEntry(name));
        in.transferTo(out);
        out.closeEntry();
    }
}
