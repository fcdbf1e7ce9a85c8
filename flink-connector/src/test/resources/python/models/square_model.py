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

"""The NumPy model of PythonServiceITCase: squares float32 rows, a batch at a time.

Each open() appends ``<instance index> <pid>`` to the file named by ``SQUARE_OPENS``, so the test
counts how often each instance loaded; with ``SQUARE_FAIL_OPEN`` set, open() fails instead.
"""

import os

import numpy as np

from flinkros import Service, batch_method, codecs


class SquareModel(Service):
    def open(self, context):
        if os.environ.get("SQUARE_FAIL_OPEN"):
            raise RuntimeError("no weights for the square model (simulated)")
        with open(os.environ["SQUARE_OPENS"], "a") as out:
            out.write(f"{context.instance_index} {os.getpid()}\n")

    @batch_method("square", codec=codecs.FLOAT32_ARRAY)
    def square(self, batch):
        return np.square(batch)

    def close(self):
        pass
