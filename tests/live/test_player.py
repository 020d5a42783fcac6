"""Playing a cluster in real time on a live server: the clock follows the wall clock times the speed."""

import time

import pytest

from tests.live.test_restart import call

pytestmark = pytest.mark.live


def now_of(server, name):
    return call(server, "GET", f"/sim/clusters/{name}/clock")["now"]


def test_play_at_speed_then_pause(kubeviz_server):
    name = "player"
    call(kubeviz_server, "POST", "/sim/clusters", {"name": name, "nodes": 1, "start": "2025-01-01T00:00:00Z"})
    clock = call(kubeviz_server, "PATCH", f"/sim/clusters/{name}/clock", {"paused": False, "speed": 50})
    assert clock["paused"] is False and clock["speed"] == 50
    deadline = time.monotonic() + 20
    while now_of(kubeviz_server, name) < "2025-01-01T00:00:10Z":
        assert time.monotonic() < deadline, "the clock did not move while playing"
        time.sleep(0.1)
    call(kubeviz_server, "PATCH", f"/sim/clusters/{name}/clock", {"paused": True})
    time.sleep(0.3)  # a tick already under way may still finish
    frozen = now_of(kubeviz_server, name)
    time.sleep(0.5)
    assert now_of(kubeviz_server, name) == frozen
