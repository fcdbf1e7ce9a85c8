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

"""A stand-in for ``python -m flinkros.host``, standard library only, for the connector's tests.

It keeps the host's process contract (arguments, ready file, stats file, standard input, exit
codes) and behaves as ``STANDIN_MODE`` says:

- ``serve`` (default): writes the stats and ready files, then serves until its standard input
  closes or SIGTERM arrives, and exits 0;
- ``exit-before-ready``: prints a traceback-like message to stderr and exits 3;
- ``exit-after-ready``: writes the ready file, prints to stderr and exits 7;
- ``never-ready``: never writes the ready file; stops when its input closes;
- ``stubborn``: writes the ready file, then ignores its input closing and SIGTERM.

It records its pid, arguments and ``FLINKROS_*`` environment as JSON in ``STANDIN_RECORD``, and
appends ``stopped`` to ``STANDIN_RECORD.stopped`` when it stops cleanly.
"""

import argparse
import json
import os
import signal
import sys
import threading


def _write_atomically(path, values):
    # As the real host: name=value lines, renamed into place.
    temporary = path + ".tmp"
    with open(temporary, "w") as out:
        out.writelines(f"{name}={value}\n" for name, value in values.items())
    os.replace(temporary, path)


def _write_json(path, value):
    with open(path + ".tmp", "w") as out:
        json.dump(value, out)
    os.replace(path + ".tmp", path)


STATS_NAMES = [
    "admitted", "rejectedFull", "rejectedUnknownMethod", "rejectedUnauthenticated",
    "rejectedConnections", "handshakeTimeouts", "dispatched", "batches", "cancelledQueued",
    "expiredQueued", "completed", "discardedResults", "queueDepth", "executing",
]
CODES = [
    "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
    "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
    "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
]
LATENCY = ["count", "meanMicros", "stdDevMicros", "minMicros", "p50Micros", "p90Micros",
           "p99Micros", "p999Micros", "maxMicros"]


def _stats():
    stats = {name: 0 for name in STATS_NAMES}
    stats.update({"failed." + code: 0 for code in CODES})
    for prefix in ("queueWait", "execution"):
        stats.update({prefix + "." + name: 0 for name in LATENCY})
    stats["admitted"] = 5
    return stats


def main():
    parser = argparse.ArgumentParser(prog="python -m flinkros.host")
    parser.add_argument("--service", required=True)
    parser.add_argument("--ready-file", required=True)
    parser.add_argument("--stats-file", required=True)
    parser.add_argument("--option", action="append", default=[])
    parser.add_argument("--concurrency", type=int, default=1)
    args = parser.parse_args()
    mode = os.environ.get("STANDIN_MODE", "serve")
    record = os.environ["STANDIN_RECORD"]
    environment = {
        name: value
        for name, value in os.environ.items()
        if name.startswith("FLINKROS_")
        or name in ("PYTHONUNBUFFERED", "CUDA_VISIBLE_DEVICES", "PYTHONPATH", "STANDIN_EXTRA")
    }
    _write_json(
        record,
        {"pid": os.getpid(), "argv": sys.argv[1:], "env": environment, "cwd": os.getcwd()},
    )
    print("hello from stdout of " + args.service, flush=True)
    print("INFO flinkros.host: loading " + args.service, file=sys.stderr, flush=True)

    if mode == "exit-before-ready":
        print("Traceback (most recent call last):", file=sys.stderr)
        print("ModelLoadError: no weights at /models/square", file=sys.stderr, flush=True)
        sys.exit(3)

    stop = threading.Event()
    if mode == "stubborn":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    else:
        signal.signal(signal.SIGTERM, lambda *_: stop.set())

        def stop_at_eof():
            while sys.stdin.buffer.read(4096):
                pass
            stop.set()

        threading.Thread(target=stop_at_eof, daemon=True).start()

    if mode != "never-ready":
        _write_atomically(args.stats_file, _stats())
        _write_atomically(
            args.ready_file, {"port": 4242, "pid": os.getpid(), "methods": "square"}
        )
    print("a plain line on stderr", file=sys.stderr, flush=True)

    if mode == "exit-after-ready":
        print("fatal: the model crashed", file=sys.stderr, flush=True)
        _exit(7)
    if mode == "stubborn":
        threading.Event().wait()
    stop.wait()
    with open(record + ".stopped", "a") as out:
        out.write("stopped\n")
    _exit(0)


def _exit(code):
    # Not sys.exit: the thread reading standard input may hold its lock at interpreter shutdown.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
