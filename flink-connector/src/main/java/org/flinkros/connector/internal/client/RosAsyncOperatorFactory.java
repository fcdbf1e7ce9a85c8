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
package org.flinkros.connector.internal.client;

import org.flinkros.connector.RosService;

import org.apache.flink.annotation.Internal;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.operators.coordination.OperatorCoordinator;
import org.apache.flink.streaming.api.datastream.AsyncDataStream.OutputMode;
import org.apache.flink.streaming.api.operators.CoordinatedOperatorFactory;
import org.apache.flink.streaming.api.operators.StreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.streaming.api.operators.async.AsyncWaitOperatorFactory;

import javax.annotation.Nullable;

import java.time.Duration;

/**
 * Creates {@link RosAsyncWaitOperator}s and their {@link RosClientCoordinator}. It extends Flink's
 * factory of the async operator so that the operator keeps async I/O's chaining and yielding
 * behaviour; {@code AsyncDataStream} itself cannot take a custom factory.
 */
@Internal
public final class RosAsyncOperatorFactory<IN, OUT> extends AsyncWaitOperatorFactory<IN, OUT>
        implements CoordinatedOperatorFactory<OUT> {
    private static final long serialVersionUID = 1L;

    private final RosAsyncFunctionAdapter<IN, OUT> adapter;
    private final String serviceId;
    private final String serviceName;
    private final String token;
    @Nullable private final String sharedRestUrl;
    private final long timeoutMillis;
    private final int capacity;
    private final OutputMode outputMode;
    private final Duration startupTimeout;
    private final int startupInstances;

    public RosAsyncOperatorFactory(
            RosAsyncFunctionAdapter<IN, OUT> adapter,
            RosService service,
            String token,
            Duration timeout,
            int capacity,
            OutputMode outputMode,
            Duration startupTimeout,
            int startupInstances) {
        super(adapter, timeout.toMillis(), capacity, outputMode);
        this.adapter = adapter;
        this.serviceId = service.serviceId();
        this.serviceName = service.name();
        this.sharedRestUrl = service.sharedRestUrl();
        this.token = token;
        this.timeoutMillis = timeout.toMillis();
        this.capacity = capacity;
        this.outputMode = outputMode;
        this.startupTimeout = startupTimeout;
        this.startupInstances = startupInstances;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T extends StreamOperator<OUT>> T createStreamOperator(
            StreamOperatorParameters<OUT> parameters) {
        RosAsyncWaitOperator<IN, OUT> operator =
                new RosAsyncWaitOperator<>(
                        parameters,
                        adapter,
                        timeoutMillis,
                        capacity,
                        outputMode,
                        processingTimeService,
                        getMailboxExecutor(),
                        startupTimeout,
                        startupInstances);
        return (T) operator;
    }

    @Override
    public OperatorCoordinator.Provider getCoordinatorProvider(
            String operatorName, OperatorID operatorID) {
        return new RosClientCoordinator.Provider(
                operatorID, operatorName, serviceId, serviceName, token, sharedRestUrl);
    }

    @Override
    @SuppressWarnings("rawtypes")
    public Class<? extends StreamOperator> getStreamOperatorClass(ClassLoader classLoader) {
        return RosAsyncWaitOperator.class;
    }
}
