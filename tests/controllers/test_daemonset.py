"""Tests for the DaemonSet controller (``controllers.daemonset``).

The first tables are upstream's ``pkg/controller/daemon/daemon_controller_test.go`` and ``update_test.go``,
test names kept as pytest ids; like upstream, most run once per update strategy (OnDelete and RollingUpdate
with ``maxUnavailable: 1``). The fixture is upstream's: selector and template labels ``{name: simple-daemon,
type: production}``, Ready nodes with room for 100 pods, ``revisionHistoryLimit: 2``.

Sequences (update_test.go) run through ``Cluster``: the DaemonSet in the controller tests' fake world
(``tests.controllers.world``), which applies each plan as the engine does. As with upstream's fake pod control,
creates appear at once as unscheduled pods and deletes vanish at once (the world's kubelet finishes them in the
same instant), so each sync's ``(creates, deletes)`` can be compared with upstream's.
"""

from __future__ import annotations

import copy
import itertools
import random
from datetime import datetime, timedelta, timezone

import pytest

from controllers import daemonset as dsc
from controllers import daemonset_cache as dscache
from controllers.daemonset import (
    BackoffEntry,
    DaemonSetMemory,
    failed_pods_backoff_key,
    find_updated_pods_on_node,
    get_nodes_to_daemon_pods,
    get_unavailable_numbers,
    is_pod_available,
    is_pod_updated,
    next_backoff,
    node_should_run_daemon_pod,
    replace_daemonset_pod_node_name_node_affinity,
    sync_daemonset,
    updated_desired_node_counts,
)
from controllers.history import CONTROLLER_REVISION_HASH_LABEL, compute_hash, new_controller_revision
from controllers.plan import CreateObject, DeleteObject, EmitEvent, PatchObject, SyncResult
from controllers.pods import format_time
from tests.controllers.world import World

NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=timezone.utc)

SIMPLE_DAEMONSET_LABEL = {"name": "simple-daemon", "type": "production"}
SIMPLE_DAEMONSET_LABEL2 = {"name": "simple-daemon", "type": "test"}
SIMPLE_NODE_LABEL = {"color": "blue", "speed": "fast"}
SIMPLE_NODE_LABEL2 = {"color": "red", "speed": "fast"}
NO_SCHEDULE_TOLERATIONS = [{"key": "dedicated", "value": "user1", "effect": "NoSchedule"}]
NO_SCHEDULE_TAINTS = [{"key": "dedicated", "value": "user1", "effect": "NoSchedule"}]
NO_EXECUTE_TAINTS = [{"key": "dedicated", "value": "user1", "effect": "NoExecute"}]
NODE_NOT_READY = [{"key": "node.kubernetes.io/not-ready", "effect": "NoExecute", "timeAdded": format_time(NOW)}]
NODE_UNREACHABLE = [{"key": "node.kubernetes.io/unreachable", "effect": "NoExecute", "timeAdded": format_time(NOW)}]

_numbers = itertools.count()

# --- factories ----------------------------------------------------------------------------------------------


def on_delete() -> dict:
    return {"type": "OnDelete"}


