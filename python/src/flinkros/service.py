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

"""The service API: a class whose methods answer requests, one at a time or in batches."""

import dataclasses
import re
import traceback

from flinkros import codecs as _codecs
from flinkros.errors import RosError, StatusCode

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,127}")


@dataclasses.dataclass(frozen=True)
class Context:
    """Where an instance runs: given to :meth:`Service.open`."""

    service_name: str = "service"
    instance_index: int = 0
    parallelism: int = 1
    gpu_indices: tuple = ()
    """The GPUs claimed for this instance (their indices on the machine). When the instance
    claimed any, ``CUDA_VISIBLE_DEVICES`` lists the same GPUs, so frameworks see them as 0..n-1."""


class Service:
    """A model served as an RpcOperator service. Subclass it, load the model in :meth:`open`,
    and declare methods with :func:`method` or :func:`batch_method`.

    An instance runs one batch at a time: a method never runs concurrently with itself or with
    another method of the same instance.
    """

    def open(self, context):
        """Loads the model; runs once per instance, before it serves."""

    def close(self):
        """Releases the model; runs once, after the instance stopped serving."""


@dataclasses.dataclass(frozen=True)
class MethodSpec:
    """A method of a service, as declared by :func:`method` or :func:`batch_method`."""

    name: str
    function_name: str
    batch: bool
    codec: _codecs.Codec
    max_batch_size: object = None
    max_batch_delay: object = None


def _declare(function, name, batch, codec, max_batch_size, max_batch_delay):
    name = name or function.__name__
    if not _NAME.fullmatch(name):
        raise ValueError(
            f"method name must be 1-128 letters, digits, '_', '.' or '-' and start with a letter"
            f" or '_', got {name!r}"
        )
    if not isinstance(codec, _codecs.Codec):
        raise TypeError(f"codec must be a flinkros.codecs.Codec, got {codec!r}")
    if max_batch_size is not None and not 1 <= max_batch_size <= 65536:
        raise ValueError(f"max_batch_size must be 1..65536, got {max_batch_size}")
    if max_batch_delay is not None and not 0 <= max_batch_delay <= 60:
        raise ValueError(f"max_batch_delay must be 0..60 seconds, got {max_batch_delay}")
    function.__flinkros_method__ = MethodSpec(
        name, function.__name__, batch, codec, max_batch_size, max_batch_delay
    )
    return function


def method(name=None, *, codec=_codecs.BYTES):
    """Declares a method that answers one request at a time: ``f(self, argument) -> result``.

    Its requests are taken one at a time (batch size 1), so that a queued request stays
    cancellable and can go to another instance until it runs.
    """

    def decorate(function):
        return _declare(function, name, False, codec, 1, None)

    return decorate


def batch_method(name=None, *, codec=_codecs.BYTES, max_batch_size=None, max_batch_delay=None):
    """Declares a method that answers a batch of requests: ``f(self, batch) -> results``, with
    one result per request, in order (a list, or an array whose first axis is the batch).

    A result that is an ``Exception`` fails only its request; an exception raised fails the whole
    batch. ``max_batch_size`` and ``max_batch_delay`` (seconds) override the instance's
    ``maxBatchSize``/``maxBatchDelayMicros`` for this method; by default a batch takes whatever is
    queued, up to 64 requests, and never waits to fill.
    """

    def decorate(function):
        return _declare(function, name, True, codec, max_batch_size, max_batch_delay)

    return decorate


def methods_of(service):
    """The methods ``service`` declares, by name."""
    found = {}
    for klass in reversed(type(service).__mro__):
        for attribute in vars(klass).values():
            spec = getattr(attribute, "__flinkros_method__", None)
            if spec is not None:
                found[spec.name] = spec
    if not found:
        raise ValueError(
            f"{type(service).__qualname__} declares no method: decorate its methods with"
            " @flinkros.method or @flinkros.batch_method"
        )
    return found


def error_of(exception):
    """The ``(code, message)`` a failed request is answered with."""
    if isinstance(exception, RosError):
        return int(exception.code), exception.message
    # The traceback's last frame says where the model failed, without flooding the caller.
    where = traceback.extract_tb(exception.__traceback__)[-1:] if exception.__traceback__ else []
    location = f" (at {where[0].filename}:{where[0].lineno})" if where else ""
    return int(StatusCode.INTERNAL), f"{type(exception).__name__}: {exception}{location}"
