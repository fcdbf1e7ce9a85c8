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
import org.apache.flink.annotation.VisibleForTesting;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.Map;

/**
 * Drains the native runtime's log events into SLF4J, under loggers named {@code
 * org.flinkros.native.<rust target>}.
 *
 * <p>The native side never blocks on logging: events wait in a bounded buffer and are dropped (and
 * counted) when it is full. A daemon thread drains it while any client or server is open ({@link
 * #retain()}/{@link #release()}), so that no thread outlives them (and, in Flink, the job's class
 * loader). The native level follows the level of the {@code org.flinkros.native} logger when the
 * thread starts.
 */
@Internal
public final class NativeLogBridge {
    /** Parent of the loggers native events go to. */
    public static final String LOGGER_PREFIX = "org.flinkros.native";

    private static final Logger LOG = LoggerFactory.getLogger(LOGGER_PREFIX);
    private static final int BATCH = 256;
    private static final long POLL_MILLIS = 100;

    private static final Object LOCK = new Object();
    private static int users;
    private static Thread drainer;
    private static volatile boolean stopping;

    private NativeLogBridge() {}

    /** A client or server opens: make sure native events are drained. */
    public static void retain() {
        synchronized (LOCK) {
            if (users++ == 0) {
                NativeBridge.logLevel(configuredLevel());
                stopping = false;
                drainer = new Thread(NativeLogBridge::drainUntilStopped, "ros-native-log");
                drainer.setDaemon(true);
                drainer.setContextClassLoader(null);
                drainer.start();
            }
        }
    }

    /** A client or server closed: the last one stops the drain thread (after a final drain). */
    public static void release() {
        Thread finished = null;
        synchronized (LOCK) {
            if (users > 0 && --users == 0) {
                stopping = true;
                finished = drainer;
                drainer = null;
            }
        }
        if (finished != null) {
            try {
                finished.join(POLL_MILLIS * 5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Events dropped so far because the buffer was full. */
    @VisibleForTesting
    public static long dropped() {
        return NativeBridge.logDropped();
    }

    private static int configuredLevel() {
        if (LOG.isTraceEnabled()) {
            return 5;
        } else if (LOG.isDebugEnabled()) {
            return 4;
        } else if (LOG.isInfoEnabled()) {
            return 3;
        } else if (LOG.isWarnEnabled()) {
            return 2;
        } else {
            return LOG.isErrorEnabled() ? 1 : 0;
        }
    }

    private static void drainUntilStopped() {
        Map<String, Logger> loggers = new HashMap<>();
        while (true) {
            boolean last = stopping;
            String[] batch = NativeBridge.logDrain(BATCH, last ? 0 : POLL_MILLIS);
            for (int i = 0; i + 2 < batch.length; i += 3) {
                Logger logger =
                        loggers.computeIfAbsent(
                                batch[i + 1],
                                target ->
                                        LoggerFactory.getLogger(
                                                LOGGER_PREFIX + "." + target.replace("::", ".")));
                log(logger, batch[i], batch[i + 2]);
            }
            if (last && batch.length == 0) {
                return;
            }
        }
    }

    private static void log(Logger logger, String level, String message) {
        switch (level) {
            case "1":
                logger.error(message);
                break;
            case "2":
                logger.warn(message);
                break;
            case "3":
                logger.info(message);
                break;
            case "4":
                logger.debug(message);
                break;
            default:
                logger.trace(message);
        }
    }
}