def rolling_update(max_unavailable=1) -> dict:
    return {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": max_unavailable}}


def update_surge(max_surge) -> dict:
    """upstream ``newUpdateSurge``: maxUnavailable 0, maxSurge as given."""
    return {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": max_surge}}


def update_unavailable(max_unavailable) -> dict:
    return {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": max_unavailable}}


STRATEGIES = [pytest.param(on_delete(), id="OnDelete"), pytest.param(rolling_update(), id="RollingUpdate")]


def new_daemonset(name: str = "foo", strategy: dict | None = None, *, uid: str | None = None) -> dict:
    """upstream ``newDaemonSet``: OnDelete, revisionHistoryLimit 2, simple-daemon labels."""
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": name, "namespace": "default", "uid": uid or f"uid-{name}"},
        "spec": {
            "revisionHistoryLimit": 2,
            "updateStrategy": copy.deepcopy(strategy or on_delete()),
            "selector": {"matchLabels": dict(SIMPLE_DAEMONSET_LABEL)},
            "template": {
                "metadata": {"labels": dict(SIMPLE_DAEMONSET_LABEL)},
                "spec": {
                    "containers": [{"name": "foo", "image": "foo/bar", "imagePullPolicy": "IfNotPresent"}],
                    "dnsPolicy": "Default",
                },
            },
        },
        "status": {},
    }


def template_spec(ds: dict) -> dict:
    return ds["spec"]["template"]["spec"]


def new_node(name: str, labels: dict | None = None, *, taints=None, conditions=None, unschedulable=False) -> dict:
    node = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": dict(labels or {})},
        "spec": {},
        "status": {
            "conditions": conditions if conditions is not None else [{"type": "Ready", "status": "True"}],
            "allocatable": {"pods": "100"},
        },
    }
    if taints:
        node["spec"]["taints"] = copy.deepcopy(taints)
    if unschedulable:
        node["spec"]["unschedulable"] = True
    return node


def add_nodes(start: int, count: int, labels: dict | None = None) -> list[dict]:
    return [new_node(f"node-{i}", labels) for i in range(start, start + count)]


def current_hash(ds: dict) -> str:
    return compute_hash(ds["spec"]["template"], ds.get("status", {}).get("collisionCount"))


def new_pod(prefix: str, node_name: str, labels: dict, ds: dict | None, *, phase: str | None = None,
            ready: bool | None = None, created: datetime | None = None, hash: str | None = "current") -> dict:
    """upstream ``newPod``: labels plus the DaemonSet's current hash, bound to ``node_name``, owned by ``ds``."""
    name = f"{prefix}{next(_numbers):05d}"
    pod_labels = dict(labels)
    if ds is not None and hash is not None:
        pod_labels[CONTROLLER_REVISION_HASH_LABEL] = current_hash(ds) if hash == "current" else hash
    metadata: dict = {"name": name, "namespace": "default", "uid": f"uid-{name}", "labels": pod_labels}
    if ds is not None:
        metadata["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": ds["metadata"]["name"],
                                        "uid": ds["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}]
    if created is not None:
        metadata["creationTimestamp"] = format_time(created)
    spec = copy.deepcopy(template_spec(ds)) if ds is not None else {"containers": [{"name": "c", "image": "foo/bar"}]}
    if node_name:
        spec["nodeName"] = node_name
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec, "status": {}}
    if phase:
        pod["status"]["phase"] = phase
    if ready is not None:
        pod["status"]["conditions"] = [{"type": "Ready", "status": "True" if ready else "False"}]
    return pod


def add_pods(node_name: str, labels: dict, ds: dict, count: int, **kwargs) -> list[dict]:
    return [new_pod(f"{node_name}-", node_name, labels, ds, **kwargs) for _ in range(count)]


def add_failed_pods(node_name: str, labels: dict, ds: dict, count: int) -> list[dict]:
    return add_pods(node_name, labels, ds, count, phase="Failed")


def mark_ready(pod: dict, ready: bool = True, at: datetime | None = None) -> None:
    condition = {"type": "Ready", "status": "True" if ready else "False"}
    if at is not None:
        condition["lastTransitionTime"] = format_time(at)
    conditions = [c for c in pod["status"].get("conditions", []) if c["type"] != "Ready"]
    pod["status"]["conditions"] = conditions + [condition]


# --- plan helpers -------------------------------------------------------------------------------------------


def creates(result: SyncResult, kind: str = "Pod") -> list[CreateObject]:
    return [a for a in result.actions if isinstance(a, CreateObject) and a.obj["kind"] == kind]


def deletes(result: SyncResult, kind: str = "Pod") -> list[DeleteObject]:
    return [a for a in result.actions if isinstance(a, DeleteObject) and a.kind == kind]


def events(result: SyncResult) -> list[EmitEvent]:
    """Free-standing events (upstream's fake recorder; action-bound Successful* events come from pod control)."""
    return [a for a in result.actions if isinstance(a, EmitEvent)]


def patches(result: SyncResult, kind: str) -> list[PatchObject]:
    return [a for a in result.actions if isinstance(a, PatchObject) and a.kind == kind]


def counts(result: SyncResult) -> tuple[int, int, int]:
    return len(creates(result)), len(deletes(result)), len(events(result))


def sync(ds, nodes, pods, revisions=(), now=NOW, **kwargs) -> SyncResult:
    return sync_daemonset(ds, list(nodes), list(pods), list(revisions), now, **kwargs)


class Cluster:
    """A DaemonSet, its nodes and pods in the fake world (``tests.controllers.world``), synced one plan at a time.

    Like upstream's fake pod control, deleted pods vanish at once: the world's kubelet finishes every deletion in
    the same instant. Read ``ds``, ``nodes``, ``pods`` and ``revisions`` afresh after each change; change a pod
    through ``change_pod`` (the world's objects are never changed in place)."""

    def __init__(self, ds: dict, nodes: list[dict], pods: list[dict] | None = None, now: datetime = NOW):
        self.world = World(ds, *nodes, *(pods or []), now=now, kubelet_finishes_at_once=True)
        self.name = ds["metadata"]["name"]
        self.memory = None
        self.last: SyncResult | None = None

    @property
    def ds(self) -> dict:
        return self.world.get("DaemonSet", "default", self.name)

    @property
    def nodes(self) -> list[dict]:
        return self.world.list("Node")

    @property
    def pods(self) -> list[dict]:
        return self.world.list("Pod")

    @property
    def revisions(self) -> list[dict]:
        return self.world.list("ControllerRevision")

    @property
    def now(self) -> datetime:
        return self.world.now()

    @now.setter
    def now(self, now: datetime) -> None:
        self.world.set_now(now)

    def sync(self, **kwargs) -> tuple[int, int]:
        result = sync_daemonset(self.ds, self.nodes, self.pods, self.revisions, self.now, memory=self.memory,
                                **kwargs)
        self.apply(result)
        return len(creates(result)), len(deletes(result))

    def apply(self, result: SyncResult) -> None:
        self.last = result
        self.memory = result.memory
        self.world.apply(result, self.ds)

    def change_pod(self, pod: dict, change) -> dict:
        return self.world.change("Pod", pod["metadata"]["namespace"], pod["metadata"]["name"], change)

    def update(self, **spec_changes) -> None:
        """Change the DaemonSet spec (``image=`` changes the first container); the generation goes up."""
        def change(ds: dict) -> None:
            if "image" in spec_changes:
                template_spec(ds)["containers"][0]["image"] = spec_changes.pop("image")
            ds["spec"].update(spec_changes)
            ds["metadata"]["generation"] = int(ds["metadata"].get("generation") or 1) + 1

        self.world.change("DaemonSet", "default", self.name, change)

    def hash(self) -> str:
        for rev in self.revisions:
            if rev["data"]["spec"]["template"] == dict(self.ds["spec"]["template"], **{"$patch": "replace"}):
                return rev["metadata"]["labels"][CONTROLLER_REVISION_HASH_LABEL]
        return current_hash(self.ds)

    def mark_pods_ready(self, ready: bool = True, count: int | None = None, where=lambda pod: True) -> None:
        """upstream ``markPodsReady`` / ``setPodReadiness``: Ready=True at the current time."""
        changed = 0
        for pod in self.pods:
            if count is not None and changed >= count:
                break
            if pod["metadata"].get("deletionTimestamp"):
                continue
            is_ready = any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", []))
            if is_ready == ready or not where(pod):
                continue
            self.change_pod(pod, lambda pod: mark_ready(pod, ready, self.now))
            changed += 1
        if count is not None:
            assert changed == count, f"could not mark {count} pods ready={ready}"

    def pods_on(self, node: str) -> list[dict]:
        return [p for p in self.pods if dsc.get_target_node_name(p) == node]


# === daemon_controller_test.go ===============================================================================


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_TestSimpleDaemonSetLaunchesPods(strategy):
    result = sync(new_daemonset(strategy=strategy), add_nodes(0, 5), [])
    assert counts(result) == (5, 0, 0)
    # TestSimpleDaemonSetUpdatesStatusAfterLaunchingPods: the same sync reports the pods it is creating.
    assert result.status["currentNumberScheduled"] == 5
    assert result.status["desiredNumberScheduled"] == 5


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_TestSimpleDaemonSetScheduleDaemonSetPodsLaunchesPods(strategy):
    nodes = add_nodes(0, 5)
    result = sync(new_daemonset(strategy=strategy), nodes, [])
    targets = set()
    for action in creates(result):
        pod = action.obj
        assert "nodeName" not in pod["spec"]
        terms = pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
            "nodeSelectorTerms"]
        assert len(terms) == 1 and len(terms[0]["matchFields"]) == 1
        field = terms[0]["matchFields"][0]
        assert field["key"] == "metadata.name" and field["operator"] == "In" and len(field["values"]) == 1
        targets.add(field["values"][0])
    assert targets == {n["metadata"]["name"] for n in nodes}


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_TestNoNodesDoesNothing(strategy):
    assert counts(sync(new_daemonset(strategy=strategy), [], [])) == (0, 0, 0)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_TestOneNodeDaemonLaunchesPod(strategy):
    assert counts(sync(new_daemonset(strategy=strategy), [new_node("only-node")], [])) == (1, 0, 0)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_TestNotReadyNodeDaemonDoesLaunchPod(strategy):
    node = new_node("not-ready", conditions=[{"type": "Ready", "status": "False"}])
    assert counts(sync(new_daemonset(strategy=strategy), [node], [])) == (1, 0, 0)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_TestInsufficientCapacityNodeDaemonDoesNotUnscheduleRunningPod(strategy):
    ds = new_daemonset(strategy=strategy)
    template_spec(ds).update({"nodeName": "too-much-mem", "containers": [
        {"name": "c", "resources": {"requests": {"memory": "75M", "cpu": "75m"}}}]})
    node = new_node("too-much-mem")
    node["status"]["allocatable"] = {"memory": "100M", "cpu": "200m", "pods": "100"}
    stranger = {"metadata": {"name": "x", "namespace": "default"}, "spec": dict(template_spec(ds)), "status": {}}
    assert counts(sync(ds, [node], [stranger])) == (1, 0, 0)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_TestNetworkUnavailableNodeDaemonLaunchesPod(strategy):
    node = new_node("network-unavailable", conditions=[{"type": "NetworkUnavailable", "status": "True"}])
    assert counts(sync(new_daemonset("simple", strategy), [node], [])) == (1, 0, 0)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_TestDontDoAnythingIfBeingDeleted(strategy):
    ds = new_daemonset(strategy=strategy)
    ds["metadata"]["deletionTimestamp"] = format_time(NOW)
    result = sync(ds, [new_node("not-too-much-mem")], [])
    assert counts(result) == (0, 0, 0)
    assert result.status is None and result.actions == ()


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_TestPortConflictWithSameDaemonPodDoesNotDeletePod(strategy):
    ds = new_daemonset(strategy=strategy)
    template_spec(ds).update({"nodeName": "port-conflict", "containers": [{"name": "c", "ports": [{"hostPort": 666}]}]})
    pod = new_pod("foo-", "port-conflict", SIMPLE_DAEMONSET_LABEL, ds)
    assert counts(sync(ds, [new_node("port-conflict")], [pod])) == (0, 0, 0)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_TestNoPortConflictNodeDaemonLaunchesPod(strategy):
    ds = new_daemonset(strategy=strategy)
    template_spec(ds).update(
        {"nodeName": "no-port-conflict", "containers": [{"name": "c", "ports": [{"hostPort": 6662}]}]})
    other = {"metadata": {"name": "other", "namespace": "default"},
             "spec": {"nodeName": "no-port-conflict", "containers": [{"name": "c", "ports": [{"hostPort": 6661}]}]}}
    assert counts(sync(ds, [new_node("no-port-conflict")], [other])) == (1, 0, 0)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_TestPodIsNotDeletedByDaemonsetWithEmptyLabelSelector(strategy):
    ds = new_daemonset(strategy=strategy)
    ds["spec"]["selector"] = {}
    template_spec(ds)["nodeSelector"] = {"foo": "bar"}
    stranger = {"metadata": {"name": "p", "namespace": "default", "labels": {"bang": "boom"}},
                "spec": {"nodeName": "node1"}}
    result = sync(ds, [new_node("node1")], [stranger])
    assert counts(result) == (0, 0, 1)
    (event,) = events(result)
    assert (event.type, event.reason, event.message) == (
        "Warning", "SelectingAll", "This daemon set is selecting all pods. A non-empty selector is required.")
    assert event.component == "daemonset-controller"
    assert result.status is None


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_TestDealsWithExistingPods(strategy):
    ds = new_daemonset(strategy=strategy)
    pods = (add_pods("node-1", SIMPLE_DAEMONSET_LABEL, ds, 1) + add_pods("node-2", SIMPLE_DAEMONSET_LABEL, ds, 2)
            + add_pods("node-3", SIMPLE_DAEMONSET_LABEL, ds, 5) + add_pods("node-4", SIMPLE_DAEMONSET_LABEL2, ds, 2))
    result = sync(ds, add_nodes(0, 5), pods)
    assert counts(result) == (2, 5, 0)
    targets = sorted(c.obj["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
                     ["nodeSelectorTerms"][0]["matchFields"][0]["values"][0] for c in creates(result))
    assert targets == ["node-0", "node-4"]
    # The node-4 pods no longer match the selector: they are released, not deleted.
    released = patches(result, "Pod")
    assert len(released) == 2 and all(p.patch == {"metadata": {"ownerReferences": []}} for p in released)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_TestSelectorDaemonLaunchesPods(strategy):
    ds = new_daemonset(strategy=strategy)
    template_spec(ds)["nodeSelector"] = dict(SIMPLE_NODE_LABEL)
    assert counts(sync(ds, add_nodes(0, 4) + add_nodes(4, 3, SIMPLE_NODE_LABEL), [])) == (3, 0, 0)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_TestSelectorDaemonDeletesUnselectedPods(strategy):
    ds = new_daemonset(strategy=strategy)
    template_spec(ds)["nodeSelector"] = dict(SIMPLE_NODE_LABEL)
    pods = (add_pods("node-0", SIMPLE_DAEMONSET_LABEL2, ds, 2) + add_pods("node-1", SIMPLE_DAEMONSET_LABEL, ds, 3)
            + add_pods("node-1", SIMPLE_DAEMONSET_LABEL2, ds, 1) + add_pods("node-4", SIMPLE_DAEMONSET_LABEL, ds, 1))
    assert counts(sync(ds, add_nodes(0, 5) + add_nodes(5, 5, SIMPLE_NODE_LABEL), pods)) == (5, 4, 0)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_TestSelectorDaemonDealsWithExistingPods(strategy):
    ds = new_daemonset(strategy=strategy)
    template_spec(ds)["nodeSelector"] = dict(SIMPLE_NODE_LABEL)
    pods = (add_pods("node-0", SIMPLE_DAEMONSET_LABEL, ds, 1) + add_pods("node-1", SIMPLE_DAEMONSET_LABEL, ds, 3)
            + add_pods("node-1", SIMPLE_DAEMONSET_LABEL2, ds, 2) + add_pods("node-2", SIMPLE_DAEMONSET_LABEL, ds, 4)
            + add_pods("node-6", SIMPLE_DAEMONSET_LABEL, ds, 13) + add_pods("node-7", SIMPLE_DAEMONSET_LABEL2, ds, 4)
            + add_pods("node-9", SIMPLE_DAEMONSET_LABEL, ds, 1) + add_pods("node-9", SIMPLE_DAEMONSET_LABEL2, ds, 1))
    assert counts(sync(ds, add_nodes(0, 5) + add_nodes(5, 5, SIMPLE_NODE_LABEL), pods)) == (3, 20, 0)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_TestBadSelectorDaemonDoesNothing(strategy):
    ds = new_daemonset(strategy=strategy)
    template_spec(ds)["nodeSelector"] = dict(SIMPLE_NODE_LABEL2)
    assert counts(sync(ds, add_nodes(0, 4) + add_nodes(4, 3, SIMPLE_NODE_LABEL), [])) == (0, 0, 0)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_TestNameDaemonSetLaunchesPods(strategy):
    ds = new_daemonset(strategy=strategy)
    template_spec(ds)["nodeName"] = "node-0"
    assert counts(sync(ds, add_nodes(0, 5), [])) == (1, 0, 0)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_TestBadNameDaemonSetDoesNothing(strategy):
    ds = new_daemonset(strategy=strategy)
    template_spec(ds)["nodeName"] = "node-10"
    assert counts(sync(ds, add_nodes(0, 5), [])) == (0, 0, 0)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_TestNameAndSelectorDaemonSetLaunchesPods(strategy):
    ds = new_daemonset(strategy=strategy)
    template_spec(ds).update({"nodeSelector": dict(SIMPLE_NODE_LABEL), "nodeName": "node-6"})
    assert counts(sync(ds, add_nodes(0, 4) + add_nodes(4, 3, SIMPLE_NODE_LABEL), [])) == (1, 0, 0)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_TestInconsistentNameSelectorDaemonSetDoesNothing(strategy):
    ds = new_daemonset(strategy=strategy)
    template_spec(ds).update({"nodeSelector": dict(SIMPLE_NODE_LABEL), "nodeName": "node-0"})
    assert counts(sync(ds, add_nodes(0, 4) + add_nodes(4, 3, SIMPLE_NODE_LABEL), [])) == (0, 0, 0)


def test_TestSelectorDaemonSetLaunchesPods():
    ds = new_daemonset()
    template_spec(ds)["nodeSelector"] = dict(SIMPLE_NODE_LABEL)
    assert counts(sync(ds, add_nodes(0, 4) + add_nodes(4, 3, SIMPLE_NODE_LABEL), [])) == (3, 0, 0)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_TestNodeAffinityDaemonLaunchesPods(strategy):
    ds = new_daemonset(strategy=strategy)
    template_spec(ds)["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [{"key": "color", "operator": "In", "values": ["blue"]}]}]}}}
    assert counts(sync(ds, add_nodes(0, 4) + add_nodes(4, 3, SIMPLE_NODE_LABEL), [])) == (3, 0, 0)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_TestNumberReadyStatus(strategy):
    ds = new_daemonset(strategy=strategy)
    nodes = add_nodes(0, 2, SIMPLE_NODE_LABEL)
    pods = add_pods("node-0", SIMPLE_DAEMONSET_LABEL, ds, 1) + add_pods("node-1", SIMPLE_DAEMONSET_LABEL, ds, 1)
    result = sync(ds, nodes, pods)
    assert counts(result) == (0, 0, 0)
    assert result.status["numberReady"] == 0
    for pod in pods:
        pod["status"]["conditions"] = [{"type": "Ready", "status": "True"}]
    result = sync(dict(ds, status=result.status), nodes, pods)
    assert counts(result) == (0, 0, 0)
    assert result.status["numberReady"] == 2


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_TestObservedGeneration(strategy):
    ds = new_daemonset(strategy=strategy)
    ds["metadata"]["generation"] = 1
    result = sync(ds, add_nodes(0, 1, SIMPLE_NODE_LABEL), add_pods("node-0", SIMPLE_DAEMONSET_LABEL, ds, 1))
    assert counts(result) == (0, 0, 0)
    assert result.status["observedGeneration"] == 1


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize(
    "num_failed, num_normal, want",
    [
        pytest.param(0, 1, (0, 0, 0), id="normal (do nothing)"),
        pytest.param(0, 0, (1, 0, 0), id="no pods (create 1)"),
        pytest.param(1, 0, (0, 1, 1),
                     id="1 failed pod (kill 1), 0 normal pod (create 0; will create in the next sync)"),
        pytest.param(1, 3, (0, 3, 1), id="1 failed pod (kill 1), 3 normal pods (kill 2)"),
    ],
)
def test_TestDaemonKillFailedPods(strategy, num_failed, num_normal, want):
    ds = new_daemonset(strategy=strategy)
    pods = add_failed_pods("node-0", SIMPLE_DAEMONSET_LABEL, ds, num_failed) + add_pods(
        "node-0", SIMPLE_DAEMONSET_LABEL, ds, num_normal)
    result = sync(ds, add_nodes(0, 1), pods)
    assert counts(result) == want
    for event in events(result):
        failed = pods[0]["metadata"]["name"]
        assert (event.type, event.reason, event.message) == (
            "Warning", "FailedDaemonPod",
            f"Found failed daemon pod default/{failed} on node node-0, will try to kill it")


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_TestDaemonKillFailedPodsBackoff(strategy):
    ds = new_daemonset(strategy=strategy)
    pod = new_pod("node-0-", "node-0", SIMPLE_DAEMONSET_LABEL, ds, phase="Failed")
    cluster = Cluster(ds, add_nodes(0, 1), [pod])
    key = failed_pods_backoff_key(cluster.ds, "node-0")

    # First sync deletes the pod, initialising the backoff. Upstream's fake pod control never removes it, so its
    # next syncs see a failed pod on the node again: here the pod is put back, as a failed daemon pod that
    # keeps coming back.
    assert cluster.sync() == (0, 1) and len(events(cluster.last)) == 1
    assert cluster.pods == []
    cluster.world.put(pod)
    initial = cluster.memory.entries()[key].backoff
    assert initial == 1.0
    # An immediate second sync is limited by the backoff (and asks to come back when it ends).
    assert cluster.sync() == (0, 0) and len(events(cluster.last)) == 0
    assert cluster.memory.entries()[key].backoff == initial
    assert cluster.last.requeue_after == initial
    # Just before the end of the delay: still backing off.
    cluster.now = NOW + timedelta(seconds=initial) - timedelta(microseconds=1)
    assert cluster.sync() == (0, 0)
    # At the end of the delay the failed pod is deleted again.
    cluster.now = NOW + timedelta(seconds=initial)
    assert cluster.sync() == (0, 1) and len(events(cluster.last)) == 1
    assert cluster.memory.entries()[key].backoff == 2.0


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_TestNoScheduleTaintedDoesntEvicitRunningIntolerantPod(strategy):
    ds = new_daemonset("intolerant", strategy)
    node = new_node("tainted", taints=NO_SCHEDULE_TAINTS)
    pod = new_pod("keep-running-me", "tainted", SIMPLE_DAEMONSET_LABEL, ds)
    result = sync(ds, [node], [pod])
    assert counts(result) == (0, 0, 0)
    assert result.status["numberMisscheduled"] == 1 and result.status["desiredNumberScheduled"] == 0


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_TestNoExecuteTaintedDoesEvicitRunningIntolerantPod(strategy):
    ds = new_daemonset("intolerant", strategy)
    node = new_node("tainted", taints=NO_EXECUTE_TAINTS)
    pod = new_pod("stop-running-me", "tainted", SIMPLE_DAEMONSET_LABEL, ds)
    assert counts(sync(ds, [node], [pod])) == (0, 1, 0)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_TestTaintedNodeDaemonDoesNotLaunchIntolerantPod(strategy):
    ds = new_daemonset("intolerant", strategy)
    assert counts(sync(ds, [new_node("tainted", taints=NO_SCHEDULE_TAINTS)], [])) == (0, 0, 0)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_TestTaintedNodeDaemonLaunchesToleratePod(strategy):
    ds = new_daemonset("tolerate", strategy)
    template_spec(ds)["tolerations"] = copy.deepcopy(NO_SCHEDULE_TOLERATIONS)
    assert counts(sync(ds, [new_node("tainted", taints=NO_SCHEDULE_TAINTS)], [])) == (1, 0, 0)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_TestNotReadyNodeDaemonLaunchesPod(strategy):
    node = new_node("tainted", taints=NODE_NOT_READY, conditions=[{"type": "Ready", "status": "False"}])
    assert counts(sync(new_daemonset("simple", strategy), [node], [])) == (1, 0, 0)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_TestUnreachableNodeDaemonLaunchesPod(strategy):
    node = new_node("tainted", taints=NODE_UNREACHABLE, conditions=[{"type": "Ready", "status": "Unknown"}])
    assert counts(sync(new_daemonset("simple", strategy), [node], [])) == (1, 0, 0)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_TestNodeDaemonLaunchesToleratePod(strategy):
    ds = new_daemonset("tolerate", strategy)
    template_spec(ds)["tolerations"] = copy.deepcopy(NO_SCHEDULE_TOLERATIONS)
    assert counts(sync(ds, add_nodes(0, 1), [])) == (1, 0, 0)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_TestDaemonSetRespectsTermination(strategy):
    ds = new_daemonset(strategy=strategy)
    pod = new_pod("node-0-", "node-0", SIMPLE_DAEMONSET_LABEL, ds)
    pod["metadata"]["deletionTimestamp"] = format_time(NOW)
    assert counts(sync(ds, add_nodes(0, 1, SIMPLE_NODE_LABEL), [pod])) == (0, 0, 0)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_TestTaintPressureNodeDaemonLaunchesPod(strategy):
    ds = new_daemonset("critical", strategy)
    ds["metadata"]["namespace"] = "kube-system"
    template_spec(ds)["priority"] = 2000000000
    node = new_node("resources-pressure", conditions=[
        {"type": "DiskPressure", "status": "True"}, {"type": "MemoryPressure", "status": "True"},
        {"type": "PIDPressure", "status": "True"}], taints=[
        {"key": "node.kubernetes.io/disk-pressure", "effect": "NoSchedule"},
        {"key": "node.kubernetes.io/memory-pressure", "effect": "NoSchedule"},
        {"key": "node.kubernetes.io/pid-pressure", "effect": "NoSchedule"}])
    assert counts(sync(ds, [node], [])) == (1, 0, 0)


def _resource_spec(node_name: str, memory: str, cpu: str) -> dict:
    spec = {"containers": [{"name": "c", "resources": {"requests": {"memory": memory, "cpu": cpu, "pods": "100"}}}]}
    if node_name:
        spec["nodeName"] = node_name
    return spec


_AFFINITY_TYPE = lambda value: {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {  # noqa: E731
    "nodeSelectorTerms": [{"matchExpressions": [{"key": "type", "operator": "In", "values": [value]}]}]}}}


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize(
    "spec, unschedulable, want",
    [
        pytest.param(_resource_spec("", "50M", "0.5"), False, (True, True), id="ShouldRunDaemonPod"),
        pytest.param(_resource_spec("", "200M", "0.5"), False, (True, True), id="InsufficientResourceError"),
        pytest.param(_resource_spec("other-node", "50M", "0.5"), False, (False, False), id="ErrPodNotMatchHostName"),
        pytest.param({"containers": [{"name": "c", "ports": [{"hostPort": 666}]}]}, False, (True, True),
                     id="ErrPodNotFitsHostPorts"),
        pytest.param(_resource_spec("", "100M", "0.5"), False, (True, True), id="InsufficientResourceError-2"),
        pytest.param(_resource_spec("", "50M", "0.5"), False, (True, True), id="ShouldRunDaemonPod-2"),
        pytest.param({"nodeSelector": dict(SIMPLE_DAEMONSET_LABEL2)}, False, (False, False),
                     id="ErrNodeSelectorNotMatch"),
        pytest.param({"nodeSelector": dict(SIMPLE_DAEMONSET_LABEL)}, False, (True, True), id="ShouldRunDaemonPod-3"),
        pytest.param({"affinity": _AFFINITY_TYPE("test")}, False, (False, False), id="ErrPodAffinityNotMatch"),
        pytest.param({"affinity": _AFFINITY_TYPE("production")}, False, (True, True), id="ShouldRunDaemonPod-4"),
        pytest.param(_resource_spec("", "50M", "0.5"), True, (True, True), id="ShouldRunDaemonPodOnUnschedulableNode"),
    ],
)
def test_TestNodeShouldRunDaemonPod(strategy, spec, unschedulable, want):
    node = new_node("test-node", SIMPLE_DAEMONSET_LABEL, unschedulable=unschedulable)
    node["status"]["allocatable"] = {"memory": "100M", "cpu": "1", "pods": "100"}
    if unschedulable:
        # The node lifecycle controller taints a cordoned node; the default daemon tolerations cover it.
        node["spec"]["taints"] = [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]
    ds = new_daemonset(strategy=strategy)
    ds["spec"]["template"]["spec"] = copy.deepcopy(spec)
    assert node_should_run_daemon_pod(node, ds) == want


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_TestDeleteUnscheduledPodForNotExistingNode(strategy):
    ds = new_daemonset(strategy=strategy)
    pods = add_pods("node-0", SIMPLE_DAEMONSET_LABEL, ds, 1) + add_pods("node-1", SIMPLE_DAEMONSET_LABEL, ds, 1)
    unscheduled = new_pod("pod1-node-3", "", SIMPLE_DAEMONSET_LABEL, ds)
    unscheduled["spec"]["affinity"] = replace_daemonset_pod_node_name_node_affinity(None, "node-2")
    result = sync(ds, add_nodes(0, 1), pods + [unscheduled])
    assert counts(result) == (0, 1, 0)
    assert deletes(result)[0].name == unscheduled["metadata"]["name"]


@pytest.mark.parametrize("include, wanted", [
    pytest.param(False, {"matching-owned-0", "matching-owned-1", "matching-owned-succeeded-pod-0",
                         "matching-owned-failed-pod-1"}, id="exclude deleted terminal pods"),
    pytest.param(True, {"matching-owned-0", "matching-owned-1", "matching-owned-succeeded-pod-0",
                        "matching-owned-failed-pod-1", "matching-owned-succeeded-deleted-pod-0",
                        "matching-owned-failed-deleted-pod-1"}, id="include deleted terminal pods"),
])
def test_TestGetNodesToDaemonPods(include, wanted):
    ds = new_daemonset()

    def pod(name, node, phase=None, deleted=False):
        p = new_pod(name, node, SIMPLE_DAEMONSET_LABEL, ds, phase=phase)
        p["metadata"]["name"] = name
        if deleted:
            p["metadata"]["deletionTimestamp"] = format_time(NOW)
        return p

    pods = [pod("matching-owned-0", "node-0"), pod("matching-owned-1", "node-1"),
            pod("matching-owned-succeeded-pod-0", "node-0", "Succeeded"),
            pod("matching-owned-failed-pod-1", "node-1", "Failed"),
            pod("matching-owned-succeeded-deleted-pod-0", "node-0", "Succeeded", True),
            pod("matching-owned-failed-deleted-pod-1", "node-1", "Failed", True)]
    grouped = get_nodes_to_daemon_pods(pods, include)
    got = set()
    for node, node_pods in grouped.items():
        for p in node_pods:
            assert p["spec"]["nodeName"] == node
            got.add(p["metadata"]["name"])
    assert got == wanted


# --- surge in manage (daemon_controller_test.go TestSurge*) ---------------------------------------------------


def _old(pod: dict, created: int, ready: bool | None) -> dict:
    del pod["metadata"]["labels"][CONTROLLER_REVISION_HASH_LABEL]
    pod["metadata"]["creationTimestamp"] = format_time(datetime.fromtimestamp(created, timezone.utc))
    if ready is not None:
        pod["status"]["conditions"] = [{"type": "Ready", "status": "True" if ready else "False"}]
    return pod


def _at(pod: dict, created: int) -> dict:
    pod["metadata"]["creationTimestamp"] = format_time(datetime.fromtimestamp(created, timezone.utc))
    return pod


def test_TestSurgeDealsWithExistingPods():
    ds = new_daemonset(strategy=update_surge(1))
    pods = (add_pods("node-1", SIMPLE_DAEMONSET_LABEL, ds, 1) + add_pods("node-2", SIMPLE_DAEMONSET_LABEL, ds, 2)
            + add_pods("node-3", SIMPLE_DAEMONSET_LABEL, ds, 5) + add_pods("node-4", SIMPLE_DAEMONSET_LABEL2, ds, 2))
    assert counts(sync(ds, add_nodes(0, 5), pods)) == (2, 5, 0)


def test_TestSurgePreservesReadyOldPods():
    ds = new_daemonset(strategy=update_surge(1))
    current = _at(new_pod("node-1-", "node-1", SIMPLE_DAEMONSET_LABEL, ds), 100)
    oldest = _old(new_pod("node-1-old-", "node-1", SIMPLE_DAEMONSET_LABEL, ds), 50, True)
    old_ready = _old(new_pod("node-1-delete-", "node-1", SIMPLE_DAEMONSET_LABEL, ds), 60, True)
    pods = [current, oldest, old_ready] + add_pods("node-2", SIMPLE_DAEMONSET_LABEL, ds, 1)
    result = sync(ds, add_nodes(0, 5), pods)
    assert counts(result) == (3, 1, 0)
    assert [d.name for d in deletes(result)] == [old_ready["metadata"]["name"]]


def test_TestSurgeCreatesNewPodWhenAtMaxSurgeAndOldPodDeleted():
    ds = new_daemonset(strategy=update_surge(1))
    pod = _at(new_pod("node-0-", "node-0", SIMPLE_DAEMONSET_LABEL, ds, ready=False), 100)
    old_ready = _old(new_pod("node-0-old-ready-", "node-0", SIMPLE_DAEMONSET_LABEL, ds), 50, True)
    pods = [pod, old_ready]
    for i in range(1, 5):
        old = _old(new_pod(f"node-{i}-preserve-", f"node-{i}", SIMPLE_DAEMONSET_LABEL, ds), 1, True)
        if i == 4:
            old["metadata"]["deletionGracePeriodSeconds"] = 30
            old["metadata"]["deletionTimestamp"] = format_time(datetime.fromtimestamp(31, timezone.utc))
        pods.append(old)
    assert counts(sync(ds, add_nodes(0, 5), pods)) == (1, 0, 0)


def test_TestSurgeDeletesUnreadyOldPods():
    ds = new_daemonset(strategy=update_surge(1))
    current = _at(new_pod("node-1-", "node-1", SIMPLE_DAEMONSET_LABEL, ds), 100)
    old_unready = _old(new_pod("node-1-old-unready-", "node-1", SIMPLE_DAEMONSET_LABEL, ds), 50, False)
    old_ready = _old(new_pod("node-1-delete-", "node-1", SIMPLE_DAEMONSET_LABEL, ds), 60, True)
    pods = [current, old_unready, old_ready] + add_pods("node-2", SIMPLE_DAEMONSET_LABEL, ds, 1)
    result = sync(ds, add_nodes(0, 5), pods)
    assert counts(result) == (3, 2, 0)
    assert {d.name for d in deletes(result)} == {old_ready["metadata"]["name"], old_unready["metadata"]["name"]}


@pytest.mark.parametrize("clock, deleted", [
    pytest.param(60, {"node-1-delete-"}, id="TestSurgePreservesOldReadyWithUnsatisfiedMinReady"),
    pytest.param(70, {"node-1-delete-", "node-1-old-ready-"}, id="TestSurgeDeletesOldReadyWithUnsatisfiedMinReady"),
])
def test_surge_min_ready(clock, deleted):
    ds = new_daemonset(strategy=update_surge(1))
    ds["spec"]["minReadySeconds"] = 15
    current = _at(new_pod("node-1-", "node-1", SIMPLE_DAEMONSET_LABEL, ds), 100)
    mark_ready(current, True, datetime.fromtimestamp(50, timezone.utc))
    old_ready = _old(new_pod("node-1-old-ready-", "node-1", SIMPLE_DAEMONSET_LABEL, ds), 50, True)
    excess = _old(new_pod("node-1-delete-", "node-1", SIMPLE_DAEMONSET_LABEL, ds), 60, True)
    pods = [current, old_ready, excess] + add_pods("node-2", SIMPLE_DAEMONSET_LABEL, ds, 1)
    result = sync(ds, add_nodes(0, 5), pods, now=datetime.fromtimestamp(clock, timezone.utc))
    assert counts(result) == (3, len(deleted), 0)
    assert {d.name.rstrip("0123456789") for d in deletes(result)} == deleted


# === update_test.go ==========================================================================================


def started(strategy=None, nodes=5, ready=True) -> Cluster:
    """A DaemonSet that has launched its pods on ``nodes`` nodes (and, unless told otherwise, they are ready)."""
    cluster = Cluster(new_daemonset(strategy=strategy), add_nodes(0, nodes))
    assert cluster.sync() == (nodes, 0)
    if ready:
        cluster.mark_pods_ready()
    return cluster


def test_TestDaemonSetUpdatesPods():
    cluster = started()
    cluster.update(image="foo2/bar2", updateStrategy=rolling_update(2))
    assert [cluster.sync(), cluster.sync()] == [(0, 2), (2, 0)]
    cluster.mark_pods_ready()
    assert [cluster.sync(), cluster.sync()] == [(0, 2), (2, 0)]
    cluster.mark_pods_ready()
    assert [cluster.sync(), cluster.sync()] == [(0, 1), (1, 0)]
    cluster.mark_pods_ready()
    assert [cluster.sync(), cluster.sync()] == [(0, 0), (0, 0)]
    assert all(p["metadata"]["labels"][CONTROLLER_REVISION_HASH_LABEL] == cluster.hash() for p in cluster.pods)


def test_TestDaemonSetUpdatesPodsWithMaxSurge():
    cluster = started()
    cluster.update(image="foo2/bar2", updateStrategy=update_surge(2))
    assert [cluster.sync(), cluster.sync()] == [(2, 0), (0, 0)]
    cluster.mark_pods_ready()
    assert [cluster.sync(), cluster.sync()] == [(2, 2), (0, 0)]
    cluster.mark_pods_ready()
    assert [cluster.sync(), cluster.sync()] == [(5 % 2, 2), (0, 0)]
    cluster.mark_pods_ready()
    assert [cluster.sync(), cluster.sync()] == [(0, 5 % 2), (0, 0)]
    assert len(cluster.pods) == 5


def test_TestDaemonSetUpdatesPodsNotMatchTainstWithMaxSurge():
    ds = new_daemonset(strategy=update_surge(1))
    template_spec(ds)["tolerations"] = [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists"}]
    nodes = add_nodes(0, 5)
    nodes[0]["spec"]["taints"] = [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
    cluster = Cluster(ds, nodes)
    assert cluster.sync() == (5, 0)
    cluster.mark_pods_ready()
    spec = copy.deepcopy(cluster.ds["spec"])
    del spec["template"]["spec"]["tolerations"]
    cluster.update(template=spec["template"])
    assert [cluster.sync(), cluster.sync()] == [(1, 1), (0, 0)]
    for _ in range(3):
        cluster.mark_pods_ready()
        assert [cluster.sync(), cluster.sync()] == [(1, 1), (0, 0)]
    cluster.mark_pods_ready()
    assert [cluster.sync(), cluster.sync()] == [(0, 1), (0, 0)]
    assert cluster.pods_on("node-0") == []


def test_TestDaemonSetUpdatesWhenNewPodIsNotReady():
    cluster = started()
    cluster.update(image="foo2/bar2", updateStrategy=rolling_update(3))
    assert [cluster.sync(), cluster.sync(), cluster.sync()] == [(0, 3), (3, 0), (0, 0)]


def test_TestDaemonSetUpdatesSomeOldPodsNotReady():
    cluster = started()
    cluster.update(image="foo2/bar2", updateStrategy=rolling_update(2))
    assert [cluster.sync(), cluster.sync(), cluster.sync()] == [(0, 2), (2, 0), (0, 0)]
    cluster.update(image="foo2/bar3")
    assert [cluster.sync(), cluster.sync(), cluster.sync()] == [(0, 2), (2, 0), (0, 0)]
    ready = [p for p in cluster.pods if dsc.is_pod_ready(p)]
    assert len(ready) == 5 - 2


def test_TestDaemonSetUpdatesSaveOldHealthyPods():
    cluster = started(nodes=20)
    cluster.update(image="foo2/bar2", updateStrategy=rolling_update(10))
    assert [cluster.sync(), cluster.sync(), cluster.sync()] == [(0, 10), (10, 0), (0, 0)]
    old_ready = {p["metadata"]["name"] for p in cluster.pods if dsc.is_pod_ready(p)}
    rng = random.Random(7)  # upstream draws maxUnavailable at random; a fixed seed keeps the test deterministic
    for i in range(10):
        cluster.update(image=f"foo2/bar3-{i}", updateStrategy=rolling_update(rng.randrange(10)))
        # Only the 10 unavailable pods may be replaced.
        assert [cluster.sync(), cluster.sync(), cluster.sync()] == [(0, 10), (10, 0), (0, 0)]
        assert old_ready <= {p["metadata"]["name"] for p in cluster.pods if dsc.is_pod_ready(p)}
    cluster.update(image="foo2/bar4", updateStrategy=rolling_update(11))
    assert [cluster.sync(), cluster.sync(), cluster.sync()] == [(0, 11), (11, 0), (0, 0)]
    assert len([p for p in cluster.pods if dsc.is_pod_ready(p)]) == 9


def test_TestDaemonSetUpdatesAllOldNotReadyPodsAndNewNotReadyPods():
    cluster = started(nodes=100)
    hash1 = cluster.hash()
    cluster.update(image="foo2/bar2", updateStrategy=rolling_update(10))
    for _ in range(10):
        assert [cluster.sync(), cluster.sync()] == [(0, 10), (10, 0)]
        cluster.mark_pods_ready()
    assert cluster.sync() == (0, 0)
    # 10 available old pods, 2 unavailable old pods, 88 unavailable new pods.
    old_unavailable = set()
    for i, pod in enumerate(cluster.pods):  # in creation order (generated names count up)
        if i >= 10:
            cluster.change_pod(pod, lambda pod: mark_ready(pod, False, cluster.now))
        if i < 12:
            cluster.change_pod(pod, lambda pod: pod["metadata"]["labels"].update(
                {CONTROLLER_REVISION_HASH_LABEL: hash1}))
            if i >= 10:
                old_unavailable.add(pod["metadata"]["name"])
    assert [cluster.sync(), cluster.sync(), cluster.sync()] == [(0, 2), (2, 0), (0, 0)]
    assert not old_unavailable & {p["metadata"]["name"] for p in cluster.pods}


def test_TestDaemonSetUpdatesAllOldPodsNotReady():
    cluster = started(ready=False)
    cluster.update(image="foo2/bar2", updateStrategy=rolling_update(3))
    assert [cluster.sync(), cluster.sync(), cluster.sync()] == [(0, 5), (5, 0), (0, 0)]


def test_TestDaemonSetUpdatesAllOldPodsNotReadyMaxSurge():
    cluster = started(ready=False)
    cluster.update(image="foo2/bar2", updateStrategy=update_surge(3))
    t = lambda seconds: datetime.fromtimestamp(seconds, timezone.utc)  # noqa: E731
    # All old pods are unavailable: surge onto every node at once.
    cluster.now = t(100)
    assert cluster.sync() == (5, 0)
    # Waiting for the new pods to go ready, the unready old pods are deleted.
    cluster.now = t(200)
    assert cluster.sync() == (0, 5)
    cluster.mark_pods_ready(count=5)
    cluster.update(image="foo3/bar3", minReadySeconds=15)
    cluster.now = t(300)
    assert cluster.sync() == (3, 0)
    new_hash = cluster.hash()
    with_new = {dsc.get_target_node_name(p) for p in cluster.pods if p["metadata"]["labels"].get(
        CONTROLLER_REVISION_HASH_LABEL) == new_hash}
    cluster.mark_pods_ready(True, 2, lambda p: p["metadata"]["labels"].get(CONTROLLER_REVISION_HASH_LABEL) == new_hash)
    cluster.mark_pods_ready(False, 1, lambda p: p["metadata"]["labels"].get(CONTROLLER_REVISION_HASH_LABEL) != new_hash
                            and dsc.get_target_node_name(p) not in with_new)
    # The new pods still wait for minReadySeconds; the unready old pod is replaced outside the surge budget.
    cluster.now = t(310)
    assert cluster.sync() == (1, 0)
    # Two new pods are available: their old pods go; the unready old pod goes too; one more surge.
    cluster.now = t(320)
    assert cluster.sync() == (1, 3)
    cluster.mark_pods_ready(True, 3, lambda p: p["metadata"]["labels"].get(CONTROLLER_REVISION_HASH_LABEL) == new_hash)
    cluster.now = t(340)
    assert cluster.sync() == (0, 2)
    cluster.now = t(350)
    assert cluster.sync() == (0, 0)


def test_TestDaemonSetUpdatesNoTemplateChanged():
    cluster = started(ready=False)
    cluster.update(updateStrategy=rolling_update(3))
    assert cluster.sync() == (0, 0)


def _ready_pod(name, node):
    pod = new_pod(name, node, SIMPLE_DAEMONSET_LABEL, None)
    mark_ready(pod)
    return pod


@pytest.mark.parametrize(
    "strategy, nodes, node_to_pods, want, empty_nodes",
    [
        pytest.param(update_unavailable(0), 0, {}, (0, 0, 0), 0, id="No nodes"),
        pytest.param(update_unavailable(1), 2, {"node-0": ["pod-0"], "node-1": ["pod-1"]}, (0, 1, 2), 0,
                     id="Two nodes with ready pods"),
        pytest.param(update_unavailable(0), 2, {"node-0": ["pod-0"]}, (0, 1, 2), 1,
                     id="Two nodes, one node without pods"),
        pytest.param(update_surge(0), 2, {"node-0": ["pod-0"]}, (0, 1, 2), 1,
                     id="Two nodes, one node without pods, surge"),
        pytest.param(update_unavailable("50%"), 2, {"node-0": ["pod-0"], "node-1": ["pod-1"]}, (0, 1, 2), 0,
                     id="Two nodes with pods, MaxUnavailable in percents"),
        pytest.param(update_surge("50%"), 2, {"node-0": ["pod-0"], "node-1": ["pod-1"]}, (1, 0, 2), 0,
                     id="Two nodes with pods, MaxUnavailable in percents, surge"),
        pytest.param(update_surge("100%"), 2, {"node-0": ["pod-0"], "node-1": ["pod-1"]}, (2, 0, 2), 0,
                     id="Two nodes with pods, MaxUnavailable is 100%, surge"),
        pytest.param(update_unavailable("50%"), 3, {"node-0": ["pod-0"], "node-1": ["pod-1*"]}, (0, 2, 3), 1,
                     id="Two nodes with pods, MaxUnavailable in percents, pod terminating"),
    ],
)
def test_TestGetUnavailableNumbers(strategy, nodes, node_to_pods, want, empty_nodes):
    ds = new_daemonset("x", strategy)
    mapping = {}
    for node, names in node_to_pods.items():
        mapping[node] = []
        for name in names:
            pod = _ready_pod(name.rstrip("*"), node)
            if name.endswith("*"):
                pod["metadata"]["deletionTimestamp"] = format_time(NOW)
            mapping[node].append(pod)
    before = copy.deepcopy(mapping)
    assert get_unavailable_numbers(ds, add_nodes(0, nodes), mapping) == want
    _, _, _, augmented = updated_desired_node_counts(ds, add_nodes(0, nodes), mapping)
    assert sum(1 for pods in augmented.values() if not pods) == empty_nodes
    assert mapping == before


# === beyond upstream's tables ==============================================================================


def test_rolling_update_percentages_round_up():
    ds = new_daemonset(strategy=update_unavailable("10%"))
    assert get_unavailable_numbers(ds, add_nodes(0, 5)) == (0, 1, 5)  # ceil(0.5)
    ds = new_daemonset(strategy=update_unavailable("30%"))
    assert get_unavailable_numbers(ds, add_nodes(0, 5)) == (0, 2, 5)  # ceil(1.5)


def test_on_delete_does_not_roll():
    cluster = started()
    cluster.update(image="foo2/bar2")
    assert [cluster.sync(), cluster.sync()] == [(0, 0), (0, 0)]
    assert cluster.ds["status"].get("updatedNumberScheduled", 0) == 0
    # A user deletes one old pod: manage recreates it from the new template.
    victim = cluster.pods_on("node-3")[0]
    cluster.world.delete("Pod", "default", victim["metadata"]["name"])
    assert cluster.sync() == (1, 0)
    assert cluster.pods_on("node-3")[0]["metadata"]["labels"][CONTROLLER_REVISION_HASH_LABEL] == cluster.hash()
    assert cluster.ds["status"]["updatedNumberScheduled"] == 1


def test_rolling_update_not_run_while_expectations_unsatisfied():
    cluster = started()
    cluster.update(image="foo2/bar2", updateStrategy=rolling_update(2))
    result = sync_daemonset(cluster.ds, cluster.nodes, cluster.pods, cluster.revisions, NOW,
                            expectations_satisfied=False)
    assert counts(result) == (0, 0, 0)
    assert creates(result, "ControllerRevision")  # the history is still constructed
    assert "observedGeneration" not in (result.status or {})


def test_trace_explains_per_node_decisions():
    cluster = started()
    cluster.update(image="foo2/bar2", updateStrategy=rolling_update(1))
    cluster.sync()
    trace = cluster.last.trace
    assert trace.controller == "daemonset" and trace.object_key == "default/foo"
    assert "node-0: old revision" in trace.decision and "→ delete pod" in trace.decision
    assert "unavailable budget 1 of 1 used → wait" in trace.decision
    assert any(note.startswith("delete pod ") for note in trace.actions)


# --- the created pod ------------------------------------------------------------------------------------------


def test_created_pod_shape():
    ds = new_daemonset()
    ds["metadata"]["annotations"] = {"deprecated.daemonset.template.generation": "3"}
    ds["spec"]["template"]["metadata"]["annotations"] = {"a": "b"}
    template_spec(ds)["affinity"] = {"nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "color", "operator": "In", "values": ["blue"]}]}]},
        "preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 1,
             "preference": {"matchExpressions": [{"key": "speed", "operator": "In", "values": ["fast"]}]}}],
    }}
    result = sync(ds, [new_node("node-0", SIMPLE_NODE_LABEL)], [])
    (create,) = creates(result)
    pod = create.obj
    hash_ = current_hash(ds)
    assert pod["metadata"] == {
        "generateName": "foo-",
        "namespace": "default",
        "labels": dict(SIMPLE_DAEMONSET_LABEL, **{"pod-template-generation": "3", "controller-revision-hash": hash_}),
        "annotations": {"a": "b"},
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "foo", "uid": "uid-foo",
                             "controller": True, "blockOwnerDeletion": True}],
    }
    assert "nodeName" not in pod["spec"]
    assert pod["spec"]["affinity"]["nodeAffinity"] == {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["node-0"]}]}]},
        "preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 1,
             "preference": {"matchExpressions": [{"key": "speed", "operator": "In", "values": ["fast"]}]}}],
    }
    assert create.batch == 0
    assert create.success_event.reason == "SuccessfulCreate"
    assert create.success_event.bind(name="foo-abcde").message == "Created pod: foo-abcde"
    assert create.failure_event.bind(error="boom").message == "Error creating: boom"


