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

import org.flinkros.client.RosClient;
import org.flinkros.client.RosClientOptions;
import org.flinkros.client.RosException;
import org.flinkros.client.ServiceTokens;
import org.flinkros.client.StatusCode;
import org.flinkros.connector.OnError;
import org.flinkros.connector.RosAsyncFunction;
import org.flinkros.connector.internal.discovery.EndpointSnapshot;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichFunction;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.annotation.Nullable;

/**
 * Runs the user's {@link RosAsyncFunction} inside Flink's async operator and owns the subtask's
 * {@link RosClient}: created in {@link #open}, kept current with the endpoint sets the operator
 * polls from its coordinator, closed in {@link #close}.
 *
 * <p>All methods run on the task's thread (poll replies arrive through the mailbox), so there is no
 * locking.
 */
@Internal
public final class RosAsyncFunctionAdapter<IN, OUT> extends RichAsyncFunction<IN, OUT> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(RosAsyncFunctionAdapter.class);

    private final RosAsyncFunction<IN, OUT> function;
    private final String serviceName;

    /** Takes the function's failures and timeouts when set; otherwise the function does. */
    @Nullable private final OnError<IN, OUT> onError;

    /**
     * Everything but the identity, which is known only in the task; its token is the service's,
     * from which the subtask's credential is derived.
     */
    private final RosClientOptions clientOptions;

    private transient String principal;
    private transient String clientId;
    private transient long clientEpoch;
    @Nullable private transient RosClient client;
    @Nullable private transient EndpointSnapshot latest;
    private transient boolean earlierEpochsCancelled;

    public RosAsyncFunctionAdapter(
            RosAsyncFunction<IN, OUT> function,
            String serviceName,
            RosClientOptions clientOptions,
            @Nullable OnError<IN, OUT> onError) {
        this.function = function;
        this.serviceName = serviceName;
        this.clientOptions = clientOptions;
        this.onError = onError;
    }

    /**
     * Sets who this subtask is to the service: its operator's principal, and its client id within
     * it. Called by the operator before {@link #open}.
     */
    void identify(String principal, String clientId, long clientEpoch) {
        this.principal = principal;
        this.clientId = clientId;
        this.clientEpoch = clientEpoch;
    }

    @Override
    public void open(OpenContext openContext) throws Exception {
        if (function instanceof RichFunction) {
            RichFunction rich = (RichFunction) function;
            rich.setRuntimeContext(getRuntimeContext());
            rich.open(openContext);
        }
        RosClientOptions.Builder options =
                clientOptions.toBuilder().clientId(clientId).clientEpoch(clientEpoch);
        String serviceToken = clientOptions.token();
        if (serviceToken != null) {
            // The subtask authenticates as its operator, not as the service's owner: it may call
            // and cancel only under its operator's client ids, never another operator's.
            options.principal(principal).token(ServiceTokens.credential(serviceToken, principal));
        }
        client = RosClient.create(options.build());
        if (latest != null) {
            client.updateEndpoints(latest.endpoints());
            cancelEarlierEpochsOnce();
        }
    }

    /** Takes the newest endpoint set (replies to the one outstanding poll arrive in order). */
    void onEndpoints(EndpointSnapshot snapshot) {
        latest = snapshot;
        if (client != null) {
            client.updateEndpoints(snapshot.endpoints());
            cancelEarlierEpochsOnce();
        }
    }

    /**
     * A restarted subtask (epoch above 0) asks the instances, once it knows them, to drop what its
     * earlier attempts left queued: their results would go nowhere. The coordinator has usually
     * done so already when the attempt failed; this covers what it could not reach.
     */
    private void cancelEarlierEpochsOnce() {
        if (earlierEpochsCancelled || clientEpoch == 0 || latest.endpoints().isEmpty()) {
            return;
        }
        earlierEpochsCancelled = true;
        client.cancelEarlierEpochs()
                .whenComplete(
                        (cancelled, error) -> {
                            if (error != null) {
                                LOG.warn(
                                        "Could not cancel the earlier attempts' requests to '{}'",
                                        serviceName,
                                        error);
                            } else if (cancelled > 0) {
                                LOG.info(
                                        "Cancelled {} queued requests of earlier attempts of {}",
                                        cancelled,
                                        clientId);
                            }
                        });
    }

    /** The subtask's client; present between {@link #open} and {@link #close}. */
    @Nullable
    RosClient client() {
        return client;
    }

    /** How many live instances the service has in the newest endpoint set this subtask got. */
    int liveInstances() {
        return latest == null ? 0 : latest.endpoints().size();
    }

    String serviceName() {
        return serviceName;
    }

    @Override
    public void asyncInvoke(IN input, ResultFuture<OUT> resultFuture) throws Exception {
        ResultFuture<OUT> result = FailurePolicy.wrap(serviceName, resultFuture);
        function.asyncInvoke(
                input, client, onError == null ? result : onError(input, onError, result));
    }

    @Override
    public void timeout(IN input, ResultFuture<OUT> resultFuture) throws Exception {
        if (onError == null) {
            function.timeout(input, resultFuture);
            return;
        }
        onError.handle(
                input,
                new RosException(
                        StatusCode.DEADLINE_EXCEEDED,
                        "no result from '" + serviceName + "' within the operator's timeout"),
                FailurePolicy.wrap(serviceName, resultFuture));
    }

    /** {@code result}, with failures settled by {@code policy}. */
    private static <IN, OUT> ResultFuture<OUT> onError(
            IN record, OnError<IN, OUT> policy, ResultFuture<OUT> result) {
        return FailurePolicy.onFailure(
                result, error -> policy.handle(record, OnError.asRosException(error), result));
    }

    @Override
    public void close() throws Exception {
        try {
            if (client != null) {
                client.close();
                client = null;
            }
        } finally {
            if (function instanceof RichFunction) {
                ((RichFunction) function).close();
            }
        }
    }
}
