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

"""The square model of the process-cluster tests, hosted in Python: it answers as the Java
SquareOperator does (square, instance index, process id; big-endian), and costs 2 ms a request."""

import os
import struct
import time

from flinkros import Service, batch_method

_REQUEST = struct.Struct(">q")
_REPLY = struct.Struct(">qiq")


class SquareHostModel(Service):
    def open(self, context):
        self.index = context.instance_index
        self.pid = os.getpid()

    @batch_method("square")
    def square(self, payloads):
        time.sleep(0.002 * len(payloads))
        out = []
        for payload in payloads:
            (x,) = _REQUEST.unpack(payload)
            out.append(_REPLY.pack(x * x, self.index, self.pid))
        return out
