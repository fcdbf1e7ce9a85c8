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
