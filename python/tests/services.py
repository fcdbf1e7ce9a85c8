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

"""Services the tests serve, in process and through ``python -m flinkros.host``."""

import os
import threading

import numpy as np

import flinkros
from flinkros import RosError, StatusCode, codecs


class Square(flinkros.Service):
    """Squares float arrays in batches; records what it ran."""

    def __init__(self):
        self.batch_sizes = []
        self.seen = []
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()
        self.closed = 0
        self.context = None

    def open(self, context):
        self.context = context
        marker = os.environ.get("SQUARE_OPEN_MARKER")
        if marker:
            with open(marker, "a") as out:
                out.write(f"{context.instance_index} {os.getpid()}\n")
        if os.environ.get("SQUARE_FAIL_OPEN"):
            raise RuntimeError("model file missing (SQUARE_FAIL_OPEN)")

    @flinkros.batch_method("square", codec=codecs.FLOAT32_ARRAY)
    def square(self, batch):
        self.entered.set()
        # Bounded, so that a test that fails before it opens the gate cannot hang the suite.
        self.gate.wait(30)
        self.batch_sizes.append(len(batch))
        self.seen.extend(float(row[0]) for row in batch)
        return batch * batch

    @flinkros.batch_method("checked")
    def checked(self, payloads):
        # Per-request outcomes: b"bad" fails alone, b"all-bad" fails the whole batch.
        if b"all-bad" in payloads:
            raise RosError(StatusCode.INVALID_ARGUMENT, "the batch held all-bad")
        return [ValueError("bad item") if p == b"bad" else p.upper() for p in payloads]

    @flinkros.method("echo")
    def echo(self, payload):
        self.batch_sizes.append(1)
        return payload

    @flinkros.method("count", codec=codecs.JSON)
    def count(self, value):
        return {"length": len(value)}

    def close(self):
        self.closed += 1
        marker = os.environ.get("SQUARE_CLOSE_MARKER")
        if marker:
            with open(marker, "a") as out:
                out.write("closed\n")


def floats(values):
    """A float[] payload as Flink serializes it."""
    values = np.asarray(values, dtype=">f4")
    return len(values).to_bytes(4, "big", signed=True) + values.tobytes()


def unfloats(payload):
    length = int.from_bytes(payload[:4], "big", signed=True)
    values = np.frombuffer(payload, dtype=">f4", offset=4)
    assert len(values) == length
    return values.astype(np.float32)
