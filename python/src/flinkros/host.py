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

"""The process a Flink instance task launches: ``python -m flinkros.host --service MODULE:CLASS``.

It opens the service, starts serving, writes the ready file (``port``, ``pid`` and ``methods``,
comma-separated), rewrites the stats file (counter name and value) every second, both as Java
properties files (``name=value`` lines, read by ``java.util.Properties``), and runs batches until it is told to stop: SIGTERM,
SIGINT, or its standard input closing when stdin is a pipe (the TaskManager that launched it went
away, so the process never outlives it). Exit codes: 0 stopped, 1 failed while serving, 2 bad
arguments or service class, 3 ``open()`` or the server's start failed.
"""

import argparse
import importlib
import logging
import os
import signal
import stat
import sys
import threading
import traceback

from flinkros import _native
from flinkros.instance import Instance
from flinkros.service import Context, Service

_LOG = logging.getLogger("flinkros.host")

EXIT_FAILED, EXIT_USAGE, EXIT_OPEN_FAILED = 1, 2, 3


def main(argv=None):
    args = _parser().parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr, level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    _native.init_logging({"warning": "warn"}.get(args.log_level, args.log_level))
    try:
        service = load_service(args.service)
        options = dict(_pair(o) for o in args.option)
    except (ValueError, ImportError, AttributeError, TypeError) as e:
        print(f"flinkros.host: {e}", file=sys.stderr)
        return EXIT_USAGE

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    if _stdin_is_pipe():
        threading.Thread(target=_stop_at_eof, args=(stop,), name="flinkros-stdin", daemon=True).start()

    context = context_from_environment()
    try:
        instance = Instance(
            service,
            options=options,
            token=os.environ.get("FLINKROS_TOKEN") or None,
            context=context,
            concurrency=args.concurrency,
        )
    except Exception:
        print(f"flinkros.host: {args.service} failed to start", file=sys.stderr)
        traceback.print_exc()
        return EXIT_OPEN_FAILED

    _write_atomically(
        args.ready_file,
        {"port": instance.port, "pid": os.getpid(), "methods": ",".join(instance.methods)},
    )
    _LOG.info(
        "instance %d of service '%s' serving %s on port %d",
        context.instance_index,
        context.service_name,
        ", ".join(instance.methods),
        instance.port,
    )
    if args.stats_file:
        threading.Thread(
            target=_write_stats, args=(instance, args.stats_file, stop), name="flinkros-stats", daemon=True
        ).start()

    instance.start()
    # The main thread only waits, so that signal handlers run at once.
    while not stop.wait(1.0) and not instance.wait(0):
        pass
    failed = instance.failure
    _LOG.info("stopping instance %d of service '%s'", context.instance_index, context.service_name)
    try:
        instance.stop()
    except Exception:
        traceback.print_exc()
        return EXIT_FAILED
    if failed is not None:
        return EXIT_FAILED
    if args.stats_file:
        _write_atomically(args.stats_file, instance.stats())
    return 0


def load_service(reference):
    """An instance of the class named by ``MODULE:CLASS`` (built without arguments)."""
    module_name, _, class_name = reference.partition(":")
    if not module_name or not class_name:
        raise ValueError(f"--service must be MODULE:CLASS (e.g. my_models:Sentiment), got {reference!r}")
    target = importlib.import_module(module_name)
    for part in class_name.split("."):
        target = getattr(target, part)
    if not (isinstance(target, type) and issubclass(target, Service)):
        raise TypeError(f"{reference} is not a subclass of flinkros.Service")
    return target()


def context_from_environment():
    """The instance's context, as the Flink instance task passes it."""
    gpus = os.environ.get("FLINKROS_GPUS", "").strip()
    return Context(
        service_name=os.environ.get("FLINKROS_SERVICE", "service"),
        instance_index=int(os.environ.get("FLINKROS_INSTANCE_INDEX", "0")),
        parallelism=int(os.environ.get("FLINKROS_PARALLELISM", "1")),
        gpu_indices=tuple(int(g) for g in gpus.split(",")) if gpus else (),
    )


def _write_stats(instance, path, stop):
    while not stop.wait(1.0):
        try:
            _write_atomically(path, instance.stats())
        except OSError as e:
            _LOG.warning("cannot write the stats file %s: %s", path, e)


def _write_atomically(path, values):
    """Writes ``values`` as ``name=value`` lines, renamed into place so that readers never see a
    partial file. Names and values are ASCII without separators (method names, counters)."""
    temporary = f"{path}.tmp"
    with open(temporary, "w", encoding="ascii") as out:
        out.writelines(f"{name}={value}\n" for name, value in sorted(values.items()))
    os.replace(temporary, path)


def _stdin_is_pipe():
    try:
        return stat.S_ISFIFO(os.fstat(sys.stdin.fileno()).st_mode)
    except (OSError, ValueError, AttributeError):
        return False


def _stop_at_eof(stop):
    # The raw descriptor, not sys.stdin: a daemon thread blocked in a buffered read holds the
    # buffer's lock, which the interpreter's shutdown then cannot take.
    try:
        while os.read(sys.stdin.fileno(), 4096):
            pass
    except (OSError, ValueError):
        pass
    _LOG.info("standard input closed: the process that launched this instance is gone")
    stop.set()


def _pair(option):
    name, separator, value = option.partition("=")
    if not separator or not name:
        raise ValueError(f"--option must be NAME=VALUE, got {option!r}")
    return name, value


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m flinkros.host", description="Serve a flinkros.Service as an RpcOperator instance."
    )
    parser.add_argument("--service", required=True, help="the service class, as MODULE:CLASS")
    parser.add_argument("--ready-file", required=True, help="written with the port once serving")
    parser.add_argument("--stats-file", help="rewritten with the instance's counters every second")
    parser.add_argument(
        "--option", action="append", default=[], metavar="NAME=VALUE", help="a server option (repeatable)"
    )
    parser.add_argument(
        "--concurrency", type=int, default=1, help="batches run at once (default 1, serial)"
    )
    parser.add_argument("--log-level", default="info", choices=["error", "warning", "info", "debug"])
    return parser


if __name__ == "__main__":
    sys.exit(main())
