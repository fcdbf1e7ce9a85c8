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
package org.flinkros.connector.internal;

import org.flinkros.connector.internal.discovery.DirectoryLookup;

import org.apache.flink.api.dag.Transformation;
import org.apache.flink.runtime.checkpoint.CheckpointCoordinator;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.flink.runtime.executiongraph.failover.ExecutionFailureHandler;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.jobgraph.tasks.TaskOperatorEventGateway;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.runtime.operators.coordination.CoordinationResponse;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.operators.async.AsyncWaitOperator;
import org.apache.flink.streaming.api.operators.async.AsyncWaitOperatorFactory;
import org.apache.flink.streaming.api.operators.collect.CollectCoordinationResponse;
import org.apache.flink.util.FlinkRuntimeException;
import org.apache.flink.util.InstantiationUtil;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The internal Flink API the connector relies on works with the Flink on the classpath (the build
 * runs against {@value FlinkInternals#TESTED_VERSIONS}), and only {@link FlinkInternals} and the
 * operator and coordinator classes that must extend Flink's own use it.
 */
class FlinkInternalsTest {

    @Test
    void aCoordinationReplySurvivesSerializationWithoutTheJobsClassLoader() throws Exception {
        CoordinationResponse reply =
                FlinkInternals.coordinationReply("tag", 42, Arrays.asList("a:1", "b:2"));
        assertThat(reply.getClass().getName()).startsWith("org.apache.flink.");
        // A TaskManager reads the reply with Flink's class loader, not the job's.
        CoordinationResponse received =
                InstantiationUtil.deserializeObject(
                        InstantiationUtil.serializeObject(reply),
                        CoordinationResponse.class.getClassLoader());
        assertThat(FlinkInternals.replyNumber(received, "tag")).isEqualTo(42);
        assertThat(FlinkInternals.replyStrings(received, "tag")).containsExactly("a:1", "b:2");
        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> FlinkInternals.replyNumber(received, "other"))
                .isInstanceOf(IOException.class);
    }

    @Test
    void aFailureWithoutRestartIsUnrecoverableToTheScheduler() {
        Throwable failure =
                new Exception(
                        "wrapped as a task failure is",
                        FlinkInternals.withoutRestart(new FlinkRuntimeException("cause")));
        assertThat(ExecutionFailureHandler.isUnrecoverableError(failure)).isTrue();
        assertThat(ExecutionFailureHandler.isUnrecoverableError(new Exception("other"))).isFalse();
    }

    @Test
    void theHistogramKeepsAWindow() {
        org.apache.flink.metrics.Histogram histogram = FlinkInternals.histogram(2);
        histogram.update(1);
        histogram.update(5);
        histogram.update(7);
        assertThat(histogram.getCount()).isEqualTo(3);
        assertThat(histogram.getStatistics().getMin()).isEqualTo(5);
    }

    @Test
    void operatorsAndCoordinatorsStillExtendWhatFlinkOffers() throws Exception {
        // The constructors the connector's subclasses call.
        assertThat(
                        AsyncWaitOperator.class.getConstructor(
                                org.apache.flink.streaming.api.operators.StreamOperatorParameters
                                        .class,
                                org.apache.flink.streaming.api.functions.async.AsyncFunction.class,
                                long.class,
                                int.class,
                                org.apache.flink.streaming.api.datastream.AsyncDataStream.OutputMode
                                        .class,
                                org.apache.flink.streaming.api.functions.async.AsyncRetryStrategy
                                        .class,
                                org.apache.flink.streaming.runtime.tasks.ProcessingTimeService
                                        .class,
                                org.apache.flink.api.common.operators.MailboxExecutor.class))
                .isNotNull();
        assertThat(
                        AsyncWaitOperatorFactory.class.getConstructor(
                                org.apache.flink.streaming.api.functions.async.AsyncFunction.class,
                                long.class,
                                int.class,
                                org.apache.flink.streaming.api.datastream.AsyncDataStream.OutputMode
                                        .class))
                .isNotNull();
    }

    @Test
    void theDirectoryOperatorIdIsTheOneFlinkGivesItsUid() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        org.flinkros.connector.RosServices.add(
                env,
                org.flinkros.connector.RosDescriptor.builder("named", (method, payload) -> payload)
                        .build());
        List<OperatorID> operators = new java.util.ArrayList<>();
        for (org.apache.flink.runtime.jobgraph.JobVertex vertex :
                env.getStreamGraph().getJobGraph().getVertices()) {
            for (org.apache.flink.runtime.OperatorIDPair pair : vertex.getOperatorIDs()) {
                operators.add(pair.getGeneratedOperatorID());
            }
        }
        assertThat(operators).contains(DirectoryLookup.operatorId("named"));
        assertThat(operators).doesNotContain(DirectoryLookup.operatorId("other"));
    }

    @Test
    void aFunctionOutsideAStreamingTaskIsToldWhichFlinkVersionsWork() {
        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () ->
                                FlinkInternals.coordinatorRequests(
                                        new org.apache.flink.table.functions.FunctionContext(null)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(FlinkInternals.TESTED_VERSIONS);
        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () ->
                                FlinkInternals.taskEndsNormally(
                                        new org.apache.flink.table.functions.FunctionContext(null)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(FlinkInternals.TESTED_VERSIONS);
    }

    @Test
    void onlyTheAdapterUsesFlinksInternalHelpers() {
        JavaClasses classes =
                new ClassFileImporter()
                        .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                        .importPackages("org.flinkros");
        List<Class<?>> internals =
                Arrays.asList(
                        CollectCoordinationResponse.class,
                        DescriptiveStatisticsHistogram.class,
                        CheckpointCoordinator.class,
                        TaskOperatorEventGateway.class,
                        org.apache.flink.runtime.execution.Environment.class,
                        SuppressRestartsException.class,
                        InstantiationUtil.class);
        for (Class<?> internal : internals) {
            noClasses()
                    .that()
                    .doNotHaveFullyQualifiedName(FlinkInternals.class.getName())
                    .should()
                    .dependOnClassesThat()
                    .areAssignableTo(internal)
                    .because(
                            "Flink's internal API is used only through FlinkInternals, so that a"
                                    + " Flink upgrade touches one class")
                    .check(classes);
        }
        noClasses()
                .that()
                .doNotHaveFullyQualifiedName(FlinkInternals.class.getName())
                .should()
                .callMethod(StreamExecutionEnvironment.class, "addOperator", Transformation.class)
                .because("adding transformations directly is internal Flink API")
                .check(classes);
    }
}
