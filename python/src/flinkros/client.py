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

"""A client of a service, from Python."""

from flinkros import _native


def content_key(method, payload):
    """The identity key made from a call itself (SHA-256 of method and payload), for a
    deterministic method: equal calls share one execution and one cached result."""
    return _native.content_key(method, payload)


class Client:
    """Calls a service's instances (``host:port`` each) with the Java client's balancing,
    retries, deadlines and backpressure. ``options`` are client options by name (those of the
    Java ``RosClientOptions``: ``clientId``, ``maxInFlight``, ``defaultTimeoutMillis``, ...).
    Failed calls raise (or, from :meth:`call_all`, return) :class:`flinkros.RosError`.
    """

    def __init__(self, endpoints, *, token=None, principal=None, options=None):
        given = {str(k): str(v) for k, v in (options or {}).items()}
        if token:
            given["token"] = token
        if principal:
            given["principal"] = principal
        self._native = _native.Client(list(endpoints), sorted(given.items()))

    def call(self, method, payload, timeout=None, key=None):
        """The result of ``method`` on ``payload`` (``bytes``); ``timeout`` in seconds.

        ``key`` is the request's identity (``bytes`` or ``str``, e.g. a record id; or
        :func:`content_key` for a deterministic method): requests of one method with the same key
        and payload run once on an instance, later ones joining it or answered from its result
        cache, and keyed calls go to the instance their key hashes to."""
        if isinstance(key, str):
            key = key.encode()
        return self._native.call(method, payload, timeout, key)

    def call_all(self, method, payloads, timeout=None):
        """Calls ``method`` once per payload, many at a time; the outcomes in order, each
        ``bytes`` or a ``RosError``."""
        return self._native.call_all(method, list(payloads), timeout)

    def update_endpoints(self, endpoints):
        """Replaces the instances called."""
        self._native.update_endpoints(list(endpoints))

    def stats(self):
        """Counters and latencies since the client was made."""
        return self._native.stats()

    def close(self):
        """Fails calls in progress with ``CANCELLED``; idempotent."""
        self._native.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
