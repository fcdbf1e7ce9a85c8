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

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.WriterAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.layout.PatternLayout;

import java.io.StringWriter;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

/**
 * Captures what one logger (and the loggers below it) logs, with the level, while open; the events
 * do not reach the console.
 */
public final class LogCapture implements AutoCloseable {
    private final String logger;
    private final StringWriter out = new StringWriter();
    private final WriterAppender appender;
    private final LoggerContext context;

    private LogCapture(String logger, Level level) {
        this.logger = logger;
        this.context = (LoggerContext) LogManager.getContext(false);
        this.appender =
                WriterAppender.newBuilder()
                        .setName("capture-" + UUID.randomUUID())
                        .setTarget(out)
                        .setLayout(PatternLayout.newBuilder().withPattern("%p %c %m%n").build())
                        .build();
        appender.start();
        Configuration configuration = context.getConfiguration();
        LoggerConfig config = new LoggerConfig(logger, level, false);
        config.addAppender(appender, level, null);
        configuration.addLogger(logger, config);
        context.updateLoggers();
    }

    /** Captures {@code logger}'s events at {@code DEBUG} and above. */
    public static LogCapture of(String logger) {
        return new LogCapture(logger, Level.DEBUG);
    }

    /** The lines captured so far: {@code LEVEL logger message}. */
    public List<String> lines() {
        synchronized (out) {
            return Arrays.asList(out.toString().split("\n"));
        }
    }

    @Override
    public void close() {
        context.getConfiguration().removeLogger(logger);
        context.updateLoggers();
        appender.stop();
    }
}
