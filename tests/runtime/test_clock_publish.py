"""How often runs publish a cluster's clock: the player's at most every PUBLISH_SECONDS (the page moves its clock
on between two readings), an advance always when it is done. Wall time is a fake here."""

import pytest

from kubeviz.runtime import host as host_module
from kubeviz.runtime.host import DONE, PUBLISH_SECONDS, EngineHost
from kubeviz.store.models import Cluster

pytestmark = pytest.mark.django_db(transaction=True)


class FakeTime:
    def __init__(self):
        self.now = 1000.0

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


@pytest.fixture
def published(monkeypatch):
    clocks = []
    monkeypatch.setattr(host_module, "publish_clock", lambda cluster, **_: clocks.append(cluster.sim_now))
    return clocks


@pytest.fixture
def wall(monkeypatch):
    fake = FakeTime()
    monkeypatch.setattr(host_module, "time", fake)
    return fake


def test_the_player_publishes_a_cluster_s_clock_at_most_every_publish_seconds(cluster, published, wall):
    Cluster.objects.filter(pk=cluster.pk).update(paused=False, speed=10)
    host = EngineHost()
    playing = Cluster.objects.get(pk=cluster.pk)
    assert host.play(playing, 0.1, budget=1) == DONE
    assert len(published) == 1  # the first run of a cluster publishes
    wall.now += 0.1
    assert host.play(playing, 0.1, budget=1) == DONE
    assert len(published) == 1  # a tick later: the page moves its clock on by itself
    wall.now += PUBLISH_SECONDS
    assert host.play(playing, 0.1, budget=1) == DONE
    assert len(published) == 2
    assert published[1] > published[0]  # and it reads where the clock is now
    assert host.advance(playing, 5) == DONE  # an advance's result is shown at once, however recent the last
    assert len(published) == 3
