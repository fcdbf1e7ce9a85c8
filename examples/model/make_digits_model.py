# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

"""Makes the digits model that the flink-ros demo serves, and the held-out samples it streams.

Trains a classifier on scikit-learn's digits data set (8x8 images of handwritten digits, shipped
inside the scikit-learn package, so nothing is downloaded), exports it to ONNX with skl2onnx, and
writes next to it the held-out samples and the model's accuracy on them as measured offline with
ONNX Runtime. The outputs are committed; this script is not part of the build.

    python3 -m venv /tmp/digits && /tmp/digits/bin/pip install \
        scikit-learn==1.7.2 skl2onnx==1.20.0 onnxruntime==1.22.0
    /tmp/digits/bin/python examples/model/make_digits_model.py
"""

import pathlib

import numpy as np
import onnxruntime
from skl2onnx import to_onnx
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

OUT = pathlib.Path(__file__).resolve().parent.parent / "src/main/resources/digits"


def main():
    digits = load_digits()
    features = digits.data.astype(np.float32)
    x_train, x_test, y_train, y_test = train_test_split(
        features, digits.target, test_size=0.2, random_state=42, stratify=digits.target
    )
    classifier = LogisticRegression(max_iter=5000, random_state=42)
    model = make_pipeline(StandardScaler(), classifier)
    model.fit(x_train, y_train)

    onnx_model = to_onnx(
        model,
        x_train[:1],
        options={id(classifier): {"zipmap": False}},
        target_opset=17,
    )
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "digits.onnx").write_bytes(onnx_model.SerializeToString())

    session = onnxruntime.InferenceSession(str(OUT / "digits.onnx"))
    predicted = session.run(["label"], {session.get_inputs()[0].name: x_test})[0]
    accuracy = float(np.mean(predicted == y_test))

    with open(OUT / "heldout.csv", "w") as out:
        out.write("# label, then the 64 pixel values (0-16) of an 8x8 digit\n")
        for label, pixels in zip(y_test, x_test.astype(int)):
            out.write(",".join(str(v) for v in [label, *pixels]) + "\n")
    with open(OUT / "model.properties", "w") as out:
        out.write("# Written by examples/model/make_digits_model.py\n")
        out.write(f"input={session.get_inputs()[0].name}\n")
        out.write(f"samples={len(y_test)}\n")
        out.write(f"offline.accuracy={accuracy:.6f}\n")
    print(f"held-out samples: {len(y_test)}, offline accuracy: {accuracy:.4f}")


if __name__ == "__main__":
    main()
