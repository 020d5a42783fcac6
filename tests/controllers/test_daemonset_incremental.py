"""The incremental DaemonSet sync plans exactly what a sync from scratch plans.

A ``DaemonSetCache`` keeps, per DaemonSet, each node's state (its decision, its pods, where manage and the
rolling update find it, its share of the status counts) and a sync looks only at what changed since the
previous one: the changes it is told (``DaemonSetChanges``, as the controller-manager passes them), or the
objects that are not the very ones it saw (when it is given only the lists). Here a small simulated cluster goes
through random node relabels, taints, cordons, deletions and joins, pod binds, readiness flips, failures,
deletions and relabels, selector, template, strategy and nodeSelector changes, and syncs whose expectations are
not satisfied, in the controller tests' fake world (``tests.controllers.world``); every sync is made three ways
(no cache, a cache comparing the lists, a cache told the changes) and the three results (actions, status,
requeue, trace, memory) must be equal.
"""

from __future__ import annotations

import copy
import itertools
import random
from datetime import timedelta

import pytest

from controllers import daemonset as dsc
from controllers import daemonset_cache as dscache
from controllers.daemonset import sync_daemonset
from controllers.daemonset_cache import DaemonSetCache, DaemonSetChanges
from controllers.history import CONTROLLER_REVISION_HASH_LABEL
from controllers.plan import DeleteObject
from controllers.pods import format_time
from tests.controllers.test_daemonset import (
    NO_EXECUTE_TAINTS,
    NO_SCHEDULE_TAINTS,
    SIMPLE_DAEMONSET_LABEL,
    new_daemonset,
    new_node,
    on_delete,
    rolling_update,
    update_surge,
)
from tests.controllers.world import World

_names = itertools.count()


class _Lists:
    """An iterable that counts how often it is read (a sync told the changes should rarely read it)."""

    def __init__(self, items: list):
        self.items = items
        self.reads = 0

    def __iter__(self):
        self.reads += 1
        return iter(self.items)


