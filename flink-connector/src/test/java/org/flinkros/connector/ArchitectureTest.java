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

import org.apache.flink.annotation.Experimental;
import org.apache.flink.annotation.Internal;
import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.test.junit5.MiniClusterExtension;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

/**
 * The rules that keep the layers apart: the Java facade knows nothing of Flink's runtime or of the
 * connector, every public class says how stable it is, and ITCases run on a MiniCluster that the
 * test framework manages. A violation fails the build, naming the class and the rule.
 */
class ArchitectureTest {
    private static JavaClasses production;
    private static JavaClasses tests;

    @BeforeAll
    static void importClasses() {
        // The facade's classes come from its jar (or its module's output), the connector's from
        // this module's.
        production =
                new ClassFileImporter()
                        .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                        .importPackages("org.flinkros");
        tests =
                new ClassFileImporter()
                        .withImportOption(ImportOption.Predefined.ONLY_INCLUDE_TESTS)
                        .importPackages("org.flinkros.connector");
    }

    @Test
    void theFacadeDependsOnNoFlinkRuntimeClassAndNoConnectorClass() {
        assertClassesPresent("org.flinkros.client.");
        noClasses()
                .that()
                .resideInAPackage("org.flinkros.client..")
                .should()
                .dependOnClassesThat(
                        DescribedPredicate.describe(
                                "are Flink classes other than its annotations",
                                (JavaClass c) ->
                                        c.getPackageName().startsWith("org.apache.flink")
                                                && !c.getPackageName()
                                                        .startsWith("org.apache.flink.annotation")))
                .orShould()
                .dependOnClassesThat()
                .resideInAPackage("org.flinkros.connector..")
                .because("the facade must work without Flink (a gRPC client or server on its own)")
                .check(production);
    }

    @Test
    void everyPublicClassSaysHowStableItIs() {
        classes()
                .that()
                .arePublic()
                .and()
                .areTopLevelClasses()
                .should()
                .beAnnotatedWith(PublicEvolving.class)
                .orShould()
                .beAnnotatedWith(Internal.class)
                .orShould()
                .beAnnotatedWith(Experimental.class)
                .because("users must see which classes they may rely on")
                .check(production);
    }

    @Test
    void publicApiPackagesExposeNothingInternal() {
        noClasses()
                .that()
                .resideInAnyPackage("org.flinkros.client", "org.flinkros.connector")
                .and()
                .arePublic()
                .should(exposeInPublicSignatures("..internal.."))
                .check(production);
    }

    @Test
    void itCasesRunOnAMiniClusterTheFrameworkManages() {
        if (tests.stream().noneMatch(c -> c.getSimpleName().endsWith("ITCase"))) {
            throw new AssertionError("no ITCase was imported; the rule would pass");
        }
        classes()
                .that()
                .haveSimpleNameEndingWith("ITCase")
                .and()
                .areTopLevelClasses()
                .should(registerAMiniClusterExtension())
                .because(
                        "a MiniCluster the test starts itself leaks on failure and hides the"
                                + " cluster's configuration")
                .check(tests);
    }

    private static void assertClassesPresent(String prefix) {
        boolean present = production.stream().anyMatch(c -> c.getName().startsWith(prefix));
        if (!present) {
            throw new AssertionError(
                    "no class of " + prefix + " was imported; the rule would pass");
        }
    }

    private static ArchCondition<JavaClass> registerAMiniClusterExtension() {
        return new ArchCondition<JavaClass>("register a static MiniClusterExtension") {
            @Override
            public void check(JavaClass item, ConditionEvents events) {
                boolean registered =
                        item.getFields().stream()
                                .anyMatch(
                                        f ->
                                                f.getModifiers().contains(JavaModifier.STATIC)
                                                        && f.getRawType()
                                                                .isAssignableTo(
                                                                        MiniClusterExtension.class)
                                                        && f.isAnnotatedWith(
                                                                RegisterExtension.class));
                if (!registered) {
                    events.add(
                            SimpleConditionEvent.violated(
                                    item,
                                    item.getName()
                                            + " has no static @RegisterExtension"
                                            + " MiniClusterExtension field"));
                }
            }
        };
    }

    private static ArchCondition<JavaClass> exposeInPublicSignatures(String packagePattern) {
        return new ArchCondition<JavaClass>("expose classes of " + packagePattern) {
            @Override
            public void check(JavaClass item, ConditionEvents events) {
                item.getMethods().stream()
                        .filter(m -> m.getModifiers().contains(JavaModifier.PUBLIC))
                        .filter(m -> !m.isAnnotatedWith(Internal.class))
                        .forEach(
                                m -> {
                                    List<JavaClass> exposed = new ArrayList<>();
                                    exposed.add(m.getRawReturnType());
                                    exposed.addAll(m.getRawParameterTypes());
                                    for (JavaClass type : exposed) {
                                        if (type.getPackageName().contains(".internal")) {
                                            events.add(
                                                    SimpleConditionEvent.satisfied(
                                                            item,
                                                            m.getFullName()
                                                                    + " exposes "
                                                                    + type.getName()));
                                        }
                                    }
                                });
            }
        };
    }
}
