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

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.Property;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Native `tracing` events reach SLF4J, and logging never blocks the native side. */
class NativeLogBridgeTest {
    private final List<String> captured = new CopyOnWriteArrayList<>();
    private AbstractAppender appender;

    @BeforeEach
    void capture() {
        appender =
                new AbstractAppender("capture", null, null, true, Property.EMPTY_ARRAY) {
                    @Override
                    public void append(LogEvent event) {
                        captured.add(
                                event.getLevel()
                                        + " "
                                        + event.getLoggerName()
                                        + " "
                                        + event.getMessage().getFormattedMessage());
                    }
                };
        appender.start();
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        Configuration config = context.getConfiguration();
        config.addAppender(appender);
        config.getRootLogger().addAppender(appender, null, null);
        context.updateLoggers();
        NativeLogBridge.retain();
    }

    @AfterEach
    void stopCapturing() {
        NativeLogBridge.release();
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        context.getConfiguration().getRootLogger().removeAppender("capture");
        context.updateLoggers();
        appender.stop();
    }

    @Test
    void nativeEventsArriveInSlf4jWithTheirLevelAndTarget() throws Exception {
        NativeTestHooks.log(2, 1, "hello from the native side");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (captured.stream().noneMatch(line -> line.contains("hello from the native side"))) {
            assertThat(System.nanoTime()).as("event arrives").isLessThan(deadline);
            Thread.sleep(5);
        }
        assertThat(captured)
                .anySatisfy(
                        line ->
                                assertThat(line)
                                        .startsWith("WARN org.flinkros.native.ros_jni.testing ")
                                        .contains("hello from the native side")
                                        .contains("sequence=0"));
    }

    @Test
    void aFloodIsDroppedAndCountedInsteadOfBlocking() {
        long droppedBefore = NativeLogBridge.dropped();
        long start = System.nanoTime();
        NativeTestHooks.log(1, 200_000, "flood");
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(NativeLogBridge.dropped() - droppedBefore).isPositive();
        // 200k events into a 4096-slot buffer: the emitting thread never waited for the drain.
        assertThat(millis).isLessThan(10_000);
    }
}
