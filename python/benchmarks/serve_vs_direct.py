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

"""Throughput of a batch model called directly in Python and served through flink-ros, in one
run: the served model runs in its own ``python -m flinkros.host`` process, called by a
``flinkros.Client`` with many requests in flight; each request is one row of the batch.

    python benchmarks/serve_vs_direct.py --model numpy --batch 64 --in-flight 512
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import models  # noqa: E402

from flinkros import Client, Context, codecs  # noqa: E402

MODELS = {"numpy": models.NumpyMlp, "torch": models.TorchEncoder}


def rows(model_class, count, seed=1):
    rng = np.random.default_rng(seed)
    if model_class is models.TorchEncoder:
        return rng.integers(0, 32000, (count, model_class.WIDTH)).astype(np.float32)
    return rng.standard_normal((count, model_class.WIDTH), dtype=np.float32)


def read_properties(path):
    with open(path) as f:
        return dict(line.rstrip("\n").split("=", 1) for line in f)


def direct(model_class, batch, seconds):
    """Rows per second of the model's own function on ready batches, one batch at a time."""
    model = model_class()
    model.open(Context())
    batches = [rows(model_class, batch, seed) for seed in range(8)]
    for b in batches:  # warm-up
        model.predict(b)
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for b in batches:
            np.asarray(model.predict(b))
            done += batch
    return done / (time.perf_counter() - started)


def served(model_name, batch, in_flight, seconds, concurrency):
    """Rows per second through a host process, each row one call; and the mean batch size."""
    model_class = MODELS[model_name]
    folder = tempfile.mkdtemp(prefix="flinkros-bench-")
    ready, stats = os.path.join(folder, "ready"), os.path.join(folder, "stats")
    host = subprocess.Popen(
        [sys.executable, "-m", "flinkros.host", "--service", f"models:{model_class.__name__}",
         "--ready-file", ready, "--stats-file", stats, "--log-level", "warning",
         "--option", f"maxBatchSize={batch}", "--option", f"queueCapacity={4 * in_flight}",
         "--concurrency", str(concurrency)],
        stdin=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([HERE, os.environ.get("PYTHONPATH", "")])},
    )
    try:
        deadline = time.monotonic() + 300
        while not os.path.exists(ready):
            if host.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the host did not start (exit code {host.poll()})")
            time.sleep(0.05)
        port = read_properties(ready)["port"]
        payloads = [codecs.FLOAT32_ARRAY.encode(r) for r in rows(model_class, 16 * in_flight)]
        with Client([f"127.0.0.1:{port}"], options={"maxInFlight": in_flight}) as client:
            for outcome in client.call_all("predict", payloads[:in_flight]):  # warm-up
                if not isinstance(outcome, bytes):
                    raise outcome
            done, started = 0, time.perf_counter()
            while time.perf_counter() - started < seconds:
                outcomes = client.call_all("predict", payloads)
                failed = [o for o in outcomes if not isinstance(o, bytes)]
                if failed:
                    raise failed[0]
                done += len(outcomes)
            rate = done / (time.perf_counter() - started)
        host.stdin.close()
        host.wait(60)
        counters = read_properties(stats)
        return rate, int(counters["dispatched"]) / max(int(counters["batches"]), 1)
    finally:
        host.kill()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=sorted(MODELS), default="numpy")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--in-flight", type=int, default=512)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=1, help="batches the host runs at once")
    args = parser.parse_args()
    direct_rate = direct(MODELS[args.model], args.batch, args.seconds)
    served_rate, mean_batch = served(
        args.model, args.batch, args.in_flight, args.seconds, args.concurrency
    )
    print(json.dumps({
        "model": args.model,
        "batch": args.batch,
        "in_flight": args.in_flight,
        "concurrency": args.concurrency,
        "direct_rows_per_s": round(direct_rate),
        "served_rows_per_s": round(served_rate),
        "ratio": round(served_rate / direct_rate, 3),
        "served_mean_batch": round(mean_batch, 1),
    }))


if __name__ == "__main__":
    main()
