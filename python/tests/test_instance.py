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

"""A Python-hosted instance served on loopback and called through the runtime's client."""

import threading

import numpy as np
import pytest
from services import Square, floats, unfloats

from flinkros import Client, Instance, RosError, StatusCode, content_key


def serve(service=None, **kwargs):
    return Instance(service or Square(), **kwargs).start()


def client_of(instance, **kwargs):
    return Client([f"127.0.0.1:{instance.port}"], **kwargs)


def test_a_batch_method_answers_each_request_with_its_own_result():
    with serve() as instance, client_of(instance) as client:
        outcomes = client.call_all("square", [floats([i, 2.0, -1.5]) for i in range(200)])
        for i, outcome in enumerate(outcomes):
            np.testing.assert_array_equal(unfloats(outcome), [i * i, 4.0, 2.25])


def test_batches_form_under_load_and_respect_the_size_limit():
    model = Square()
    model.gate.clear()
    with serve(model, options={"maxBatchSize@square": "8"}) as instance:
        with client_of(instance) as client:
            # The first request holds the worker; the 40 behind it queue and go in batches of 8.
            first = threading.Thread(target=client.call, args=("square", floats([0.0])))
            first.start()
            assert model.entered.wait(10)
            rest = []
            caller = threading.Thread(
                target=lambda: rest.extend(
                    client.call_all("square", [floats([i]) for i in range(1, 41)])
                )
            )
            caller.start()
            _wait_for(lambda: instance.stats()["queueDepth"] == 40)
            model.gate.set()
            first.join(10)
            caller.join(10)
        assert len(rest) == 40 and all(isinstance(r, bytes) for r in rest)
        assert model.batch_sizes == [1, 8, 8, 8, 8, 8]
        stats = instance.stats()
        assert stats["dispatched"] == 41 and stats["batches"] == 6


def test_one_call_at_a_time_runs_batches_of_one():
    model = Square()
    with serve(model) as instance, client_of(instance) as client:
        for i in range(20):
            client.call("square", floats([i]))
    assert model.batch_sizes == [1] * 20


def test_single_request_methods_take_one_request_at_a_time():
    model = Square()
    with serve(model) as instance, client_of(instance) as client:
        assert client.call_all("echo", [b"%d" % i for i in range(50)]) == [
            b"%d" % i for i in range(50)
        ]
    assert model.batch_sizes == [1] * 50
    assert instance.options()["maxBatchSize@echo"] == "1"


def test_a_failed_item_fails_only_its_caller_and_a_failed_batch_fails_all():
    # A batch of three is taken once three are queued (the delay only bounds the wait).
    options = {"maxBatchSize@checked": "3", "maxBatchDelayMicros@checked": "10000000"}
    with serve(options=options) as instance:
        with client_of(instance) as client:
            # One batch: only b"bad" fails.
            outcomes = client.call_all("checked", [b"a", b"bad", b"c"])
            assert outcomes[0] == b"A" and outcomes[2] == b"C"
            assert outcomes[1].code == StatusCode.INTERNAL
            assert "ValueError: bad item" in outcomes[1].message
            outcomes = client.call_all("checked", [b"a", b"all-bad", b"c"])
            assert [o.code for o in outcomes] == [StatusCode.INVALID_ARGUMENT] * 3
            assert all("the batch held all-bad" in o.message for o in outcomes)
        assert instance.stats()["batches"] == 2


def test_a_malformed_payload_fails_alone_with_invalid_argument():
    with serve() as instance, client_of(instance) as client:
        outcomes = client.call_all("square", [floats([1.0]), b"\x00\x00\x00\x05abc", floats([3.0])])
        assert unfloats(outcomes[0]) == [1.0] and unfloats(outcomes[2]) == [9.0]
        assert outcomes[1].code == StatusCode.INVALID_ARGUMENT
        assert "float[] of length 5 takes 24 bytes; got 7" in outcomes[1].message
        with pytest.raises(RosError) as error:
            client.call("count", b"{not json")
        assert error.value.code == StatusCode.INVALID_ARGUMENT
        assert client.call("count", b"[1,2,3]") == b'{"length":3}'


def test_an_unknown_method_is_not_found():
    with serve() as instance, client_of(instance) as client:
        with pytest.raises(RosError) as error:
            client.call("sqaure", floats([1.0]))
    assert error.value.code == StatusCode.NOT_FOUND
    assert "sqaure" in error.value.message and "square" in error.value.message


def test_callers_without_the_token_are_refused():
    with serve(token="s3cret-token-for-tests") as instance:
        with client_of(instance) as anonymous:
            with pytest.raises(RosError) as error:
                anonymous.call("echo", b"x")
            assert error.value.code == StatusCode.UNAUTHENTICATED
        with client_of(instance, token="s3cret-token-for-tests") as client:
            assert client.call("echo", b"x") == b"x"
        assert instance.stats()["rejectedUnauthenticated"] == 1


