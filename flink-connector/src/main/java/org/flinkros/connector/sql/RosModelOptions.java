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
package org.flinkros.connector.sql;

import org.flinkros.connector.internal.discovery.SharedServiceFollower;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

import java.time.Duration;

/**
 * The options of a {@code ros} model ({@code CREATE MODEL ... WITH ('provider' = 'ros', ...)}),
 * which {@code ML_PREDICT} calls as an RpcOperator service.
 *
 * <p>Each row's model input columns travel to the service as one JSON object (column name to value,
 * as Flink's JSON format writes them), and the reply must be one JSON object with every model
 * output column (null allowed).
 */
@PublicEvolving
public final class RosModelOptions {
    private RosModelOptions() {}

    /** Where a model's service runs. */
    @PublicEvolving
    public enum Discovery {
        /** Added to the same job with {@code RosServices.add} (Table API in Java). */
        JOB,
        /** A shared service: its own job in the cluster, started with {@code RosServe}. */
        CLUSTER
    }

    /** What a row whose call failed becomes. */
    @PublicEvolving
    public enum OnError {
        /** The job fails (and restarts from its last checkpoint, replaying the row). */
        FAIL,
        /** The row is dropped: it has no prediction. */
        SKIP,
        /** The row gets nulls for every output column. */
        NULL
    }

    /** Which requests the service may answer once for all their replays. */
    @PublicEvolving
    public enum Identity {
        /**
         * Requests with the same method and input are one request: a replay after a failover is
         * answered from the instance's result cache instead of running the model again.
         */
        CONTENT,
        /** Every call runs the model. */
        NONE
    }

    public static final ConfigOption<String> SERVICE =
            ConfigOptions.key("service")
                    .stringType()
                    .noDefaultValue()
                    .withDescription("The name of the RpcOperator service to call.");

    public static final ConfigOption<String> METHOD =
            ConfigOptions.key("method")
                    .stringType()
                    .defaultValue("predict")
                    .withDescription("The method of the service each row calls.");

    public static final ConfigOption<Duration> TIMEOUT =
            ConfigOptions.key("timeout")
                    .durationType()
                    .defaultValue(Duration.ofSeconds(60))
                    .withDescription(
                            "The deadline of one call, retries included. Keep it below"
                                    + " ML_PREDICT's own 'timeout' (3 min by default), which fails"
                                    + " the job whatever 'on-error' says.");

    public static final ConfigOption<OnError> ON_ERROR =
            ConfigOptions.key("on-error")
                    .enumType(OnError.class)
                    .defaultValue(OnError.FAIL)
                    .withDescription(
                            "What a row whose call failed becomes: FAIL the job, SKIP the row, or"
                                    + " NULL outputs.");

    public static final ConfigOption<Identity> IDENTITY =
            ConfigOptions.key("identity")
                    .enumType(Identity.class)
                    .defaultValue(Identity.CONTENT)
                    .withDescription(
                            "CONTENT: a call is identified by its method and input, so that replays"
                                    + " after a failover are answered without running the model"
                                    + " again; NONE: every call runs the model.");

    public static final ConfigOption<Discovery> DISCOVERY =
            ConfigOptions.key("discovery")
                    .enumType(Discovery.class)
                    .defaultValue(Discovery.JOB)
                    .withDescription(
                            "JOB: the service is added to the same job (RosServices.add);"
                                    + " CLUSTER: a shared service running as its own job"
                                    + " (RosServe), found by name through the cluster's REST API.");

    public static final ConfigOption<String> REST_URL =
            ConfigOptions.key("rest-url")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "For CLUSTER discovery: the JobManager's REST address, e.g."
                                    + " http://jobmanager:8081. Defaults to the session's"
                                    + " 'rest.address' and 'rest.port'.");

    public static final ConfigOption<String> TOKEN_FILE =
            ConfigOptions.key("token-file")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "For CLUSTER discovery: the file with the shared service's token (the"
                                    + " one given to RosServe), read when the query is planned.");

    public static final ConfigOption<Duration> REFRESH_INTERVAL =
            ConfigOptions.key("refresh-interval")
                    .durationType()
                    .defaultValue(SharedServiceFollower.DEFAULT_INTERVAL)
                    .withDescription(
                            "For CLUSTER discovery: how often the service's instances are looked"
                                    + " up again, so that calls follow instances that moved or"
                                    + " restarted.");
}
