"""The player leaves a playing cluster with nothing due for a few ticks (``EngineHost.idle``): its stored clock
moves in steps of at most IDLE_SECONDS and still keeps speed x wall time, an event due meanwhile runs at its tick,
and a write from outside is taken at the next tick. Wall time is a fake here; the engine and the database are
real."""

import json
import threading
from datetime import timedelta

import pytest
from django.test import Client

from kubeviz.runtime import player as player_module
from kubeviz.runtime.host import IDLE_SECONDS, host
from kubeviz.runtime.player import TICK, Player
from kubeviz.store.models import Cluster

pytestmark = pytest.mark.django_db(transaction=True)

SPEED = 10
JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: once
spec:
  template:
    spec:
      containers:
      - name: work
        image: busybox:1.36
        command: ["sh", "-c", "sleep 20"]
      restartPolicy: Never
"""


class FakeTime:
    def __init__(self):
        self.now = 1000.0

    def monotonic(self):
        return self.now


@pytest.fixture
def wall(monkeypatch):
    fake = FakeTime()
    monkeypatch.setattr(player_module, "time", fake)
    return fake


@pytest.fixture
def runs(monkeypatch):
    """The wall times (fake) at which the player ran the cluster."""
    ran = []
    play = host.play

    def spy(cluster, wall_seconds, *, budget):
        ran.append(player_module.time.monotonic())
        return play(cluster, wall_seconds, budget=budget)

    monkeypatch.setattr(host, "play", spy)
    return ran


@pytest.fixture
def steady(daemons_placed):
    """The test cluster with a DaemonSet running on every node and nothing due for an hour, playing at 10x."""
    cluster = daemons_placed
    engine = host.engine_for(cluster)
    assert engine.settled() and engine.next_due() > engine.now + timedelta(minutes=30)
    Cluster.objects.filter(pk=cluster.pk).update(paused=False, speed=SPEED)
    return Cluster.objects.get(pk=cluster.pk)


def ticks(player, wall, n):
    for _ in range(n):
        player.tick()
        wall.now += TICK


def stored_clock(cluster):
    return Cluster.objects.values_list("sim_now", flat=True).get(pk=cluster.pk)


def test_an_idle_cluster_runs_every_idle_seconds_and_its_clock_keeps_speed_times_wall_time(steady, wall, runs):
    player = Player()
    player._resumed = True
    start, began = stored_clock(steady), wall.now
    ticks(player, wall, 41)  # four wall seconds
    gaps = [round(b - a, 6) for a, b in zip(runs, runs[1:])]
    assert runs and all(gap <= IDLE_SECONDS + TICK for gap in gaps), gaps
    assert len(runs) <= 4 / IDLE_SECONDS + 1  # rather than 40 runs, one a tick
    assert stored_clock(steady) == start + timedelta(seconds=SPEED * (runs[-1] - began))
    assert player.lag[steady.name] == pytest.approx(0.0, abs=1e-9)  # left idle on purpose is not late


def test_every_event_runs_at_the_tick_whose_stretch_reaches_it_however_idle(steady, wall, runs):
    player = Player()
    player._resumed = True
    ticks(player, wall, 3)
    response = Client().post(f"/sim/clusters/{steady.name}/apply", data=JOB, content_type="application/yaml")
    assert response.status_code == 200, response.content
    engine = host.engine_for(steady)
    reached = left = 0
    for _ in range(60):  # six wall seconds: a minute at 10x, the Job's pods pulled, run and done
        due = engine.next_due()
        reach = engine.now + timedelta(seconds=SPEED * (wall.now - player._last[steady.name]))
        ran = len(runs)
        ticks(player, wall, 1)
        if due is not None and due <= reach:
            reached += 1
            assert len(runs) == ran + 1 and engine.now >= due, (due, reach)
        elif len(runs) == ran:
            left += 1
    assert reached >= 4 and left >= 10  # the Job's events, each on time, and idle ticks between them
    job = engine.cache.get("Job", "default", "once")
    assert job["status"].get("succeeded") == 1


def test_a_write_from_outside_is_taken_at_the_next_tick(steady, wall, runs):
    player = Player()
    player._resumed = True
    ticks(player, wall, 2)
    ran = len(runs)
    response = Client().patch(f"/clusters/{steady.name}/api/v1/nodes/node-2",
                              data=json.dumps({"metadata": {"labels": {"disk": "ssd"}}}),
                              content_type="application/merge-patch+json")
    assert response.status_code == 200, response.content
    ticks(player, wall, 1)
    assert len(runs) == ran + 1
    assert host.engine_for(steady).cache.get("Node", "", "node-2")["metadata"]["labels"]["disk"] == "ssd"


def test_a_cluster_whose_lock_another_thread_holds_is_not_idle(steady):
    """A run or a request at the engine holds its lock: the player does not read the engine meanwhile."""
    host.advance(steady, 0)  # the engine is built and settled
    steady.refresh_from_db()
    assert host.idle(steady, TICK)
    held, release = threading.Event(), threading.Event()

    def hold():
        with host.lock(steady.name):
            held.set()
            release.wait(timeout=10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(timeout=10)
        assert not host.idle(steady, TICK)
    finally:
        release.set()
        holder.join()
    assert host.idle(steady, TICK)
