"""The DaemonSet controller's cache changes nothing: a whole simulated run is the same with and without it.

The controller-manager hands ``sync_daemonset`` a ``DaemonSetCache`` (NodeShouldRunDaemonPod answers and pod
facts remembered between syncs). Here the same seeded cluster runs twice in memory, once as usual and once with
the cache taken away, through node joins, relabels, taints, a nodeSelector change and two rolling updates; every
object of the two runs must end up the same.
"""

from datetime import datetime, timezone

import pytest

from controllers import manager
from kubeviz.runtime.memory import memory_cluster
from tests.manifests import agent_daemonset

START = datetime(2025, 1, 1, tzinfo=timezone.utc)

DAEMONSET = agent_daemonset("20%")


def _run() -> dict:
    cluster = memory_cluster(nodes=12, seed=3, start=START)
    assert all(r.ok for r in cluster.apply(DAEMONSET))
    cluster.advance(90)
    cluster.patch("Node", "node-1", {"metadata": {"labels": {"disk": "ssd"}}})
    cluster.patch("Node", "node-2", {"spec": {"taints": [{"key": "dedicated", "value": "db", "effect": "NoExecute"}]}})
    cluster.patch("Node", "node-3", {"spec": {"taints": [{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]}})
    cluster.advance(60)
    assert all(r.ok for r in cluster.apply(DAEMONSET.replace("fluentd:v1", "fluentd:v2")))
    cluster.advance(120)
    cluster.patch("Node", "node-4", {"metadata": {"labels": {"disk": "ssd"}}})
    selected = DAEMONSET.replace("fluentd:v1", "fluentd:v3").replace(
        "      containers:", "      nodeSelector: {disk: ssd}\n      containers:")
    assert all(r.ok for r in cluster.apply(selected))
    cluster.advance(120)
    cluster.patch("Node", "node-5", {"metadata": {"labels": {"disk": "ssd"}}})
    cluster.patch("Node", "node-1", {"metadata": {"labels": {"disk": None}}})
    cluster.advance(120)
    return {kind: cluster.objects(kind) for kind in ("Pod", "DaemonSet", "ControllerRevision", "Node", "Event")}


@pytest.fixture
def without_cache(monkeypatch):
    real = manager.sync_daemonset

    def uncached(*args, cache=None, **kwargs):
        return real(*args, **kwargs)

    monkeypatch.setattr(manager, "sync_daemonset", uncached)


def test_a_run_is_the_same_with_and_without_the_cache(request):
    cached = _run()
    request.getfixturevalue("without_cache")
    uncached = _run()
    ds = cached["DaemonSet"][0]
    assert ds["status"]["desiredNumberScheduled"] == 2 and ds["status"]["updatedNumberScheduled"] == 2
    for kind in cached:
        assert cached[kind] == uncached[kind], kind