def test_created_pod_default_tolerations():
    ds = new_daemonset()
    template_spec(ds)["tolerations"] = [
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
        {"key": "dedicated", "operator": "Equal", "value": "x", "effect": "NoSchedule"},
    ]
    pod = creates(sync(ds, add_nodes(0, 1), []))[0].obj
    assert pod["spec"]["tolerations"] == [
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
        {"key": "dedicated", "operator": "Equal", "value": "x", "effect": "NoSchedule"},
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
        {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
    ]
    template_spec(ds)["hostNetwork"] = True
    pod = creates(sync(ds, add_nodes(0, 1), []))[0].obj
    assert pod["spec"]["tolerations"][-1] == {
        "key": "node.kubernetes.io/network-unavailable", "operator": "Exists", "effect": "NoSchedule"}


def test_network_unavailable_taint_needs_host_network():
    node = new_node("n", taints=[{"key": "node.kubernetes.io/network-unavailable", "effect": "NoSchedule"}])
    ds = new_daemonset()
    assert node_should_run_daemon_pod(node, ds) == (False, True)
    template_spec(ds)["hostNetwork"] = True
    assert node_should_run_daemon_pod(node, ds) == (True, True)


def test_prefer_no_schedule_taint_is_ignored():
    node = new_node("n", taints=[{"key": "k", "effect": "PreferNoSchedule"}])
    assert node_should_run_daemon_pod(node, new_daemonset()) == (True, True)


def test_replace_affinity_variants():
    want = {"nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}]}
    assert replace_daemonset_pod_node_name_node_affinity(None, "n1") == {
        "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": want}}
    pod_affinity = {"podAffinity": {"x": 1}}
    assert replace_daemonset_pod_node_name_node_affinity(pod_affinity, "n1") == {
        "podAffinity": {"x": 1}, "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": want}}
    assert pod_affinity == {"podAffinity": {"x": 1}}


