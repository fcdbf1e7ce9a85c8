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

"""How a method's payloads turn into Python values and back.

A codec decodes the payloads of a batch together (a batch of float arrays becomes one 2-D NumPy
array, ready for a model) and encodes a batch of results into one payload each.

- :data:`BYTES`: the payload as ``bytes``; a batch is a ``list[bytes]``.
- :data:`FLOAT32_ARRAY`: a ``float[]`` as Flink serializes it (``Types.PRIMITIVE_ARRAY(
  Types.FLOAT)`` on the Java side: a big-endian int32 length, then big-endian float32 values).
  A batch of equal lengths is a 2-D ``float32`` array, one row per request; of mixed lengths, a
  list of 1-D arrays. Results: a 2-D array or a sequence of 1-D arrays (or scalars' lists).
- :data:`JSON`: UTF-8 JSON; a batch is a list of decoded values.
"""

import json
import struct


class Codec:
    """Decodes a batch of payloads into one value and encodes a batch of results."""

    name = "codec"

    def check(self, payload):
        """Why ``payload`` cannot be decoded (a message), or ``None``. Called per request, so
        that one malformed payload fails alone with ``INVALID_ARGUMENT``."""
        return None

    def decode_batch(self, payloads):
        """The argument of a batch method for well-formed ``payloads``."""
        raise NotImplementedError

    def encode_batch(self, results):
        """One payload (``bytes``) per result, in order; an ``Exception`` stays as it is."""
        raise NotImplementedError

    def decode(self, payload):
        """The argument of a single-request method."""
        return self.decode_batch([payload])[0]

    def encode(self, result):
        """The payload of one result."""
        return self.encode_batch([result])[0]

    def __repr__(self):
        return f"flinkros.codecs.{self.name}"


class _Bytes(Codec):
    name = "BYTES"

    def decode_batch(self, payloads):
        return payloads

    def encode_batch(self, results):
        return [self.encode(r) for r in results]

    def decode(self, payload):
        return payload

    def encode(self, result):
        if isinstance(result, (bytes, Exception)):
            return result
        if isinstance(result, (bytearray, memoryview)):
            return bytes(result)
        # Not bytes(result): bytes(5) would quietly answer five zero bytes.
        return TypeError(f"a BYTES method must return bytes, got {type(result).__name__}")


class _Json(Codec):
    name = "JSON"

    def check(self, payload):
        try:
            json.loads(payload)
        except ValueError as e:
            return f"payload is not UTF-8 JSON: {e}"
        return None

    def decode_batch(self, payloads):
        return [json.loads(p) for p in payloads]

    def encode_batch(self, results):
        return [
            r if isinstance(r, Exception) else json.dumps(r, separators=(",", ":")).encode()
            for r in results
        ]


class _Float32Array(Codec):
    name = "FLOAT32_ARRAY"
    _HEADER = struct.Struct(">i")

    def check(self, payload):
        if len(payload) < 4:
            return f"a float[] payload starts with a 4-byte length; got {len(payload)} bytes"
        (length,) = self._HEADER.unpack_from(payload)
        if length < 0 or len(payload) != 4 + 4 * length:
            return (
                f"a float[] of length {length} takes {4 + 4 * max(length, 0)} bytes;"
                f" got {len(payload)}"
            )
        return None

    def decode_batch(self, payloads):
        import numpy as np

        lengths = {len(p) for p in payloads}
        if len(lengths) == 1:
            # One copy for the whole batch: rows of [length, values...] read as big-endian
            # floats, the length column dropped, converted to native float32.
            width = lengths.pop() // 4
            rows = np.frombuffer(b"".join(payloads), dtype=">f4").reshape(len(payloads), width)
            return rows[:, 1:].astype(np.float32)
        return [np.frombuffer(p, dtype=">f4", offset=4).astype(np.float32) for p in payloads]

    def encode_batch(self, results):
        import numpy as np

        if isinstance(results, np.ndarray) and results.ndim == 2:
            count, width = results.shape
            out = np.empty((count, width + 1), dtype=">f4")
            out.view(">i4")[:, 0] = width
            out[:, 1:] = results
            data = out.tobytes()
            row = 4 * (width + 1)
            return [data[i * row : (i + 1) * row] for i in range(count)]
        encoded = []
        for result in results:
            if isinstance(result, Exception):
                encoded.append(result)
                continue
            values = np.asarray(result, dtype=">f4").reshape(-1)
            encoded.append(self._HEADER.pack(values.size) + values.tobytes())
        return encoded


BYTES = _Bytes()
JSON = _Json()
FLOAT32_ARRAY = _Float32Array()