class Sim:
    """A tiny cluster in the controller tests' fake world (``tests.controllers.world``): a DaemonSet, its nodes and
    pods, its plans applied as the engine applies them (created pods appear unscheduled; a deleted pod that runs
    on a node gets a deletionTimestamp and goes when its kubelet finishes it, any other goes at once), and the
    changes a sync is told read from the world's watch events, as the controller-manager reads them."""

    def __init__(self, seed: int, nodes: int = 10, strategy: dict | None = None):
        self.rng = random.Random(seed)
        ds = new_daemonset(strategy=strategy or rolling_update(2))
        ds["metadata"]["generation"] = 1
        self.world = World(ds)
        self.name = ds["metadata"]["name"]
        self.memory = None
        self.identity_cache = DaemonSetCache()
        self.delta_cache = DaemonSetCache()
        self.token = 0
        self.seen = 0  # the resourceVersion the previous sync was told the changes up to
        self.full_reads = 0
        for i in range(nodes):
            self.world.put(new_node(f"node-{i}", {"color": self.rng.choice(["blue", "red"])}))

    # -- the world ---------------------------------------------------------------------------------------

    @property
    def ds(self) -> dict:
        return self.world.get("DaemonSet", "default", self.name)

    @property
    def nodes(self) -> dict[str, dict]:
        return {n["metadata"]["name"]: n for n in self.world.list("Node")}

    @property
    def pods(self) -> dict[str, dict]:
        return {p["metadata"]["name"]: p for p in self.world.list("Pod")}

    @property
    def now(self):
        return self.world.now()

    def change_pod(self, name: str, change) -> None:
        self.world.change("Pod", "default", name, change)

    def change_node(self, name: str, change) -> None:
        self.world.change("Node", "", name, change)

    def change_ds(self, change) -> None:
        def next_generation(ds):
            change(ds)
            ds["metadata"]["generation"] += 1
        self.world.change("DaemonSet", "default", self.name, next_generation)

    def changes(self) -> DaemonSetChanges:
        """What changed since the previous sync: the Nodes and the pods (None: deleted), from the watch events."""
        nodes: dict = {}
        pods: dict = {}
        for event in self.world.changes_since(self.seen):
            obj = None if event.type == "DELETED" else event.object
            meta = event.object["metadata"]
            if event.kind == "Node":
                nodes[meta["name"]] = obj
            elif event.kind == "Pod":
                pods[(meta["namespace"], meta["name"])] = obj
        self.seen = self.world.resource_version()
        self.token += 1
        return DaemonSetChanges(self.token - 1, self.token, nodes, pods)

    # -- syncing -----------------------------------------------------------------------------------------

    def sync(self, expectations_satisfied: bool = True):
        ds, nodes, pods, revisions = self.ds, self.world.list("Node"), self.world.list("Pod"), \
            self.world.list("ControllerRevision")
        args = (ds, nodes, pods, revisions, self.now)
        kwargs = {"memory": self.memory, "expectations_satisfied": expectations_satisfied}
        plain = sync_daemonset(*args, **kwargs)
        compared = sync_daemonset(*args, **kwargs, cache=self.identity_cache)
        node_list, pod_list = _Lists(nodes), _Lists(pods)
        told = sync_daemonset(ds, node_list, pod_list, list(revisions), self.now, **kwargs,
                              cache=self.delta_cache, changes=self.changes())
        self.full_reads += node_list.reads + pod_list.reads
        assert compared == plain
        assert told == plain
        self.memory = plain.memory
        self.world.apply(plain, ds)
        return plain

    # -- what happens in the cluster ---------------------------------------------------------------------

    def _pick(self, names):
        names = sorted(names)
        return self.rng.choice(names) if names else None

    def step(self) -> None:
        """One random thing happening in the cluster."""
        rng = self.rng
        pods = self.pods
        kind = rng.choices(
            ["bind", "ready", "unready", "gone", "fail", "succeed", "extra pod", "relabel pod",
             "relabel node", "taint", "untaint", "cordon", "delete node", "add node", "time",
             "image", "node selector", "strategy", "selector"],
            weights=[8, 8, 2, 6, 1, 1, 1, 1, 2, 1, 1, 1, 1, 1, 2, 1, 1, 1, 0.3])[0]
        if kind == "bind":
            name = self._pick(n for n, p in pods.items() if not p["spec"].get("nodeName"))
            if name is not None:
                target = dsc.get_target_node_name(pods[name])
                if target in self.nodes:  # the scheduler's binding
                    self.world.bind("default", name, pods[name]["metadata"]["uid"], target)
        elif kind in ("ready", "unready"):
            name = self._pick(n for n, p in pods.items() if p["spec"].get("nodeName"))
            if name is not None:
                ready = kind == "ready"
                self.change_pod(name, lambda p: p["status"].update(phase="Running", conditions=[
                    {"type": "Ready", "status": "True" if ready else "False",
                     "lastTransitionTime": format_time(self.now)}]))
        elif kind == "gone":
            name = self._pick(n for n, p in pods.items() if p["metadata"].get("deletionTimestamp"))
            if name is not None:
                self.world.finish_termination("default", name)
        elif kind in ("fail", "succeed"):
            name = self._pick(n for n, p in pods.items() if p["spec"].get("nodeName"))
            if name is not None:
                phase = "Failed" if kind == "fail" else "Succeeded"
                self.change_pod(name, lambda p: p["status"].update(phase=phase))
        elif kind == "extra pod":
            name = self._pick(pods)
            if name is not None:
                extra = copy.deepcopy(pods[name])
                new_name = f"extra-{next(_names):05d}"
                extra["metadata"].update(name=new_name, uid=f"uid-{new_name}")
                extra["metadata"].pop("deletionTimestamp", None)
                extra["metadata"].pop("deletionGracePeriodSeconds", None)
                self.world.put(extra)
        elif kind == "relabel pod":
            name = self._pick(pods)
            if name is not None:
                self.change_pod(name, lambda p: p["metadata"]["labels"].update(type=rng.choice(["production", "test"])))
        elif kind == "relabel node":
            name = self._pick(self.nodes)
            self.change_node(name, lambda n: n["metadata"]["labels"].update(color=rng.choice(["blue", "red"])))
        elif kind == "taint":
            name = self._pick(self.nodes)
            taints = rng.choice([NO_SCHEDULE_TAINTS, NO_EXECUTE_TAINTS])
            self.change_node(name, lambda n: n["spec"].update(taints=copy.deepcopy(taints)))
        elif kind == "untaint":
            name = self._pick(n for n, node in self.nodes.items() if node["spec"].get("taints"))
            if name is not None:
                self.change_node(name, lambda n: n["spec"].pop("taints"))
        elif kind == "cordon":
            name = self._pick(self.nodes)
            self.change_node(name, lambda n: n["spec"].update(unschedulable=True, taints=[
                {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]))
        elif kind == "delete node":
            name = self._pick(self.nodes)
            if len(self.nodes) > 3:
                self.world.delete("Node", "", name)
        elif kind == "add node":
            self.world.put(new_node(f"node-{next(_names)}", {"color": rng.choice(["blue", "red"])}))
        elif kind == "time":
            self.world.set_now(self.now + timedelta(seconds=rng.choice([1, 5, 30, 600])))
        elif kind == "image":
            self.change_ds(lambda ds: ds["spec"]["template"]["spec"]["containers"][0].update(
                image=f"foo/bar:{rng.randrange(4)}"))
        elif kind == "node selector":
            selector = rng.choice([None, {"color": "blue"}, {"color": "red"}])

            def change(ds):
                spec = ds["spec"]["template"]["spec"]
                spec.pop("nodeSelector", None)
                if selector:
                    spec["nodeSelector"] = selector
            self.change_ds(change)
        elif kind == "strategy":
            strategy = rng.choice([on_delete(), rolling_update(1), rolling_update(3), rolling_update("30%"),
                                   rolling_update(0), update_surge(1)])
            min_ready = rng.choice([0, 0, 0, 10])
            self.change_ds(lambda ds: ds["spec"].update(updateStrategy=strategy, minReadySeconds=min_ready))
        elif kind == "selector":
            labels = rng.choice([SIMPLE_DAEMONSET_LABEL, {"name": "simple-daemon"}])
            self.change_ds(lambda ds: ds["spec"].update(selector={"matchLabels": dict(labels)}))


@pytest.mark.parametrize("seed", range(24))
def test_random_histories_plan_the_same_with_and_without_the_cache(seed):
    sim = Sim(seed, strategy=rolling_update(2) if seed % 3 else on_delete())
    for _ in range(80):
        for _ in range(sim.rng.randrange(1, 4)):
            sim.step()
        sim.sync(expectations_satisfied=sim.rng.random() > 0.1)


def _run_everything(sim: Sim) -> None:
    for name in sorted(sim.pods):
        if sim.pods[name]["metadata"].get("deletionTimestamp"):
            sim.world.finish_termination("default", name)
            continue
        sim.change_pod(name, lambda p: p["spec"].update(nodeName=dsc.get_target_node_name(p)))
        sim.change_pod(name, lambda p: p["status"].update(phase="Running", conditions=[
            {"type": "Ready", "status": "True"}]))


def test_a_rolling_update_across_two_old_revisions():
    sim = Sim(1, nodes=30, strategy=rolling_update(4))
    sim.sync()
    _run_everything(sim)
    sim.sync()
    sim.change_ds(lambda ds: ds["spec"]["template"]["spec"]["containers"][0].update(image="foo/bar:2"))
    sim.sync()  # 4 old pods deleted
    _run_everything(sim)
    sim.sync()  # 4 new pods created
    _run_everything(sim)
    sim.change_ds(lambda ds: ds["spec"]["template"]["spec"]["containers"][0].update(image="foo/bar:3"))
    result = sim.sync()
    assert len([a for a in result.actions if isinstance(a, DeleteObject) and a.kind == "Pod"]) == 4
    hashes = {p["metadata"]["labels"][CONTROLLER_REVISION_HASH_LABEL] for p in sim.pods.values()}
    assert len(hashes) == 2  # two old revisions: the second one's pods go first (they run on node-0...)
    assert all(f"old revision {h}" in result.trace.decision for h in hashes)


def test_told_changes_the_sync_reads_no_list():
    sim = Sim(2, nodes=20, strategy=rolling_update("10%"))
    sim.sync()
    assert sim.full_reads == 2  # the first sync builds the state from the lists
    for _ in range(30):
        sim.step() if sim.rng.random() < 0.5 else None
        name = sim._pick(n for n, p in sim.pods.items() if not p["spec"].get("nodeName"))
        if name is not None:
            sim.change_pod(name, lambda p: p["spec"].update(nodeName=dsc.get_target_node_name(p)))
        sim.sync()
    # only a new placement, selector or a DaemonSet that cannot be synced incrementally reads them again
    assert sim.full_reads < 2 * 10


@pytest.mark.parametrize("spec, applies", [
    pytest.param({"updateStrategy": on_delete()}, True, id="OnDelete"),
    pytest.param({"updateStrategy": rolling_update(1)}, True, id="maxUnavailable 1"),
    pytest.param({"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}},
                 True, id="maxSurge 0"),
    pytest.param({"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "0%"}}}, True,
                 id="maxSurge 0%"),
    pytest.param({"updateStrategy": update_surge(1)}, False, id="maxSurge 1"),
    pytest.param({"updateStrategy": rolling_update(1), "minReadySeconds": 5}, False, id="minReadySeconds 5"),
])
def test_which_daemonsets_sync_incrementally(spec, applies):
    ds = new_daemonset()
    ds["spec"].update(spec)
    assert dscache.incremental_sync_applies(ds) is applies


def test_unchanged_nodes_and_pods_are_not_looked_at_again(monkeypatch):
    sim = Sim(3, nodes=12, strategy=rolling_update(1))
    for _ in range(4):
        sim.sync()
    looked = []
    real = dscache._manage_state
    monkeypatch.setattr(dscache, "_manage_state", lambda node, pods: looked.append(node.name) or real(node, pods))
    sim.sync()
    assert looked == []
    sim.change_node("node-3", lambda n: n["metadata"]["labels"].update(disk="ssd"))
    sim.sync()
    # once by the cache comparing the lists, once by the cache told the changes
    assert looked == ["node-3", "node-3"]


def test_view_positions_counts_and_ranks():
    view = dscache._View(["a", "c", "e", "g"], excluded=["c"], extra=[(0, "b"), (0, "f"), (1, "a")])
    assert list(view.after()) == [(0, "a"), (0, "b"), (0, "e"), (0, "f"), (0, "g"), (1, "a")]
    assert len(view) == 6
    assert [view.kth(k) for k in range(7)] == [(0, "a"), (0, "b"), (0, "e"), (0, "f"), (0, "g"), (1, "a"), None]
    assert view.rank((0, "e")) == 2 and view.rank((0, "e"), inclusive=True) == 3
    assert view.rank((0, "d")) == 2 and view.rank((1, "")) == 5 and view.rank((-1, "")) == 0
    assert list(view.after((0, "b"), (0, "g"))) == [(0, "e"), (0, "f")]
    assert view.count((0, "b"), (0, "g")) == 2 and view.last((0, "b"), (0, "g")) == (0, "f")
    assert view.count((0, "f"), (0, "g")) == 0 and view.last((0, "f"), (0, "g")) is None
