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

"""Status codes and the error every failed call or request carries."""

import enum

from flinkros import _native

# The codes come from the runtime, so that they cannot drift from those the Java client reads.
StatusCode = enum.IntEnum(
    "StatusCode", [(name, number) for name, number, _ in _native.status_codes()]
)
StatusCode.__doc__ = "Why a call failed; the numbers are gRPC's."
StatusCode.__module__ = __name__

_RETRYABLE = {number for _, number, retryable in _native.status_codes() if retryable}


class RosError(Exception):
    """A failed call or request: a status code and a message meant for people.

    Raised by a service method, it fails that request (or, from a batch method, the whole batch)
    with its code; returned in a batch method's results, it fails only that request. Any other
    exception fails with ``INTERNAL``.
    """

    def __init__(self, code, message):
        self.code = StatusCode(int(code))
        self.message = str(message)
        super().__init__(f"{self.code.name}: {self.message}")

    @property
    def retryable(self):
        """Whether the call produced no response and may be sent to another instance."""
        return int(self.code) in _RETRYABLE

    def __reduce__(self):
        return (RosError, (int(self.code), self.message))
