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

"""Batch-friendly models the benchmark serves: random weights, fixed seeds."""

import os

import flinkros
from flinkros import codecs


class NumpyMlp(flinkros.Service):
    """A two-layer perceptron, 256 -> hidden -> 256 float32 (hidden from ``BENCH_HIDDEN``,
    default 1024): one matrix product per layer, so its cost grows with the hidden width."""

    WIDTH = 256

    def open(self, context):
        import numpy as np

        hidden = int(os.environ.get("BENCH_HIDDEN", "1024"))
        rng = np.random.default_rng(7)
        self.w1 = rng.standard_normal((self.WIDTH, hidden), dtype=np.float32) / 16
        self.w2 = rng.standard_normal((hidden, self.WIDTH), dtype=np.float32) / hidden**0.5

    @flinkros.batch_method("predict", codec=codecs.FLOAT32_ARRAY)
    def predict(self, batch):
        import numpy as np

        return np.maximum(batch @ self.w1, 0) @ self.w2


class TorchEncoder(flinkros.Service):
    """A transformer encoder in bf16 on the GPU: ``BENCH_LAYERS`` layers (default 6) of width
    ``BENCH_DMODEL`` (512, heads of 64) over ``BENCH_TOKENS`` tokens (128). Each request is that
    many token ids (as floats), each result the mean-pooled embedding."""

    LAYERS = int(os.environ.get("BENCH_LAYERS", "6"))
    DMODEL = int(os.environ.get("BENCH_DMODEL", "512"))
    WIDTH = int(os.environ.get("BENCH_TOKENS", "128"))

    def open(self, context):
        import torch

        torch.manual_seed(7)
        self.device = torch.device(os.environ.get("BENCH_DEVICE", "cuda"))
        layer = torch.nn.TransformerEncoderLayer(
            self.DMODEL, self.DMODEL // 64, 4 * self.DMODEL, batch_first=True
        )
        self.embed = torch.nn.Embedding(32000, self.DMODEL).to(self.device, torch.bfloat16).eval()
        self.encoder = (
            torch.nn.TransformerEncoder(layer, self.LAYERS, enable_nested_tensor=False)
            .to(self.device, torch.bfloat16)
            .eval()
        )

    @flinkros.batch_method("predict", codec=codecs.FLOAT32_ARRAY)
    def predict(self, batch):
        import torch

        with torch.inference_mode():
            tokens = torch.from_numpy(batch).to(self.device).long()
            pooled = self.encoder(self.embed(tokens)).mean(dim=1)
            return pooled.float().cpu().numpy()
