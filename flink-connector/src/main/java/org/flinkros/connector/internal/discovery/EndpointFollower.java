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

import org.apache.flink.annotation.Internal;

import java.util.List;
import java.util.function.Consumer;

/**
 * Follows where a service's instances are, for a caller without a coordinator of its own, and tells
 * {@link Listener} of every change.
 */
@Internal
public interface EndpointFollower extends AutoCloseable {

    /** Told of the service's endpoints, and of a failure that no retry mends. */
    interface Listener {
        void onEndpoints(List<String> endpoints);

        void onFatal(Exception cause);

        /** A listener that hands endpoints and fatal failures to these two. */
        static Listener of(Consumer<List<String>> onEndpoints, Consumer<Exception> onFatal) {
            return new Listener() {
                @Override
                public void onEndpoints(List<String> endpoints) {
                    onEndpoints.accept(endpoints);
                }

                @Override
                public void onFatal(Exception cause) {
                    onFatal.accept(cause);
                }
            };
        }
    }

    /** Starts following; {@code listener} hears of each change until {@link #close}. */
    void start(Listener listener);

    @Override
    void close();
}