def test_slow_start_batches():
    result = sync(new_daemonset(), add_nodes(0, 10), [])
    assert [c.batch for c in creates(result)] == [0, 1, 1, 2, 2, 2, 2, 3, 3, 3]


def test_burst_replicas_cap():
    result = sync(new_daemonset(), add_nodes(0, 260), [])
    assert len(creates(result)) == 250


def test_successful_delete_event_is_bound():
    ds = new_daemonset()
    pods = add_pods("node-0", SIMPLE_DAEMONSET_LABEL, ds, 2, created=NOW)
    (delete,) = deletes(sync(ds, add_nodes(0, 1), pods))
    assert delete.success_event.message == f"Deleted pod: {delete.name}"
    assert delete.failure_event.bind(error="x").message == "Error deleting: x"
    assert delete.uid == f"uid-{delete.name}"


def test_succeeded_pod_is_deleted_with_event():
    ds = new_daemonset()
    pod = new_pod("node-0-", "node-0", SIMPLE_DAEMONSET_LABEL, ds, phase="Succeeded")
    result = sync(ds, add_nodes(0, 1), [pod])
    assert counts(result) == (0, 1, 1)
    (event,) = events(result)
    assert (event.type, event.reason, event.message) == (
        "Normal", "SucceededDaemonPod",
        f"Found succeeded daemon pod default/{pod['metadata']['name']} on node node-0, will try to delete it")


