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
package org.flinkros.examples.digits;

import org.flinkros.connector.RosMethod;
import org.flinkros.connector.RpcOperatorContext;
import org.flinkros.connector.TypedRpcOperator;

import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import java.io.IOException;
import java.io.InputStream;
import java.util.Collections;

/**
 * A real model served by an RpcOperator service: a digit classifier trained with scikit-learn and
 * exported to ONNX ({@code examples/model/make_digits_model.py}), run on the CPU with ONNX Runtime.
 * Each instance loads the model once in {@link #open} and classifies one 8x8 image per call.
 */
public final class DigitsModel extends TypedRpcOperator {
    private static final long serialVersionUID = 1L;

    /** The model file, a resource of the job jar. */
    static final String MODEL = "/digits/digits.onnx";

    /** An 8x8 image as 64 pixel values (0-16) to (predicted digit, instance that answered). */
    public static final RosMethod<float[], Tuple2<Integer, Integer>> CLASSIFY =
            RosMethod.of(
                    "classify",
                    PrimitiveArrayTypeInfo.FLOAT_PRIMITIVE_ARRAY_TYPE_INFO,
                    Types.TUPLE(Types.INT, Types.INT));

    private transient OrtEnvironment environment;
    private transient OrtSession session;
    private transient String input;
    private transient int instance;

    @Override
    public void open(RpcOperatorContext context) throws IOException, OrtException {
        instance = context.instanceIndex();
        environment = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            // Serial invocation: one thread per call is what an instance's slot pays for.
            options.setIntraOpNumThreads(1);
            session = environment.createSession(modelBytes(), options);
        }
        input = session.getInputNames().iterator().next();
    }

    private static byte[] modelBytes() throws IOException {
        try (InputStream in = DigitsModel.class.getResourceAsStream(MODEL)) {
            if (in == null) {
                throw new IOException("model resource " + MODEL + " is not on the classpath");
            }
            return in.readAllBytes();
        }
    }

    @Override
    protected void defineMethods(Methods methods) {
        methods.add(CLASSIFY, this::classify);
    }

    private Tuple2<Integer, Integer> classify(float[] pixels) throws OrtException {
        if (pixels.length != 64) {
            throw new IllegalArgumentException("expected 64 pixels, got " + pixels.length);
        }
        try (OnnxTensor tensor = OnnxTensor.createTensor(environment, new float[][] {pixels});
                OrtSession.Result result = session.run(Collections.singletonMap(input, tensor))) {
            long[] labels = (long[]) result.get("label").orElseThrow().getValue();
            return Tuple2.of((int) labels[0], instance);
        }
    }

    @Override
    public void close() throws OrtException {
        if (session != null) {
            session.close();
        }
    }
}
