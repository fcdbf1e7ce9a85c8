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

"""``python -m flinkros.host``, run as the Flink instance task runs it: a real process."""

import os
import signal
import subprocess
import sys
import time

import pytest
from services import floats, unfloats

from flinkros import Client, RosError, StatusCode

TOKEN = "a-service-token-of-the-test"


def launch(tmp_path, *args, env=None):
    ready = tmp_path / "ready.properties"
    stats = tmp_path / "stats.properties"
    process = subprocess.Popen(
        [sys.executable, "-m", "flinkros.host", "--ready-file", str(ready), "--stats-file", str(stats)]
        + list(args),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    return process, ready, stats


def wait_ready(process, ready, timeout=30):
    deadline = time.monotonic() + timeout
    while not ready.exists():
        if process.poll() is not None:
            raise AssertionError(f"host exited {process.returncode}: {process.stderr.read().decode()}")
        assert time.monotonic() < deadline, "host not ready in time"
        time.sleep(0.01)
    return read_properties(ready)


def read_properties(path):
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


def test_the_host_serves_publishes_its_port_and_stops_on_sigterm(tmp_path):
    closed = tmp_path / "closed"
    opened = tmp_path / "opened"
    process, ready, stats = launch(
        tmp_path,
        "--service",
        "services:Square",
        "--option",
        "maxBatchSize@square=4",
        env={
            "FLINKROS_TOKEN": TOKEN,
            "FLINKROS_SERVICE": "squares",
            "FLINKROS_INSTANCE_INDEX": "1",
            "FLINKROS_PARALLELISM": "2",
            "SQUARE_OPEN_MARKER": str(opened),
            "SQUARE_CLOSE_MARKER": str(closed),
        },
    )
    try:
        announced = wait_ready(process, ready)
        assert announced["pid"] == str(process.pid)
        assert announced["methods"] == "checked,count,echo,square"
        assert opened.read_text() == f"1 {process.pid}\n"
        with Client([f"127.0.0.1:{announced['port']}"], token=TOKEN) as client:
            outcomes = client.call_all("square", [floats([i]) for i in range(100)])
            assert [float(unfloats(o)[0]) for o in outcomes] == [i * i for i in range(100)]
        deadline = time.monotonic() + 10
        while not stats.exists() or int(read_properties(stats)["completed"]) < 100:
            assert time.monotonic() < deadline, "stats file not updated"
            time.sleep(0.05)
        assert read_properties(stats)["admitted"] == "100"
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0
        assert closed.read_text() == "closed\n"
        assert "serving checked, count, echo, square on port" in process.stderr.read().decode()
    finally:
        process.kill()


def test_the_host_stops_when_its_launcher_goes_away(tmp_path):
    closed = tmp_path / "closed"
    process, ready, _ = launch(
        tmp_path, "--service", "services:Square", env={"SQUARE_CLOSE_MARKER": str(closed)}
    )
    try:
        wait_ready(process, ready)
        process.stdin.close()  # what the TaskManager's death does to the pipe
        assert process.wait(20) == 0
        assert closed.read_text() == "closed\n"
        assert "standard input closed" in process.stderr.read().decode()
    finally:
        process.kill()


def test_a_failed_open_exits_3_with_the_cause_and_no_ready_file(tmp_path):
    process, ready, _ = launch(
        tmp_path, "--service", "services:Square", env={"SQUARE_FAIL_OPEN": "1"}
    )
    assert process.wait(30) == 3
    assert not ready.exists()
    stderr = process.stderr.read().decode()
    assert "services:Square failed to start" in stderr
    assert "RuntimeError: model file missing (SQUARE_FAIL_OPEN)" in stderr


@pytest.mark.parametrize(
    "service, message",
    [
        ("services", "--service must be MODULE:CLASS"),
        ("no_such_module:Model", "No module named 'no_such_module'"),
        ("services:floats", "services:floats is not a subclass of flinkros.Service"),
    ],
)
def test_a_wrong_service_exits_2_naming_it(tmp_path, service, message):
    process, ready, _ = launch(tmp_path, "--service", service)
    assert process.wait(30) == 2
    assert message in process.stderr.read().decode()
    assert not ready.exists()


def test_a_wrong_option_fails_the_start_naming_it(tmp_path):
    process, ready, _ = launch(tmp_path, "--service", "services:Square", "--option", "queueCapacity=-1")
    assert process.wait(30) == 3
    assert "queueCapacity" in process.stderr.read().decode()


def test_callers_without_the_token_are_refused_by_the_host(tmp_path):
    process, ready, _ = launch(tmp_path, "--service", "services:Square", env={"FLINKROS_TOKEN": TOKEN})
    try:
        port = wait_ready(process, ready)["port"]
        with Client([f"127.0.0.1:{port}"]) as client:
            with pytest.raises(RosError) as error:
                client.call("echo", b"x")
        assert error.value.code == StatusCode.UNAUTHENTICATED
    finally:
        process.kill()
        process.wait()
