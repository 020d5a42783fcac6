"""The controller-manager's incremental DaemonSet syncs plan what syncs from scratch plan, in a whole run.

``DaemonSetController`` tells each sync what changed since that DaemonSet's previous one (the nodes the informer
cache reports changed, the pods and revisions from the change stream). Here every one of its syncs in a
simulated run is also made from scratch, from the full lists and without a cache, and the two plans must be
equal: through node joins, relabels, taints, cordons and deletions, rolling updates, a nodeSelector change and
a relist of the informer cache.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from controllers import manager
from controllers.cache import Cache
from controllers.daemonset import get_target_node_name
from kubeviz.runtime.memory import memory_cluster
from tests.manifests import agent_daemonset

START = datetime(2025, 1, 1, tzinfo=timezone.utc)

DAEMONSET = agent_daemonset("25%")


@pytest.fixture
def checked(monkeypatch):
    """Every DaemonSet sync is compared with one from scratch; answers how many syncs were incremental."""
    real = manager.sync_daemonset
    seen = {"syncs": 0, "incremental": 0}

    def both(ds, nodes, pods, revisions, now, *, cache=None, changes=None, **kwargs):
        result = real(ds, nodes, pods, revisions, now, cache=cache, changes=changes, **kwargs)
        assert result == real(ds, list(nodes), list(pods), list(revisions), now, **kwargs)
        seen["syncs"] += 1
        seen["incremental"] += changes is not None and changes.since is not None
        return result

    monkeypatch.setattr(manager, "sync_daemonset", both)
    return seen


def test_a_run_plans_the_same_incrementally_and_from_scratch(checked):
    cluster = memory_cluster(nodes=10, seed=5, start=START)
    assert all(r.ok for r in cluster.apply(DAEMONSET))
    cluster.advance(90)
    cluster.patch("Node", "node-1", {"metadata": {"labels": {"disk": "ssd"}}})
    cluster.patch("Node", "node-2", {"spec": {"taints": [{"key": "dedicated", "value": "db", "effect": "NoExecute"}]}})
    cluster.patch("Node", "node-3", {"spec": {"taints": [{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]}})
    cluster.patch("Node", "node-4", {"spec": {"unschedulable": True}})
    cluster.advance(60)
    assert all(r.ok for r in cluster.apply(DAEMONSET.replace("fluentd:v1", "fluentd:v2")))
    cluster.advance(20)
    assert all(r.ok for r in cluster.apply(DAEMONSET.replace("fluentd:v1", "fluentd:v3")))  # mid-rollout
    cluster.advance(120)
    cluster.patch("Node", "node-2", {"spec": {"taints": None}})
    cluster.patch("Node", "node-5", {"metadata": {"labels": {"disk": "ssd"}}})
    selected = DAEMONSET.replace("fluentd:v1", "fluentd:v4").replace(
        "      containers:", "      nodeSelector: {disk: ssd}\n      containers:")
    assert all(r.ok for r in cluster.apply(selected))
    cluster.advance(120)
    # the informer relists into a new cache (as after a compacted change history): the controller starts afresh
    cluster.engine.cache = Cache()
    cluster.engine.start()
    cluster.patch("Node", "node-6", {"metadata": {"labels": {"disk": "ssd"}}})
    cluster.patch("Node", "node-1", {"metadata": {"labels": {"disk": None}}})
    cluster.advance(120)
    agents = [p for p in cluster.objects("Pod") if p["metadata"]["name"].startswith("agent-")]
    assert sorted(get_target_node_name(p) for p in agents) == ["node-5", "node-6"]
    status = next(ds for ds in cluster.objects("DaemonSet"))["status"]
    assert (status["desiredNumberScheduled"], status["currentNumberScheduled"]) == (2, 2)
    assert checked["incremental"] > 0.8 * checked["syncs"]
