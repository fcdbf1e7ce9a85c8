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

import numpy as np

from flinkros import codecs

# Flink's FloatPrimitiveArraySerializer writes new float[] {1.0f, -2.5f} as these bytes.
FLINK_FLOATS = bytes.fromhex("00000002" "3f800000" "c0200000")


def test_float32_arrays_read_and_write_flinks_float_array_layout():
    batch = codecs.FLOAT32_ARRAY.decode_batch([FLINK_FLOATS, FLINK_FLOATS])
    assert batch.dtype == np.float32 and batch.shape == (2, 2)
    np.testing.assert_array_equal(batch, [[1.0, -2.5], [1.0, -2.5]])
    assert codecs.FLOAT32_ARRAY.encode_batch(batch) == [FLINK_FLOATS, FLINK_FLOATS]
    assert codecs.FLOAT32_ARRAY.encode([1.0, -2.5]) == FLINK_FLOATS


def test_float32_arrays_of_mixed_lengths_are_a_list_of_rows():
    short = bytes.fromhex("00000001" "3f800000")
    batch = codecs.FLOAT32_ARRAY.decode_batch([FLINK_FLOATS, short])
    assert [row.tolist() for row in batch] == [[1.0, -2.5], [1.0]]
    failure = ValueError("no")
    assert codecs.FLOAT32_ARRAY.encode_batch([np.array([1.0, -2.5]), failure]) == [
        FLINK_FLOATS,
        failure,
    ]


def test_malformed_float32_arrays_are_named():
    check = codecs.FLOAT32_ARRAY.check
    assert check(FLINK_FLOATS) is None
    assert check(b"\x00\x00") == "a float[] payload starts with a 4-byte length; got 2 bytes"
    assert check(FLINK_FLOATS[:-1]) == "a float[] of length 2 takes 12 bytes; got 11"
    assert check(bytes.fromhex("ffffffff")) == "a float[] of length -1 takes 4 bytes; got 4"


def test_bytes_results_must_be_bytes():
    assert codecs.BYTES.encode_batch([b"a", bytearray(b"b")]) == [b"a", b"b"]
    (wrong,) = codecs.BYTES.encode_batch([5])
    assert isinstance(wrong, TypeError) and "must return bytes, got int" in str(wrong)


def test_json_round_trips_and_names_bad_payloads():
    assert codecs.JSON.decode_batch([b'{"a": 1}', b"[2]"]) == [{"a": 1}, [2]]
    assert codecs.JSON.encode_batch([{"a": 1}]) == [b'{"a":1}']
    assert codecs.JSON.check(b"{").startswith("payload is not UTF-8 JSON")