def test_an_oversized_request_is_invalid_argument():
    with serve(options={"maxMessageBytes": "1024"}) as instance, client_of(instance) as client:
        with pytest.raises(RosError) as error:
            client.call("echo", b"x" * 4096)
        assert error.value.code == StatusCode.INVALID_ARGUMENT
        assert client.call("echo", b"x" * 100) == b"x" * 100


def test_a_request_that_times_out_in_the_queue_never_runs():
    model = Square()
    model.gate.clear()
    with serve(model) as instance, client_of(instance) as client:
        first = threading.Thread(target=client.call, args=("square", floats([1.0])))
        first.start()
        assert model.entered.wait(10)
        with pytest.raises(RosError) as error:
            client.call("square", floats([2.0]), timeout=0.2)
        assert error.value.code == StatusCode.DEADLINE_EXCEEDED
        # The instance's own deadline and the caller giving up race: either drops the request.
        _wait_for(
            lambda: instance.stats()["expiredQueued"] + instance.stats()["cancelledQueued"] == 1
        )
        model.gate.set()
        first.join(10)
    assert model.seen == [1.0]


def test_a_request_whose_caller_went_away_never_runs():
    model = Square()
    model.gate.clear()
    with serve(model) as instance:
        with client_of(instance) as holder:
            first = threading.Thread(target=holder.call, args=("square", floats([1.0])))
            first.start()
            assert model.entered.wait(10)
            leaver = client_of(instance)
            outcome = []
            thread = threading.Thread(
                target=lambda: outcome.extend(leaver.call_all("square", [floats([2.0])]))
            )
            thread.start()
            _wait_for(lambda: instance.stats()["queueDepth"] == 1)
            leaver.close()
            thread.join(10)
            _wait_for(lambda: instance.stats()["cancelledQueued"] == 1)
            model.gate.set()
            first.join(10)
    assert outcome[0].code == StatusCode.CANCELLED
    assert model.seen == [1.0]


def test_stop_answers_waiting_callers_unavailable_and_closes_once():
    model = Square()
    model.gate.clear()
    instance = serve(model)
    client = client_of(instance, options={"maxAttempts": "1"})
    running = []
    first = threading.Thread(
        target=lambda: running.extend(client.call_all("square", [floats([1.0])]))
    )
    first.start()
    assert model.entered.wait(10)
    outcome = []
    queued = threading.Thread(
        target=lambda: outcome.extend(client.call_all("square", [floats([2.0])]))
    )
    queued.start()
    _wait_for(lambda: instance.stats()["queueDepth"] == 1)
    stopper = threading.Thread(target=instance.stop)
    stopper.start()
    queued.join(10)
    assert outcome[0].code == StatusCode.UNAVAILABLE
    model.gate.set()
    stopper.join(10)
    instance.stop()
    first.join(10)
    client.close()
    # The running request's result is discarded too: its caller retries it elsewhere.
    assert running[0].code == StatusCode.UNAVAILABLE
    assert model.closed == 1 and model.seen == [1.0]


def test_stats_carry_every_name_the_java_side_reads():
    with serve() as instance, client_of(instance) as client:
        client.call("echo", b"x")
        stats = instance.stats()
    for name in ["admitted", "dispatched", "batches", "completed", "queueDepth", "executing"]:
        assert name in stats
    assert stats["failed.INTERNAL"] == 0 and stats["execution.count"] == 1


def test_keyed_calls_run_once_and_replays_come_from_the_cache():
    model = Square()
    with serve(model) as instance, client_of(instance) as client:
        first = client.call("square", floats([3.0]), key="record-1")
        again = client.call("square", floats([3.0]), key=b"record-1")
        # The same key with another payload runs on its own.
        other = client.call("square", floats([4.0]), key="record-1")
        by_content = [
            client.call("square", floats([5.0]), key=content_key("square", floats([5.0])))
            for _ in range(2)
        ]
        stats = instance.stats()
    assert first == again and unfloats(other) == [16.0]
    assert unfloats(by_content[0]) == unfloats(by_content[1]) == [25.0]
    assert model.seen == [3.0, 4.0, 5.0]
    assert (stats["cacheHits"], stats["keyConflicts"], stats["dispatched"]) == (2, 1, 3)


def test_a_bad_option_fails_the_start_and_closes_the_service():
    model = Square()
    with pytest.raises(RosError) as error:
        Instance(model, options={"queueCapacity": "0"})
    assert error.value.code == StatusCode.INVALID_ARGUMENT
    assert "queueCapacity" in error.value.message
    assert model.closed == 1


def _wait_for(condition, timeout=10.0):
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.005)
