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

import org.flinkros.connector.RosServe;
import org.flinkros.connector.internal.sql.RosPredictFunction;
import org.flinkros.connector.sql.RosModelOptions.Discovery;

import org.apache.flink.annotation.Internal;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.factories.FactoryUtil;
import org.apache.flink.table.factories.ModelProviderFactory;
import org.apache.flink.table.functions.AsyncPredictFunction;
import org.apache.flink.table.ml.AsyncPredictRuntimeProvider;
import org.apache.flink.table.ml.ModelProvider;
import org.apache.flink.table.types.logical.RowType;

import java.io.IOException;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

/**
 * The {@code ros} model provider: {@code CREATE MODEL ... WITH ('provider' = 'ros', 'service' =
 * ...)} makes {@code ML_PREDICT} call an RpcOperator service. Options: {@link RosModelOptions}.
 */
@Internal
public final class RosModelProviderFactory implements ModelProviderFactory {
    /** The value of a model's {@code 'provider'} option that selects this factory. */
    public static final String IDENTIFIER = "ros";

    private static final ConfigOption<String> REST_ADDRESS =
            ConfigOptions.key("rest.address").stringType().noDefaultValue();
    private static final ConfigOption<Integer> REST_PORT =
            ConfigOptions.key("rest.port").intType().defaultValue(8081);

    @Override
    public String factoryIdentifier() {
        return IDENTIFIER;
    }

    @Override
    public Set<ConfigOption<?>> requiredOptions() {
        return new HashSet<>(Arrays.asList(RosModelOptions.SERVICE));
    }

    @Override
    public Set<ConfigOption<?>> optionalOptions() {
        return new HashSet<>(
                Arrays.asList(
                        RosModelOptions.METHOD,
                        RosModelOptions.TIMEOUT,
                        RosModelOptions.ON_ERROR,
                        RosModelOptions.IDENTITY,
                        RosModelOptions.DISCOVERY,
                        RosModelOptions.REST_URL,
                        RosModelOptions.TOKEN_FILE,
                        RosModelOptions.REFRESH_INTERVAL));
    }

    @Override
    public ModelProvider createModelProvider(Context context) {
        FactoryUtil.ModelProviderFactoryHelper helper =
                FactoryUtil.createModelProviderFactoryHelper(this, context);
        helper.validate();
        ReadableConfig options = helper.getOptions();
        String model = context.getObjectIdentifier().asSummaryString();
        RowType input =
                physicalRowType(model, "INPUT", context.getCatalogModel().getResolvedInputSchema());
        RowType output =
                physicalRowType(
                        model, "OUTPUT", context.getCatalogModel().getResolvedOutputSchema());
        Discovery discovery = options.get(RosModelOptions.DISCOVERY);
        String restUrl = null;
        String token = null;
        if (discovery == Discovery.CLUSTER) {
            restUrl = restUrl(model, options, context.getConfiguration());
            token = sharedToken(model, options);
        } else if (options.getOptional(RosModelOptions.TOKEN_FILE).isPresent()
                || options.getOptional(RosModelOptions.REST_URL).isPresent()) {
            throw new ValidationException(
                    "Model "
                            + model
                            + ": 'token-file' and 'rest-url' are for a shared service; set"
                            + " 'discovery' = 'cluster' to call one, or leave them out for a"
                            + " service of the same job.");
        }
        RosPredictFunction function =
                new RosPredictFunction(
                        model,
                        options.get(RosModelOptions.SERVICE),
                        options.get(RosModelOptions.METHOD),
                        options.get(RosModelOptions.TIMEOUT),
                        options.get(RosModelOptions.ON_ERROR),
                        options.get(RosModelOptions.IDENTITY),
                        discovery,
                        restUrl,
                        token,
                        options.get(RosModelOptions.REFRESH_INTERVAL),
                        input,
                        output);
        return new Provider(function);
    }

    private static RowType physicalRowType(String model, String side, ResolvedSchema schema) {
        for (Column column : schema.getColumns()) {
            if (!column.isPhysical()) {
                throw new ValidationException(
                        "Model "
                                + model
                                + ": "
                                + side
                                + " column '"
                                + column.getName()
                                + "' is not physical; a ros model's columns must be.");
            }
        }
        if (schema.getColumns().isEmpty()) {
            throw new ValidationException("Model " + model + " has no " + side + " columns.");
        }
        return (RowType) schema.toPhysicalRowDataType().getLogicalType();
    }

    private static String restUrl(String model, ReadableConfig options, ReadableConfig session) {
        return options.getOptional(RosModelOptions.REST_URL)
                .orElseGet(
                        () ->
                                session.getOptional(REST_ADDRESS)
                                        .map(
                                                host ->
                                                        "http://"
                                                                + host
                                                                + ":"
                                                                + session.get(REST_PORT))
                                        .orElseThrow(
                                                () ->
                                                        new ValidationException(
                                                                "Model "
                                                                        + model
                                                                        + " calls a shared service"
                                                                        + " but knows no REST"
                                                                        + " address of the"
                                                                        + " cluster: set 'rest-url'"
                                                                        + " (e.g."
                                                                        + " 'http://jobmanager:8081')"
                                                                        + " or the session's"
                                                                        + " 'rest.address'.")));
    }

    private static String sharedToken(String model, ReadableConfig options) {
        String file =
                options.getOptional(RosModelOptions.TOKEN_FILE)
                        .orElseThrow(
                                () ->
                                        new ValidationException(
                                                "Model "
                                                        + model
                                                        + " calls a shared service: set"
                                                        + " 'token-file' to the file with its token"
                                                        + " (the one given to "
                                                        + RosServe.class.getSimpleName()
                                                        + ")."));
        try {
            return RosServe.readToken(Paths.get(file));
        } catch (IOException e) {
            throw new ValidationException("Model " + model + ": " + e.getMessage(), e);
        }
    }

    /** Hands the planner the function made when the model was resolved. */
    private static final class Provider implements AsyncPredictRuntimeProvider {
        private final RosPredictFunction function;

        Provider(RosPredictFunction function) {
            this.function = function;
        }

        @Override
        public AsyncPredictFunction createAsyncPredictFunction(ModelProvider.Context context) {
            return function;
        }

        @Override
        public ModelProvider copy() {
            return new Provider(function);
        }
    }
}
