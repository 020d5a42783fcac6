"""A server shutdown stops a simulation run before its next instant: the request is answered 503, the stored clock
is the last instant simulated, and an engine rebuilt from the store goes on from there."""

import json
import threading
from datetime import timedelta

import pytest

from kubeviz.runtime import shutdown
from kubeviz.runtime.host import host
from kubeviz.runtime.player import Player
from tests.conftest import START
from tests.manifests import HELLO
from tests.runtime.test_job_e2e import Sim


@pytest.fixture
def stop_flag(monkeypatch):
    """This test's own shutdown flag (the process-wide one must stay clear for the other tests)."""
    monkeypatch.setattr(shutdown, "_requested", threading.Event())


def clock(sim):
    return json.loads(sim.client.get(f"/sim/clusters/{sim.name}/clock").content)


def test_shutdown_during_an_advance_stops_it_after_the_instant_under_way(cluster, stop_flag):
    sim = Sim()
    sim.apply(HELLO)
    engine = host.engine_for(cluster)
    stop_at = START + timedelta(minutes=3)  # the CronJob's third run: its controller syncs (and traces) then
    engine.trace_listeners.append(lambda record: shutdown.request() if engine.now >= stop_at else None)

    response = sim.client.post("/sim/clusters/test/clock/advance", data=json.dumps({"seconds": 3600}),
                               content_type="application/json")

    assert response.status_code == 503
    assert json.loads(response.content) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "the server is shutting down", "reason": "ServiceUnavailable", "code": 503, "details": {},
    }
    assert clock(sim)["now"] == "2025-01-01T00:03:00Z"
    # and so does any later run, until the process is gone
    with pytest.raises(shutdown.ShuttingDown):
        host.step(cluster)

    shutdown._requested.clear()  # a new process on the same store
    host.forget(cluster.name)
    assert sim.advance(60)["now"] == "2025-01-01T00:04:00Z"
    jobs = sim.get("/apis/batch/v1/namespaces/default/jobs")[1]["items"]
    assert sorted(j["metadata"]["creationTimestamp"] for j in jobs) == [
        "2025-01-01T00:01:00Z", "2025-01-01T00:02:00Z", "2025-01-01T00:03:00Z", "2025-01-01T00:04:00Z"]


async def test_the_player_stops_ticking(stop_flag):
    ticks = []

    def tick():
        ticks.append(1)
        if len(ticks) == 2:
            raise shutdown.ShuttingDown()  # its run was stopped by the flag, set meanwhile

    player = Player()
    player.tick = tick
    await player._run()  # returns: no more ticks
    assert len(ticks) == 2

    shutdown.request()
    await player._run()
    assert len(ticks) == 2  # not one more tick once the flag is set
