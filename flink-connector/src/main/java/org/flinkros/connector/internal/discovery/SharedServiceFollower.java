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
package org.flinkros.connector.internal.discovery;

import org.flinkros.connector.internal.StallWarnings;

import org.apache.flink.annotation.Internal;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Follows a shared service by looking it up through the cluster's REST API every refresh interval.
 * While it cannot be found, calls keep the endpoints last seen and the reason is logged (after
 * {@value #FIRST_WARN_MILLIS} ms, then at {@link StallWarnings}' interval), so a caller of a
 * service that is not running is never silent.
 */
@Internal
public final class SharedServiceFollower implements EndpointFollower {
    private static final Logger LOG = LoggerFactory.getLogger(SharedServiceFollower.class);

    /** How often a shared service is looked up unless told otherwise. */
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(2);

    /** How long a lookup fails before the first warning. */
    static final long FIRST_WARN_MILLIS = 10_000;

    private final SharedServiceLookup lookup;
    private final String serviceName;
    private final Duration interval;
    private ScheduledExecutorService timer;
    private List<String> last;
    private long failingSince = -1;
    private long lastWarn;

    public SharedServiceFollower(String restUrl, String serviceName, Duration interval) {
        this.lookup = new SharedServiceLookup(restUrl, serviceName);
        this.serviceName = serviceName;
        this.interval = interval;
    }

    @Override
    public void start(Listener listener) {
        timer =
                Executors.newSingleThreadScheduledExecutor(
                        runnable -> {
                            Thread thread =
                                    new Thread(runnable, "ros-shared-lookup-" + serviceName);
                            thread.setDaemon(true);
                            return thread;
                        });
        timer.scheduleWithFixedDelay(
                () -> refresh(listener), 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void refresh(Listener listener) {
        try {
            List<String> endpoints = lookup.endpoints();
            failingSince = -1;
            if (!endpoints.equals(last)) {
                last = endpoints;
                listener.onEndpoints(endpoints);
            }
        } catch (IOException e) {
            long now = System.currentTimeMillis();
            if (failingSince < 0) {
                // A service job that is starting is not worth a warning yet.
                failingSince = now;
                lastWarn = now - StallWarnings.intervalMillis() + FIRST_WARN_MILLIS;
            }
            if (now - lastWarn >= StallWarnings.intervalMillis()) {
                lastWarn = now;
                LOG.warn(
                        "Cannot find shared RpcOperator service '{}' (calls use the endpoints last"
                                + " seen: {}): {}",
                        serviceName,
                        last,
                        e.getMessage());
            }
        } catch (RuntimeException e) {
            listener.onFatal(e);
        }
    }

    @Override
    public void close() {
        if (timer != null) {
            timer.shutdownNow();
        }
    }
}