def test_duplicates_keep_the_oldest():
    ds = new_daemonset()
    old = new_pod("node-0-", "node-0", SIMPLE_DAEMONSET_LABEL, ds, created=NOW - timedelta(minutes=5))
    newer = new_pod("node-0-", "node-0", SIMPLE_DAEMONSET_LABEL, ds, created=NOW - timedelta(minutes=1))
    unscheduled = new_pod("node-0-", "", SIMPLE_DAEMONSET_LABEL, ds, created=NOW - timedelta(minutes=9))
    unscheduled["spec"]["affinity"] = replace_daemonset_pod_node_name_node_affinity(None, "node-0")
    result = sync(ds, add_nodes(0, 1), [newer, unscheduled, old])
    assert {d.name for d in deletes(result)} == {newer["metadata"]["name"], unscheduled["metadata"]["name"]}


# --- failed-pod backoff ---------------------------------------------------------------------------------------


def test_backoff_doubles_to_fifteen_minutes_and_expires():
    entries, key, now, delays = {}, "k", NOW, []
    for _ in range(12):
        entry = next_backoff(entries, key, now)
        entries[key] = entry
        delays.append(entry.backoff)
        now += timedelta(seconds=entry.backoff)
    assert delays == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]
    # Untouched for more than twice the maximum: a fresh start.
    last = entries[key].last_update
    assert next_backoff(entries, key, last + timedelta(seconds=1801)).backoff == 1.0
    assert next_backoff(entries, key, last + timedelta(seconds=1800)).backoff == 900.0


