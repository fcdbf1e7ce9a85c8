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
package org.flinkros.connector.internal.service;

import org.flinkros.connector.RosDescriptor;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.core.io.SimpleVersionedSerializer;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * An RpcOperator service as a FLIP-27 source: each reader is one instance, the enumerator keeps the
 * instance registry in the JobManager. It emits no records.
 *
 * <p>It is {@link Boundedness#BOUNDED}: it ends once every client operator has finished. An
 * unbounded data plane never finishes, so the service then runs as long as the job; and a BATCH job
 * (which accepts only bounded sources) can host services too.
 */
@Internal
public final class RosServiceSource implements Source<Void, ServiceSplit, NoState> {

    /** The name of a service's source, and so (after "Source: ") of its vertex. */
    public static String operatorName(String serviceName) {
        return "RpcOperatorService: " + serviceName;
    }

    private static final long serialVersionUID = 1L;

    private final String serviceId;
    private final String token;
    private final RosDescriptor descriptor;

    /**
     * Client operators attached to this service; shared with the service's handle while the job is
     * built and fixed when the job graph serializes this source.
     */
    private final AtomicInteger clientOperators;

    private final boolean shared;

    public RosServiceSource(
            String serviceId,
            String token,
            RosDescriptor descriptor,
            AtomicInteger clientOperators,
            boolean shared) {
        this.shared = shared;
        this.serviceId = serviceId;
        this.token = token;
        this.descriptor = descriptor;
        this.clientOperators = clientOperators;
    }

    @Override
    public Boundedness getBoundedness() {
        return Boundedness.BOUNDED;
    }

    @Override
    public SourceReader<Void, ServiceSplit> createReader(SourceReaderContext readerContext) {
        return new RosServiceReader(readerContext, descriptor, token);
    }

    @Override
    public SplitEnumerator<ServiceSplit, NoState> createEnumerator(
            SplitEnumeratorContext<ServiceSplit> enumContext) {
        return new RosServiceEnumerator(
                enumContext, serviceId, descriptor, clientOperators.get(), shared);
    }

    @Override
    public SplitEnumerator<ServiceSplit, NoState> restoreEnumerator(
            SplitEnumeratorContext<ServiceSplit> enumContext, NoState checkpoint) {
        return createEnumerator(enumContext);
    }

    @Override
    public SimpleVersionedSerializer<ServiceSplit> getSplitSerializer() {
        return ServiceSplit.Serializer.INSTANCE;
    }

    @Override
    public SimpleVersionedSerializer<NoState> getEnumeratorCheckpointSerializer() {
        return NoState.Serializer.INSTANCE;
    }
}
