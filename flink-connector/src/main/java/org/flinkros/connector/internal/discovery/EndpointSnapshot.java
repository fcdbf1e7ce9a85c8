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

import java.io.Serializable;
import java.util.Collections;
import java.util.List;

/** A service's endpoint set at one version; later versions replace earlier ones. */
@Internal
public final class EndpointSnapshot implements Serializable {
    private static final long serialVersionUID = 1L;

    private final long version;
    private final List<String> endpoints;

    public EndpointSnapshot(long version, List<String> endpoints) {
        this.version = version;
        this.endpoints = Collections.unmodifiableList(endpoints);
    }

    public long version() {
        return version;
    }

    /** {@code host:port} of each live instance. */
    public List<String> endpoints() {
        return endpoints;
    }

    @Override
    public String toString() {
        return "EndpointSnapshot{version=" + version + ", endpoints=" + endpoints + '}';
    }
}
