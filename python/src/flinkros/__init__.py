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

"""flink-ros for Python: serve a Python model as an RpcOperator service of a Flink job.

Write a :class:`Service`, declare its methods with :func:`method` or :func:`batch_method`, and
add it to a job with the connector's ``PythonService``; Flink launches ``python -m
flinkros.host`` for each instance. :class:`Instance` runs a service in this process (for tests
and for serving outside Flink), and :class:`Client` calls one.
"""

from flinkros import codecs
from flinkros._native import VERSION as __version__
from flinkros.client import Client, content_key
from flinkros.errors import RosError, StatusCode
from flinkros.instance import Instance
from flinkros.service import Context, Service, batch_method, method

__all__ = [
    "Client",
    "Context",
    "Instance",
    "RosError",
    "Service",
    "StatusCode",
    "batch_method",
    "codecs",
    "content_key",
    "method",
]