def test_failed_pod_backoff_sequence_through_syncs():
    ds = new_daemonset()
    cluster = Cluster(ds, add_nodes(0, 1), [new_pod("node-0-", "node-0", SIMPLE_DAEMONSET_LABEL, ds, phase="Failed")])
    key = failed_pods_backoff_key(cluster.ds, "node-0")
    seen = []
    for _ in range(5):
        assert cluster.sync() == (0, 1)  # kill the failed pod
        seen.append(cluster.memory.entries()[key].backoff)
        assert cluster.sync() == (1, 0)  # its replacement
        (replacement,) = cluster.pods
        cluster.change_pod(replacement, lambda p: p["status"].update(phase="Failed"))  # ... fails at once
        assert cluster.sync() == (0, 0)  # in backoff
        assert cluster.last.requeue_after == seen[-1]
        assert "backs off" in cluster.last.trace.decision
        cluster.now += timedelta(seconds=cluster.last.requeue_after)
    assert seen == [1, 2, 4, 8, 16]


def test_backoff_key_follows_observed_generation():
    ds = new_daemonset()
    ds["status"] = {"observedGeneration": 4}
    assert failed_pods_backoff_key(ds, "node-7") == "uid-foo/4/node-7"


def test_memory_is_forgotten_when_expired():
    ds = new_daemonset()
    memory = DaemonSetMemory((("uid-foo/0/node-0", BackoffEntry(1.0, NOW - timedelta(hours=1))),))
    result = sync(ds, add_nodes(0, 1), add_pods("node-0", SIMPLE_DAEMONSET_LABEL, ds, 1), memory=memory)
    assert result.memory is None


# --- status -------------------------------------------------------------------------------------------------


def test_status_counts_oldest_pod_per_node_and_misscheduled():
    ds = new_daemonset()
    ds["metadata"]["generation"] = 2
    template_spec(ds)["nodeSelector"] = dict(SIMPLE_NODE_LABEL)
    nodes = add_nodes(0, 3, SIMPLE_NODE_LABEL) + add_nodes(3, 1)
    oldest_ready = new_pod("node-0-", "node-0", SIMPLE_DAEMONSET_LABEL, ds, ready=True,
                           created=NOW - timedelta(hours=2))
    newer_unready = new_pod("node-0-", "node-0", SIMPLE_DAEMONSET_LABEL, ds, ready=False, created=NOW)
    oldest_unready = new_pod("node-1-", "node-1", SIMPLE_DAEMONSET_LABEL, ds, ready=False,
                             created=NOW - timedelta(hours=2), hash="old")
    newer_ready = new_pod("node-1-", "node-1", SIMPLE_DAEMONSET_LABEL, ds, ready=True, created=NOW)
    stray = new_pod("node-3-", "node-3", SIMPLE_DAEMONSET_LABEL, ds, ready=True)
    status = dsc.calculate_status(ds, nodes, [oldest_ready, newer_unready, oldest_unready, newer_ready, stray],
                                  current_hash(ds), NOW)
    assert status == {"currentNumberScheduled": 2, "numberMisscheduled": 1, "desiredNumberScheduled": 3,
                      "numberReady": 1, "updatedNumberScheduled": 1, "numberAvailable": 1, "numberUnavailable": 2}


def test_status_json_omits_empty_counts_and_keeps_collision_count():
    ds = new_daemonset()
    ds["metadata"]["generation"] = 1
    ds["status"] = {"collisionCount": 1}
    result = sync(ds, [new_node("n", taints=NO_SCHEDULE_TAINTS)], [])
    assert result.status == {"currentNumberScheduled": 0, "numberMisscheduled": 0, "desiredNumberScheduled": 0,
                             "numberReady": 0, "observedGeneration": 1, "collisionCount": 1}
    assert list(result.status) == ["currentNumberScheduled", "numberMisscheduled", "desiredNumberScheduled",
                                   "numberReady", "observedGeneration", "collisionCount"]


def test_status_not_rewritten_when_unchanged():
    cluster = started()
    cluster.sync()
    assert cluster.sync() == (0, 0)
    assert cluster.last.status is None


