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
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.operators.coordination.OperatorCoordinator;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.AbstractStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.CoordinatedOperatorFactory;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.StreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * The directory operator of a service, chained to its instances: it does nothing itself (the
 * instances emit no records); it exists for its coordinator, a {@link DirectoryCoordinator}, which
 * tasks of the job find by the operator's uid ({@link DirectoryLookup#uid}).
 */
@Internal
public final class DirectoryOperatorFactory extends AbstractStreamOperatorFactory<Void>
        implements OneInputStreamOperatorFactory<Void, Void>, CoordinatedOperatorFactory<Void> {
    private static final long serialVersionUID = 1L;

    private final String serviceId;
    private final String serviceName;
    private final String token;

    public DirectoryOperatorFactory(String serviceId, String serviceName, String token) {
        this.serviceId = serviceId;
        this.serviceName = serviceName;
        this.token = token;
    }

    @Override
    public OperatorCoordinator.Provider getCoordinatorProvider(
            String operatorName, OperatorID operatorID) {
        return new DirectoryCoordinator.Provider(operatorID, serviceId, serviceName, token);
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T extends StreamOperator<Void>> T createStreamOperator(
            StreamOperatorParameters<Void> parameters) {
        return (T) new DirectoryOperator(parameters);
    }

    @Override
    @SuppressWarnings("rawtypes")
    public Class<? extends StreamOperator> getStreamOperatorClass(ClassLoader classLoader) {
        return DirectoryOperator.class;
    }

    /** Receives nothing and emits nothing. */
    static final class DirectoryOperator extends AbstractStreamOperator<Void>
            implements OneInputStreamOperator<Void, Void> {
        DirectoryOperator(StreamOperatorParameters<Void> parameters) {
            super(parameters);
        }

        @Override
        public void processElement(StreamRecord<Void> element) {}
    }
}
