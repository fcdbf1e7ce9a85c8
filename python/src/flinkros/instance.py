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

"""An instance of a service in this process: its server and the worker that runs its batches."""

import atexit
import logging
import threading
import weakref

from flinkros import _native
from flinkros.errors import StatusCode
from flinkros.service import Context, error_of, methods_of

_LOG = logging.getLogger("flinkros.instance")

# How long the worker waits for requests before it looks at the stop flag again.
_POLL_SECONDS = 0.2
# The batch bound of a poll; each method's own maxBatchSize is what limits its batches.
_POLL_MAX = 65536

# Instances still serving when the interpreter exits are stopped first: a worker thread waiting
# in the runtime must not be torn down by the interpreter's finalization.
_SERVING = weakref.WeakSet()


@atexit.register
def _stop_serving_instances():
    for instance in list(_SERVING):
        instance.stop()


class Instance:
    """A service instance: opens the service, serves its methods on a port, and runs one batch
    at a time until stopped. Also usable outside Flink, e.g. to test a service::

        with Instance(MyModel()) as instance:
            client = Client([f"127.0.0.1:{instance.port}"])
            ...

    ``options`` are server options by name (those of the Java ``RosServerOptions``:
    ``bindHost``, ``port``, ``queueCapacity``, ``maxBatchSize``, ``maxBatchDelayMicros``,
    ``maxBatchSize@method``, ...), ``token`` the service token callers must present.

    ``concurrency`` is how many batches may run at once (default 1: one at a time, so the service
    need not be thread-safe). With 2, one batch's decoding and encoding overlap another's model
    call, where the model releases the GIL (NumPy, PyTorch); the service must then be
    thread-safe.
    """

    def __init__(self, service, *, options=None, token=None, context=None, concurrency=1):
        if not 1 <= concurrency <= 64:
            raise ValueError(f"concurrency must be 1..64, got {concurrency}")
        self._concurrency = concurrency
        self._service = service
        self._methods = methods_of(service)
        self._stopping = threading.Event()
        self._stopped = threading.Event()
        self._closed = False
        self._lock = threading.Lock()
        self._workers = []
        self.failure = None
        """The exception that stopped a worker, if one did."""
        server_options = _server_options(options or {}, self._methods, token)
        service.open(context or Context())
        try:
            self._server = _native.Server(server_options, sorted(self._methods))
        except BaseException:
            service.close()
            raise

    @property
    def port(self):
        """The port the instance listens on."""
        return self._server.port

    @property
    def methods(self):
        """The names of the methods the instance serves."""
        return sorted(self._methods)

    def stats(self):
        """Counters and latencies since the instance started (the names ``RosServerStats``
        uses: ``admitted``, ``dispatched``, ``batches``, ``failed.INTERNAL``, ...)."""
        return self._server.stats()

    def options(self):
        """The server options the instance runs with, every default filled in (no token)."""
        return dict(self._server.options())

    def serve(self):
        """Runs batches on the calling thread until :meth:`stop`."""
        while not self._stopping.is_set():
            batch = self._server.poll(_POLL_MAX, _POLL_SECONDS)
            if batch is not None:
                self._run(batch)

    def start(self):
        """Runs :meth:`serve` on ``concurrency`` background threads (once; later calls do
        nothing); returns the instance. A worker that fails records :attr:`failure` and sets
        :meth:`wait`'s event."""
        with self._lock:
            if not self._workers:
                self._workers = [
                    threading.Thread(target=self._work, name=f"flinkros-worker-{i}", daemon=True)
                    for i in range(self._concurrency)
                ]
                for worker in self._workers:
                    worker.start()
                _SERVING.add(self)
        return self

    def wait(self, timeout=None):
        """Waits until a worker failed or :meth:`stop` was called; True if either happened."""
        return self._stopped.wait(timeout)

    def _work(self):
        try:
            self.serve()
        except BaseException as e:
            self.failure = e
            _LOG.error("a worker of the instance failed; the instance stops", exc_info=e)
        finally:
            self._stopped.set()

    def stop(self):
        """Stops serving: refuses new requests and answers every waiting caller ``UNAVAILABLE``
        (queued requests, and the batch in progress, whose callers retry on another instance),
        waits for that batch to finish, then closes the service. Idempotent."""
        self._stopping.set()
        self._stopped.set()
        self._server.shutdown()
        # Workers return from their poll once the server is shut down; none may still wait in
        # the runtime when the interpreter finalizes.
        for worker in self._workers:
            if worker is not threading.current_thread():
                worker.join()
        with self._lock:
            if self._closed:
                return
            self._closed = True
        _SERVING.discard(self)
        self._service.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _run(self, batch):
        spec = self._methods[batch.method]
        codec = spec.codec
        ids, payloads = batch.ids, batch.payloads
        results = [None] * len(ids)
        errors = [None] * len(ids)
        good = []
        for i, payload in enumerate(payloads):
            problem = codec.check(payload)
            if problem is None:
                good.append(i)
            else:
                errors[i] = (int(StatusCode.INVALID_ARGUMENT), f"method '{spec.name}': {problem}")
        function = getattr(self._service, spec.function_name)
        if spec.batch and good:
            try:
                outcomes = self._run_batch(spec, function, [payloads[i] for i in good])
            except Exception as e:  # the whole batch fails, each caller learns why
                _LOG.warning("method '%s' failed a batch of %d", spec.name, len(good), exc_info=e)
                outcomes = [e] * len(good)
        else:
            outcomes = [self._run_one(spec, function, payloads[i]) for i in good]
        for i, outcome in zip(good, outcomes):
            if isinstance(outcome, Exception):
                errors[i] = error_of(outcome)
            elif isinstance(outcome, (bytes, bytearray)):
                results[i] = outcome
            else:
                errors[i] = error_of(
                    TypeError(f"codec {codec!r} encoded {type(outcome).__name__}, not bytes")
                )
        self._server.complete(ids, results, errors)

    @staticmethod
    def _run_batch(spec, function, payloads):
        results = function(spec.codec.decode_batch(payloads))
        if results is None or len(results) != len(payloads):
            got = "None" if results is None else f"{len(results)} results"
            raise TypeError(
                f"method '{spec.name}' returned {got} for a batch of {len(payloads)}:"
                " a batch method returns one result per request, in order"
            )
        return spec.codec.encode_batch(results)

    @staticmethod
    def _run_one(spec, function, payload):
        try:
            return spec.codec.encode(function(spec.codec.decode(payload)))
        except Exception as e:
            _LOG.debug("method '%s' failed", spec.name, exc_info=e)
            return e


def _server_options(options, methods, token):
    """The server's options: the given ones, the methods' own batching where not given, and the
    token."""
    merged = {str(k): str(v) for k, v in options.items()}
    if "token" in merged:
        raise ValueError("pass the token as token=..., not as an option")
    for spec in methods.values():
        size_key, delay_key = f"maxBatchSize@{spec.name}", f"maxBatchDelayMicros@{spec.name}"
        if spec.max_batch_size is not None and size_key not in merged:
            merged[size_key] = str(spec.max_batch_size)
        if spec.max_batch_delay is not None and delay_key not in merged:
            merged[delay_key] = str(round(spec.max_batch_delay * 1_000_000))
    if token:
        merged["token"] = token
    return sorted(merged.items())