def test_min_ready_seconds_availability_and_requeue():
    ds = new_daemonset()
    ds["spec"]["minReadySeconds"] = 10
    pod = new_pod("node-0-", "node-0", SIMPLE_DAEMONSET_LABEL, ds)
    mark_ready(pod, True, NOW - timedelta(seconds=4))
    assert not is_pod_available(pod, 10, NOW)
    assert not is_pod_available(pod, 10, NOW + timedelta(seconds=6))  # exactly minReadySeconds: not yet
    assert is_pod_available(pod, 10, NOW + timedelta(seconds=6, microseconds=1))
    assert is_pod_available(pod, 0, NOW)
    result = sync(ds, add_nodes(0, 1), [pod])
    assert result.status["numberReady"] == 1 and "numberAvailable" not in result.status
    assert result.requeue_after == 7.0  # 6 s until available, plus upstream's extra second


def test_is_pod_updated_by_hash_or_template_generation():
    ds = new_daemonset()
    pod = new_pod("p-", "n", SIMPLE_DAEMONSET_LABEL, ds, hash="old")
    assert not is_pod_updated(pod, "new", None)
    assert is_pod_updated(pod, "old", None)
    pod["metadata"]["labels"]["pod-template-generation"] = "2"
    assert is_pod_updated(pod, "new", 2)
    assert not is_pod_updated(pod, "new", 3)
    assert not is_pod_updated(pod, "", None)


def test_find_updated_pods_on_node():
    ds = new_daemonset()
    new = new_pod("a-", "n", SIMPLE_DAEMONSET_LABEL, ds, hash="h")
    old = new_pod("b-", "n", SIMPLE_DAEMONSET_LABEL, ds, hash="g")
    gone = new_pod("c-", "n", SIMPLE_DAEMONSET_LABEL, ds, hash="h")
    gone["metadata"]["deletionTimestamp"] = format_time(NOW)
    assert find_updated_pods_on_node(ds, [new, old, gone], "h") == (new, old, True)
    assert find_updated_pods_on_node(ds, [new, new], "h") == (None, None, False)


# --- revisions ------------------------------------------------------------------------------------------------


def test_first_sync_creates_revision_one():
    ds = new_daemonset()
    ds["metadata"]["annotations"] = {"kubernetes.io/change-cause": "first"}
    result = sync(ds, add_nodes(0, 2), [])
    (rev,) = creates(result, "ControllerRevision")
    assert rev.obj == new_controller_revision(ds, 1, current_hash(ds))
    assert result.actions.index(rev) == 0  # before the pods that carry its hash
    assert all(c.obj["metadata"]["labels"][CONTROLLER_REVISION_HASH_LABEL] == current_hash(ds)
               for c in creates(result))


def test_template_change_creates_next_revision_and_undo_renumbers():
    cluster = started()
    first_hash = cluster.hash()
    first_template = copy.deepcopy(cluster.ds["spec"]["template"])
    cluster.update(image="foo2/bar2")
    cluster.sync()
    assert sorted((r["revision"], r["metadata"]["name"]) for r in cluster.revisions) == [
        (1, f"foo-{first_hash}"), (2, f"foo-{cluster.hash()}")]
    # kubectl rollout undo: the template goes back; the old revision is renumbered 3, nothing is created.
    cluster.update(template=first_template)
    result = sync_daemonset(cluster.ds, cluster.nodes, cluster.pods, cluster.revisions, NOW)
    assert creates(result, "ControllerRevision") == []
    (renumber,) = patches(result, "ControllerRevision")
    assert (renumber.name, renumber.patch) == (f"foo-{first_hash}", {"revision": 3})
    cluster.apply(result)
    assert sorted(r["revision"] for r in cluster.revisions) == [2, 3]
    assert cluster.hash() == first_hash


def test_history_limit_cleanup_skips_live_hashes():
    cluster = started()  # revisionHistoryLimit 2
    live_hash = cluster.hash()
    for i in range(2, 6):
        cluster.update(image=f"foo/bar{i}")
        cluster.sync()
    # Pods still carry revision 1's hash (OnDelete): it survives although it is the oldest; the other old
    # revisions go oldest first, so two old ones (1 and 4) stay beside the current one.
    numbers = sorted(r["revision"] for r in cluster.revisions)
    assert numbers == [1, 4, 5]
    assert any(r["metadata"]["labels"][CONTROLLER_REVISION_HASH_LABEL] == live_hash for r in cluster.revisions)


def test_history_limit_deletes_oldest_first():
    ds = new_daemonset()
    old_revs = []
    for i in range(1, 5):
        other = copy.deepcopy(ds)
        template_spec(other)["containers"][0]["image"] = f"img{i}"
        rev = new_controller_revision(other, i, f"h{i}")
        rev["metadata"]["uid"] = f"rev-uid-{i}"
        old_revs.append(rev)
    result = sync(ds, [], [], old_revs)
    assert [d.name for d in deletes(result, "ControllerRevision")] == ["foo-h1", "foo-h2"]
    assert creates(result, "ControllerRevision")[0].obj["revision"] == 5


def test_duplicate_current_revisions_are_deduplicated():
    ds = new_daemonset()
    a = new_controller_revision(ds, 1, "aaa")
    b = new_controller_revision(ds, 2, "bbb")
    pod = new_pod("node-0-", "node-0", SIMPLE_DAEMONSET_LABEL, ds, hash="aaa")
    result = sync(ds, add_nodes(0, 1), [pod], [a, b])
    assert [d.name for d in deletes(result, "ControllerRevision")] == ["foo-aaa"]
    (relabel,) = patches(result, "Pod")
    assert relabel.patch == {"metadata": {"labels": {CONTROLLER_REVISION_HASH_LABEL: "bbb"}}}


def test_revision_without_hash_label_is_labelled_with_its_name():
    ds = new_daemonset()
    rev = new_controller_revision(ds, 1, "abc")
    del rev["metadata"]["labels"][CONTROLLER_REVISION_HASH_LABEL]
    result = sync(ds, add_nodes(0, 1), [], [rev])
    (label,) = patches(result, "ControllerRevision")
    assert label.patch == {"metadata": {"labels": {CONTROLLER_REVISION_HASH_LABEL: "foo-abc"}}}
    assert creates(result)[0].obj["metadata"]["labels"][CONTROLLER_REVISION_HASH_LABEL] == "foo-abc"


def test_hash_collision_bumps_collision_count():
    ds = new_daemonset()
    other = copy.deepcopy(ds)
    template_spec(other)["containers"][0]["image"] = "something-else"
    squatter = new_controller_revision(other, 1, current_hash(ds))  # same name, different template
    result = sync(ds, add_nodes(0, 2), [], [squatter])
    assert result.status == {"collisionCount": 1}
    assert counts(result) == (0, 0, 0) and not creates(result, "ControllerRevision")
    assert result.requeue_after == 0.0
    ds["status"] = result.status
    result = sync(ds, add_nodes(0, 2), [], [squatter])
    (rev,) = creates(result, "ControllerRevision")
    assert rev.obj["metadata"]["name"] == f"foo-{compute_hash(ds['spec']['template'], 1)}"
    assert rev.obj["revision"] == 2


def test_revisions_of_other_owners_are_ignored():
    ds = new_daemonset()
    foreign = new_controller_revision(new_daemonset("bar", uid="uid-bar"), 7, "zzz")
    result = sync(ds, add_nodes(0, 1), [], [foreign])
    assert creates(result, "ControllerRevision")[0].obj["revision"] == 1


# --- purity ---------------------------------------------------------------------------------------------------


def _complex_inputs():
    ds = new_daemonset(strategy=update_surge(1))
    ds["metadata"]["generation"] = 3
    nodes = add_nodes(0, 4) + [new_node("tainted", taints=NO_EXECUTE_TAINTS)]
    pods = (add_pods("node-0", SIMPLE_DAEMONSET_LABEL, ds, 2, hash="old", ready=True)
            + add_pods("node-1", SIMPLE_DAEMONSET_LABEL, ds, 1, phase="Failed")
            + add_pods("tainted", SIMPLE_DAEMONSET_LABEL, ds, 1)
            + add_pods("node-2", SIMPLE_DAEMONSET_LABEL2, ds, 1))
    revisions = [new_controller_revision(ds, 1, current_hash(ds))]
    return ds, nodes, pods, revisions


def test_inputs_are_not_mutated():
    ds, nodes, pods, revisions = _complex_inputs()
    before = copy.deepcopy((ds, nodes, pods, revisions))
    sync(ds, nodes, pods, revisions)
    assert (ds, nodes, pods, revisions) == before


def test_plan_is_deterministic_and_independent_of_input_order():
    ds, nodes, pods, revisions = _complex_inputs()
    first = sync(ds, nodes, pods, revisions)
    assert sync(ds, nodes, pods, revisions) == first
    shuffled_nodes, shuffled_pods = list(nodes), list(pods)
    random.Random(3).shuffle(shuffled_nodes)
    random.Random(4).shuffle(shuffled_pods)
    assert sync(ds, shuffled_nodes, shuffled_pods, revisions) == first


# --- the DaemonSetCache: reused answers, same plans -----------------------------------------------------------
#
# The engine's objects are never changed in place: a changed Node or Pod is a new object with a new
# resourceVersion. The fake world's objects follow the same rule, and ``stored`` stamps a hand-made object with a
# resourceVersion, so the cache may reuse what it read.

_versions = itertools.count(1000)


def stored(obj: dict) -> dict:
    """``obj`` as the API server hands it out: with a fresh resourceVersion."""
    obj["metadata"]["resourceVersion"] = str(next(_versions))
    return obj


class StoredCluster(Cluster):
    """``Cluster`` synced with a ``DaemonSetCache``; every sync is checked against a sync of the same inputs
    without the cache."""

    def __init__(self, ds: dict, nodes: list[dict], pods: list[dict] | None = None, now: datetime = NOW):
        super().__init__(ds, nodes, pods, now)
        self.cache = dscache.DaemonSetCache()

    def sync(self, **kwargs) -> tuple[int, int]:
        args = (self.ds, self.nodes, self.pods, self.revisions, self.now)
        result = sync_daemonset(*args, memory=self.memory, cache=self.cache, **kwargs)
        assert result == sync_daemonset(*args, memory=self.memory, **kwargs)
        self.apply(result)
        return len(creates(result)), len(deletes(result))

    def change_node(self, name: str, change) -> None:
        self.world.change("Node", "", name, change)


def _selector_cluster(strategy=None) -> StoredCluster:
    ds = new_daemonset(strategy=strategy or rolling_update(1))
    template_spec(ds)["nodeSelector"] = {"color": "blue"}
    nodes = add_nodes(0, 3, {"color": "blue"}) + add_nodes(3, 2, {"color": "red"})
    cluster = StoredCluster(ds, nodes)
    assert cluster.sync() == (3, 0)
    cluster.mark_pods_ready()
    assert cluster.sync() == (0, 0)
    return cluster


