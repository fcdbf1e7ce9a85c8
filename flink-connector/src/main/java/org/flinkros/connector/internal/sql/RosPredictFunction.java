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
package org.flinkros.connector.internal.sql;

import org.flinkros.client.IdentityKey;
import org.flinkros.client.RosClient;
import org.flinkros.client.RosException;
import org.flinkros.connector.internal.metrics.RosMetrics;
import org.flinkros.connector.sql.RosModelOptions;
import org.flinkros.connector.sql.RosTableClient;

import org.apache.flink.annotation.Internal;
import org.apache.flink.metrics.Counter;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.functions.AsyncPredictFunction;
import org.apache.flink.table.functions.FunctionContext;
import org.apache.flink.table.types.logical.RowType;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.annotation.Nullable;

import java.io.IOException;
import java.time.Duration;
import java.util.Collection;
import java.util.Collections;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * {@code ML_PREDICT} over a service: each row's input columns become one call, its reply the row's
 * output columns. Made by the planner and shipped to the tasks, so it holds settings only; the
 * client and the endpoint follower are made in {@link #open}.
 */
@Internal
public final class RosPredictFunction extends AsyncPredictFunction {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(RosPredictFunction.class);

    private final String modelName;
    private final String serviceName;
    private final String method;
    private final Duration timeout;
    private final RosModelOptions.OnError onError;
    private final RosModelOptions.Identity identity;
    private final RosModelOptions.Discovery discovery;
    @Nullable private final String restUrl;
    @Nullable private final String sharedToken;
    private final Duration refreshInterval;
    private final RowType inputType;
    private final RowType outputType;

    private transient RosTableClient service;
    private transient JsonRows rows;

    /** Rows that 'on-error' settled (skipped or given null outputs); a metric. */
    private transient Counter settledRows;

    public RosPredictFunction(
            String modelName,
            String serviceName,
            String method,
            Duration timeout,
            RosModelOptions.OnError onError,
            RosModelOptions.Identity identity,
            RosModelOptions.Discovery discovery,
            @Nullable String restUrl,
            @Nullable String sharedToken,
            Duration refreshInterval,
            RowType inputType,
            RowType outputType) {
        this.modelName = modelName;
        this.serviceName = serviceName;
        this.method = method;
        this.timeout = timeout;
        this.onError = onError;
        this.identity = identity;
        this.discovery = discovery;
        this.restUrl = restUrl;
        this.sharedToken = sharedToken;
        this.refreshInterval = refreshInterval;
        this.inputType = inputType;
        this.outputType = outputType;
    }

    @Override
    public void open(FunctionContext context) throws Exception {
        settledRows = context.getMetricGroup().addGroup(RosMetrics.GROUP).counter("onErrorRows");
        rows =
                new JsonRows(
                        inputType,
                        outputType,
                        context.getMetricGroup(),
                        context.getUserCodeClassLoader());
        service =
                discovery == RosModelOptions.Discovery.JOB
                        ? RosTableClient.ofJobService(context, serviceName, timeout)
                        : RosTableClient.ofSharedService(
                                context,
                                serviceName,
                                restUrl,
                                sharedToken,
                                timeout,
                                refreshInterval);
    }

    @Override
    public CompletableFuture<Collection<RowData>> asyncPredict(RowData input) {
        RosClient client;
        try {
            client = service.client();
        } catch (RosException e) {
            return CompletableFuture.failedFuture(e);
        }
        byte[] payload;
        try {
            payload = rows.write(input);
        } catch (RuntimeException e) {
            return settle(new IllegalArgumentException("cannot write the row as JSON: " + e, e));
        }
        CompletableFuture<byte[]> call =
                identity == RosModelOptions.Identity.CONTENT
                        ? client.call(method, payload, timeout, IdentityKey.content())
                        : client.call(method, payload, timeout);
        return call.handle(
                        (reply, error) -> {
                            if (error != null) {
                                return settle(unwrap(error));
                            }
                            try {
                                return CompletableFuture.<Collection<RowData>>completedFuture(
                                        Collections.singletonList(rows.read(reply)));
                            } catch (IOException | RuntimeException e) {
                                return settle(
                                        new IOException(
                                                "service '"
                                                        + serviceName
                                                        + "' method '"
                                                        + method
                                                        + "' replied with JSON that does not match"
                                                        + " the OUTPUT of model '"
                                                        + modelName
                                                        + "' "
                                                        + outputType
                                                        + ": "
                                                        + e.getMessage(),
                                                e));
                            }
                        })
                .thenCompose(result -> result);
    }

    private CompletableFuture<Collection<RowData>> settle(Throwable error) {
        if (onError != RosModelOptions.OnError.FAIL) {
            settledRows.inc();
            // The first one says so; the rest are counted (ros.onErrorRows).
            if (settledRows.getCount() == 1) {
                LOG.warn(
                        "A call of model '{}' failed; 'on-error' = '{}' settles it and later"
                                + " ones (counted in the metric ros.onErrorRows)",
                        modelName,
                        onError,
                        error);
            }
        }
        switch (onError) {
            case SKIP:
                return CompletableFuture.completedFuture(Collections.emptyList());
            case NULL:
                return CompletableFuture.completedFuture(
                        Collections.singletonList(new GenericRowData(outputType.getFieldCount())));
            default:
                return CompletableFuture.failedFuture(
                        new IOException(
                                "ML_PREDICT with model '"
                                        + modelName
                                        + "' (RpcOperator service '"
                                        + serviceName
                                        + "', method '"
                                        + method
                                        + "') failed; set the model's 'on-error' to 'skip' or"
                                        + " 'null' to keep the job running: "
                                        + error.getMessage(),
                                error));
        }
    }

    private static Throwable unwrap(Throwable error) {
        return error instanceof CompletionException && error.getCause() != null
                ? error.getCause()
                : error;
    }

    @Override
    public void close() {
        if (service != null) {
            service.close();
            service = null;
        }
    }
}