def test_cache_reuses_the_decisions_of_unchanged_nodes(monkeypatch):
    cluster = _selector_cluster()
    decided = []
    monkeypatch.setattr(dscache, "decide_node", lambda node, placement, real=dscache.decide_node: decided.append(
        node["metadata"]["name"]) or real(node, placement))

    def cached_sync():
        return sync(cluster.ds, cluster.nodes, cluster.pods, cluster.revisions, cache=cluster.cache)

    assert counts(cached_sync()) == (0, 0, 0)
    assert decided == []
    cluster.change_node("node-4", lambda n: n["metadata"]["labels"].update(disk="ssd"))
    assert counts(cached_sync()) == (0, 0, 0)
    assert decided == ["node-4"]


def test_cache_honours_a_relabelled_node():
    cluster = _selector_cluster()
    cluster.change_node("node-4", lambda n: n["metadata"]["labels"].update(color="blue"))
    assert cluster.sync() == (1, 0)
    assert len(cluster.pods_on("node-4")) == 1
    cluster.change_node("node-0", lambda n: n["metadata"]["labels"].update(color="red"))
    assert cluster.sync() == (0, 1)
    assert cluster.pods_on("node-0") == []


def test_cache_honours_a_tainted_node():
    cluster = _selector_cluster()
    cluster.change_node("node-1", lambda n: n["spec"].update(taints=copy.deepcopy(NO_SCHEDULE_TAINTS)))
    assert cluster.sync() == (0, 0)  # NoSchedule: the pod stays, misscheduled
    assert (cluster.ds["status"]["desiredNumberScheduled"], cluster.ds["status"]["numberMisscheduled"]) == (2, 1)
    cluster.change_node("node-1", lambda n: n["spec"].update(taints=copy.deepcopy(NO_EXECUTE_TAINTS)))
    assert cluster.sync() == (0, 1)  # NoExecute: the pod goes
    cluster.change_node("node-1", lambda n: n["spec"].pop("taints"))
    assert cluster.sync() == (1, 0)


def test_cache_honours_a_changed_node_selector():
    cluster = _selector_cluster()
    spec = copy.deepcopy(cluster.ds["spec"])
    spec["template"]["spec"]["nodeSelector"] = {"color": "red"}
    cluster.update(template=spec["template"])
    assert cluster.sync() == (2, 3)
    assert {dsc.get_target_node_name(p) for p in cluster.pods} == {"node-3", "node-4"}


def test_cache_honours_changed_tolerations():
    ds = new_daemonset()
    cluster = StoredCluster(ds, add_nodes(0, 2) + [new_node("tainted", taints=NO_SCHEDULE_TAINTS)])
    assert cluster.sync() == (2, 0)
    cluster.update(template=dict(cluster.ds["spec"]["template"], spec=dict(
        template_spec(cluster.ds), tolerations=copy.deepcopy(NO_SCHEDULE_TOLERATIONS))))
    assert cluster.sync() == (1, 0)
    assert len(cluster.pods_on("tainted")) == 1


def test_cache_honours_a_changed_selector():
    cluster = StoredCluster(new_daemonset(), add_nodes(0, 3))
    assert cluster.sync() == (3, 0)
    cluster.update(selector={"matchExpressions": [{"key": "type", "operator": "In", "values": ["test"]}]})
    cluster.sync()
    assert len(patches(cluster.last, "Pod")) == 3  # none match any more: all released


def test_cache_reads_changed_pods_afresh():
    cluster = StoredCluster(new_daemonset(), add_nodes(0, 2))
    cluster.sync()
    assert cluster.ds["status"]["numberReady"] == 0
    cluster.mark_pods_ready(count=1)
    cluster.sync()
    assert cluster.ds["status"]["numberReady"] == 1
    # A pod's new version that fails: deleted (and the backoff starts), then recreated.
    cluster.change_pod(cluster.pods[0], lambda p: p["status"].update(phase="Failed"))
    assert cluster.sync() == (0, 1)
    assert cluster.sync() == (1, 0)


def test_cache_never_remembers_objects_without_a_resource_version():
    # Hand-made objects may be changed in place between syncs: the cache must not trust them.
    cache = dscache.DaemonSetCache()
    ds = new_daemonset()
    template_spec(ds)["nodeSelector"] = {"color": "blue"}
    nodes = add_nodes(0, 2, {"color": "blue"})
    pods = add_pods("node-0", SIMPLE_DAEMONSET_LABEL, ds, 1)
    assert counts(sync(ds, nodes, pods, cache=cache)) == (1, 0, 0)
    nodes[1]["metadata"]["labels"]["color"] = "red"
    pods[0]["status"]["phase"] = "Succeeded"
    assert counts(sync(ds, nodes, pods, cache=cache)) == (0, 1, 1)
    assert len(cache) == 0


def test_plans_are_the_same_with_the_cache_through_rolling_updates():
    # StoredCluster.sync checks every plan against a sync without the cache.
    cluster = StoredCluster(new_daemonset(), add_nodes(0, 20))
    assert cluster.sync() == (20, 0)
    cluster.mark_pods_ready()
    cluster.update(image="foo2/bar2", updateStrategy=rolling_update("10%"))
    for _ in range(10):
        assert [cluster.sync(), cluster.sync()] == [(0, 2), (2, 0)]
        cluster.mark_pods_ready()
    assert cluster.sync() == (0, 0)
    cluster.update(image="foo2/bar3", updateStrategy=update_surge("25%"), minReadySeconds=10)
    for _ in range(30):
        cluster.sync()
        cluster.now += timedelta(seconds=5)
        cluster.mark_pods_ready(where=lambda p: "deletionTimestamp" not in p["metadata"])
    assert cluster.ds["status"]["updatedNumberScheduled"] == 20
    assert all(p["metadata"]["labels"][CONTROLLER_REVISION_HASH_LABEL] == cluster.hash() for p in cluster.pods)


def test_cache_memory_is_bounded():
    cache = dscache.DaemonSetCache(max_placements=2, max_daemonsets=2)
    nodes = [stored(n) for n in add_nodes(0, 10)]
    placements = []
    for color in ("blue", "red", "green"):
        ds = new_daemonset()
        template_spec(ds)["nodeSelector"] = {"color": color}
        placements.append(dsc.Placement(ds))
    cache.decide_all(nodes, placements[0])
    assert len(cache) == 10
    cache.decide_all(nodes[:3], placements[0])  # nodes that are gone are forgotten
    assert len(cache) == 3
    cache.decide_all(nodes, placements[1])
    cache.decide_all(nodes, placements[2])  # the least recently used placement goes
    assert len(cache) == 20
    first = cache.decide_all(nodes, placements[2])
    assert all(a is b for a, b in zip(first, cache.decide_all(nodes, placements[2])))
    for uid in ("a", "b", "c"):
        list(cache.pod_facts(uid, [stored(p) for p in add_pods("node-0", SIMPLE_DAEMONSET_LABEL, new_daemonset(), 5)]))
    assert len(cache) == 20 + 2 * 5
    cache.forget("c")
    assert len(cache) == 20 + 5


def test_daemonsets_with_the_same_placement_share_decisions():
    a, b = new_daemonset("a", uid="uid-a"), new_daemonset("b", uid="uid-b")
    template_spec(b)["containers"][0]["image"] = "other"
    assert dsc.Placement(a).key == dsc.Placement(b).key
    template_spec(b)["tolerations"] = copy.deepcopy(NO_SCHEDULE_TOLERATIONS)
    assert dsc.Placement(a).key != dsc.Placement(b).key


# --- traces stay readable on large clusters -------------------------------------------------------------------


def test_trace_folds_many_decisions_of_one_kind():
    result = sync(new_daemonset(), add_nodes(0, 40), [])
    assert result.trace.decision == (
        f"the template is new: record it as revision 1 ({current_hash(new_daemonset())}); "
        "40 nodes (node-0, node-1, node-10 … node-9): should run the daemon pod and has none → create one")
    assert result.trace.actions[:2] == (
        "write status (desired 40, current 40, ready 0, up-to-date 40, available 0, misscheduled 0)",
        "create ControllerRevision foo-" + current_hash(new_daemonset()) + " (revision 1)")
    assert result.trace.actions[2:] == ("create pod foo-… × 40 (node-0, node-1, node-10 … node-9)",)


def test_trace_lists_up_to_five_of_a_kind():
    result = sync(new_daemonset(), add_nodes(0, 5), [])
    assert result.trace.decision == "; ".join(
        [f"the template is new: record it as revision 1 ({current_hash(new_daemonset())})"]
        + [f"node-{i}: should run the daemon pod and has none → create one" for i in range(5)])
    assert result.trace.actions[2:] == tuple(f"create pod foo-… for node-{i}" for i in range(5))


def test_trace_is_small_on_a_large_rollout():
    cluster = Cluster(new_daemonset(), add_nodes(0, 1000))
    old_hash = current_hash(new_daemonset())
    assert cluster.sync() == (250, 0)
    assert cluster.last.trace.decision == (
        f"the template is new: record it as revision 1 ({old_hash}); 1000 nodes (node-0, node-1, node-10 … "
        "node-999): should run the daemon pod and has none → create one; 1000 nodes need a pod; at most 250 are "
        "created per sync")
    assert cluster.last.trace.actions[2] == "create pod foo-… × 250 (node-0, node-1, node-10 … node-322)"
    assert [cluster.sync() for _ in range(4)] == [(250, 0)] * 3 + [(0, 0)]
    cluster.mark_pods_ready()
    cluster.update(image="foo2/bar2", updateStrategy=rolling_update("10%"))
    assert cluster.sync() == (0, 100)
    trace = cluster.last.trace
    assert trace.decision == (
        f"the template is new: record it as revision 2 ({cluster.hash()}); "
        f"100 nodes (node-0, node-1, node-10 … node-188): old revision {old_hash} → delete its pod; manage "
        "recreates it next sync; "
        f"900 nodes (node-189, node-19, node-190 … node-999): old revision {old_hash}, unavailable budget 100 of "
        "100 used → wait")
    assert len(trace.actions) == 3 and trace.actions[2].startswith("delete pod × 100 (")
    assert cluster.sync() == (100, 0)
    assert cluster.last.trace.decision == (
        "100 nodes (node-0, node-1, node-10 … node-188): should run the daemon pod and has none → create one; "
        "100 nodes (node-0, node-1, node-10 … node-188): the new pod is not available yet (uses the unavailable "
        f"budget); 900 nodes (node-189, node-19, node-190 … node-999): old revision {old_hash}, unavailable budget "
        "100 of 100 used → wait")
