"""The DaemonSet controller's fast path: a sync that reads and walks only what changed since the previous one.

``controllers/daemonset.py`` is the reference: every sync reads every node and pod and walks every node three
times (``manage``, ``rolling_update``, the status counts), as upstream does. That is what a learner reads. A
controller-manager on a large cluster, though, syncs a DaemonSet after nearly every event of one of its pods
(upstream has no batch period for it), so it hands ``sync_daemonset`` a ``DaemonSetCache``; this is the one seam
(``sync_daemonset(cache=...)`` takes its ``NodeWalk`` from ``DaemonSetCache.walk``), and nothing in
``daemonset.py`` knows what is behind it. The plans are exactly the ones the plain walk makes: the differential
tests (``tests/controllers/test_daemonset_incremental.py``, ``test_daemonset_engine.py``,
``tests/runtime/test_daemonset_cache_e2e.py``) run both on the same histories and compare every result.

What a ``DaemonSetCache`` remembers
-----------------------------------
* Answers: each node's ``NodeShouldRunDaemonPod`` (a ``NodeDecision``, per ``Placement``), each pod's
  ``PodFacts``, a stored DaemonSet's ``Placement``, ``get_patch``, label selector and whether
  ``incremental_sync_applies`` (per generation, one ``_Spec``). That is exact because the API server's objects are
  never changed in place: a changed object is a new one with a new resourceVersion; objects without one are never
  trusted.
* Per DaemonSet, where ``incremental_sync_applies``, a ``_DaemonSetState``: each node's decision, its pods, the
  state ``manage`` and the rolling update find it in ("needs a pod", "its pod is terminating", "old pod
  available, waits for the budget", ...) and its share of the status counts, with the nodes of each state in
  name order. A sync then updates only the nodes whose Node or pods changed (the controller-manager says which,
  as ``DaemonSetChanges``; given only the lists, the cache compares them object by object), asks
  ``pods_should_be_on_node`` only about nodes in no settled state, and reads the rest by state, with order
  statistics: how many, which come first (the trace lists up to ``NOTE_LIMIT`` of a kind), which comes last,
  how many unavailable nodes stand before a node (the rolling update's running count). Only what does not depend
  on the time is kept: DaemonSets with ``minReadySeconds`` or a ``maxSurge`` get the plain walk over the
  remembered answers.
* For the controller-manager (``observe``, ``inputs``): which DaemonSets were synced since the informer cache was
  built, and the nodes and pods changed since each one's last sync, so a sync is told what changed and reads no
  list.
"""

from __future__ import annotations

import heapq
import itertools
import json
import sys
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from dataclasses import dataclass, field
from itertools import chain, islice
from datetime import datetime
from operator import attrgetter
from typing import Callable, Iterable, Iterator, Mapping

from controllers.apimachinery.labels import selector_from_label_selector
from controllers.cache import controller_uid
from controllers.daemonset import (
    BURST_REPLICAS,
    NOTE_LIMIT,
    ROLLING_UPDATE,
    NodeDecision,
    NodeWalk,
    Placement,
    PodFacts,
    SyncContext,
    claim_pods,
    decide_node,
    describe_hash,
    describe_pod,
    get_unscheduled_pods_without_node,
    pods_should_be_on_node,
    release_pods,
    split_updated_pods,
    sync_nodes,
    update_budget,
    update_strategy_type,
)
from controllers.history import get_patch
from controllers.objects import meta as _meta, name as _name, spec as _spec
from controllers.pods import ZERO_TIME

#: How many templates' placements, and how many DaemonSets' pods and states, a ``DaemonSetCache`` remembers.
DECISION_CACHE_PLACEMENTS = 32
CACHE_DAEMONSETS = 256


@dataclass(frozen=True)
class DaemonSetChanges:
    """What changed since a DaemonSet's previous sync, as the controller-manager's informer saw it: the Nodes
    (by name; None: deleted) and the pods that are or were controlled by it (by (namespace, name); None:
    deleted). ``since`` names the previous sync's ``token``; changes are only applied on top of a remembered
    state built at ``since`` (else the full lists are read)."""

    since: object
    token: object
    nodes: Mapping[str, dict | None] = field(default_factory=dict)
    pods: Mapping[tuple[str, str], dict | None] = field(default_factory=dict)


class DaemonSetCache:
    """What one DaemonSet sync can reuse from the previous ones, so a sync redoes only what changed: each node's
    ``NodeShouldRunDaemonPod`` answer and each pod's ``PodFacts`` and, for the DaemonSets
    ``incremental_sync_applies`` to, each node's state (``state``: see the module text); also a stored
    DaemonSet's ``Placement``, ``get_patch``, label selector and ``incremental_sync_applies``, per generation
    (``spec``). ``sync_daemonset`` reaches it through ``walk`` alone; the plan is the same with or without it.

    An entry is reused for the very same object (the entry keeps it alive, so its ``id`` cannot be reused), and
    only objects that carry a resourceVersion are remembered: the engine's cached objects are never changed in
    place, so a relabelled, tainted or otherwise changed node, or a changed pod, is a new object and is read
    afresh. Hand-made objects without a resourceVersion (as in unit tests, which change them in place) are never
    remembered. Node answers are kept per ``Placement``, so every node is decided afresh when a template's
    placement fields change; a pod remembers which selector it was last matched against. Memory stays bounded: a
    sync keeps only the nodes and pods it was given, and at most ``max_placements`` placements and
    ``max_daemonsets`` DaemonSets' pods and states are remembered (least recently used first out; ``forget``
    drops a deleted DaemonSet's). Not thread-safe: one per controller-manager.

    The controller-manager also tells it the change stream (``observe``) and asks it for a sync's inputs
    (``inputs``): the lists, read only when iterated, and the ``DaemonSetChanges`` since that DaemonSet's
    previous sync (the nodes the informer cache reports changed since then, ``nodes_changed_since``, and the pods
    that are or were controlled by it, from the change stream). All of this follows one informer cache; when the
    engine relists into a new one, it starts afresh.
    """

    def __init__(self, max_placements: int = DECISION_CACHE_PLACEMENTS, max_daemonsets: int = CACHE_DAEMONSETS):
        self.max_placements = max_placements
        self.max_daemonsets = max_daemonsets
        # placement key -> {id(node): decision}; an entry holds its object, so the id cannot be reused meanwhile
        self._decisions: OrderedDict[str, dict[int, NodeDecision]] = OrderedDict()
        # DaemonSet uid -> {id(pod): facts}
        self._pods: OrderedDict[str, dict[int, PodFacts]] = OrderedDict()
        # DaemonSet uid -> what its incremental syncs keep
        self._states: OrderedDict[str, _DaemonSetState] = OrderedDict()
        # _spec_key(ds) -> what its spec gives every sync; selector JSON -> label selector
        self._specs: OrderedDict[tuple, _Spec] = OrderedDict()
        self._selectors: OrderedDict[str, object] = OrderedDict()
        # What the controller-manager's change stream said: the informer cache followed, and, by DaemonSet uid for
        # those synced since it was (re)built, the node generation of its last sync and the keys of its pods
        # changed since (dict as an ordered set)
        self._informer = None
        self._epoch = 0
        self._synced_at: dict[str, int] = {}
        self._changed_pods: dict[str, dict[tuple[str, str], None]] = {}

    def __len__(self) -> int:
        """How many entries are remembered, nodes and pods, over every placement and DaemonSet."""
        return (sum(len(t) for t in self._decisions.values()) + sum(len(t) for t in self._pods.values())
                + sum(len(s) for s in self._states.values()))

    @staticmethod
    def _take(tables: OrderedDict, key: str, limit: int) -> dict:
        """The table for ``key``, now the most recently used; the least recently used beyond ``limit`` go."""
        table = tables.pop(key, None)
        tables[key] = table = {} if table is None else table
        while len(tables) > limit:
            tables.popitem(last=False)
        return table

    def spec(self, ds: Mapping) -> _Spec:
        """What ``ds``'s spec gives each of its syncs (``_Spec``), remembered per stored DaemonSet and
        generation (see ``_spec_key``)."""
        key = _spec_key(ds)
        remembered = self._specs.get(key) if key is not None else None
        if remembered is None:
            remembered = _Spec(ds)
            if key is not None:
                self._remember(self._specs, key, remembered)
        return remembered

    def placement(self, ds: Mapping) -> Placement:
        """``Placement(ds)``, remembered per stored DaemonSet and generation."""
        return self.spec(ds).placement

    def patch(self, ds: Mapping) -> dict:
        """``get_patch(ds)`` for comparisons only (never to be changed or handed out), remembered like
        ``placement``."""
        return self.spec(ds).patch

    def selector(self, selector: Mapping) -> tuple[str, object]:
        """(the selector's key, ``selector_from_label_selector``), remembered by value (raises ``SelectorError``
        as it does). The key is the selector's JSON, interned: the same selector gives the very same string."""
        key = sys.intern(_selector_key(selector))
        found = self._selectors.get(key)
        if found is None:
            found = selector_from_label_selector(selector)
            self._remember(self._selectors, key, found)
        return key, found

    def _remember(self, table: OrderedDict, key, value) -> None:
        table.pop(key, None)
        table[key] = value
        while len(table) > self.max_daemonsets:
            table.popitem(last=False)

    def decide(self, node: Mapping, placement: Placement) -> NodeDecision:
        """One node's decision, remembered."""
        table = self._take(self._decisions, placement.key, self.max_placements)
        decision = table.get(id(node))
        if decision is None or decision.node is not node:
            decision = decide_node(node, placement)
            if decision.resource_version:
                table[id(node)] = decision
        return decision

    def decide_all(self, nodes: Iterable[Mapping], placement: Placement) -> list[NodeDecision]:
        """Every node's decision, in node-name order; the placement then remembers just these nodes."""
        old = self._take(self._decisions, placement.key, self.max_placements)
        fresh: dict[int, NodeDecision] = {}
        decisions = []
        for node in nodes:
            decision = old.get(id(node))
            if decision is None or decision.node is not node:
                decision = decide_node(node, placement)
            if decision.resource_version:
                fresh[id(node)] = decision
            decisions.append(decision)
        self._decisions[placement.key] = fresh
        decisions.sort(key=attrgetter("name"))
        return decisions

    def pod_facts(self, ds_uid: str, pods: Iterable[Mapping]) -> Iterator[PodFacts]:
        """Each pod's facts, in the given order; once all are read, the DaemonSet remembers just these pods."""
        old = self._take(self._pods, ds_uid, self.max_daemonsets)
        fresh: dict[int, PodFacts] = {}
        for pod in pods:
            facts = old.get(id(pod))
            if facts is None or facts.pod is not pod:
                facts = PodFacts(pod)
            if facts.resource_version:
                fresh[id(pod)] = facts
            yield facts
        self._pods[ds_uid] = fresh

    def forget(self, ds_uid: str) -> None:
        """Drop what is remembered of a deleted DaemonSet's pods."""
        self._pods.pop(ds_uid, None)
        self._states.pop(ds_uid, None)
        self._synced_at.pop(ds_uid, None)
        self._changed_pods.pop(ds_uid, None)

    def walk(self, changes: DaemonSetChanges | None = None) -> CachedWalk:
        """The ``NodeWalk`` for one sync (``sync_daemonset``'s seam), told ``changes`` since the previous one."""
        return CachedWalk(self, changes)

    def state(self, ds: Mapping, spec: _Spec, selector_key: str, label_selector, nodes: Iterable[Mapping],
              pods: Iterable[Mapping], changes: DaemonSetChanges | None) -> _DaemonSetState | None:
        """The DaemonSet's remembered state brought up to date, or None when it is to be synced in full
        (``incremental_sync_applies`` says no, or objects without a resourceVersion were given).

        With ``changes`` relative to the remembered state, only they are read; otherwise the given lists are
        compared with the state object by object (by identity), or the state is built from them afresh."""
        uid = _meta(ds).get("uid") or ""
        state = self._states.pop(uid, None)
        if not spec.incremental:
            return None
        placement = spec.placement
        if state is not None and (state.placement_key != placement.key or state.selector_key is not selector_key):
            state = None
        if changes is None or changes.since is None or state is None or state.token != changes.since:
            nodes, pods = list(nodes), list(pods)
            if changes is None and not all(_meta(o).get("resourceVersion") for o in chain(nodes, pods)):
                return None
            token = None if changes is None else changes.token
            if state is not None and changes is None:
                changes = self._differences(state, nodes, pods)
            else:
                state = self._build(uid, placement, selector_key, label_selector, nodes, pods)
                changes = None
            state.token = token
        if changes is not None:
            self._apply(state, placement, label_selector, changes)
            state.token = changes.token
        self._states[uid] = state
        while len(self._states) > self.max_daemonsets:
            self._states.popitem(last=False)
        return state

    def _build(self, uid: str, placement: Placement, selector_key: str, label_selector, nodes: list[Mapping],
               pods: list[Mapping]) -> _DaemonSetState:
        state = _DaemonSetState(uid, placement.key, selector_key)
        dirty: set[str] = set()
        for decision in self.decide_all(nodes, placement):
            state.set_node(decision.name, decision, dirty)
        for facts in self.pod_facts(uid, pods):
            state.set_pod(_pod_key(facts.pod), facts, label_selector, dirty)
        self._pods.pop(uid, None)  # the state remembers them now
        state.build_manage()
        return state

    @staticmethod
    def _differences(state: _DaemonSetState, nodes: list[Mapping], pods: list[Mapping]) -> DaemonSetChanges:
        """The nodes and pods that are not the very objects the state holds (or that are gone)."""
        return DaemonSetChanges(state.token, None, _unlike(nodes, _name, state.decisions, attrgetter("node")),
                                _unlike(pods, _pod_key, state.pods, attrgetter("pod")))

    def _apply(self, state: _DaemonSetState, placement: Placement, label_selector,
               changes: DaemonSetChanges) -> None:
        table = self._take(self._decisions, placement.key, self.max_placements)
        dirty: set[str] = set()
        for name, node in changes.nodes.items():
            old = state.decisions.get(name)
            if node is not None and old is not None and old.node is node:
                continue
            if old is not None and old.node is not None and table.get(id(old.node)) is old:
                del table[id(old.node)]
            decision = None
            if node is not None:
                decision = table.get(id(node))
                if decision is None or decision.node is not node:
                    decision = decide_node(node, placement)
                    if decision.resource_version:
                        table[id(node)] = decision
            state.set_node(name, decision, dirty)
        if len(table) > 2 * len(state.decisions) + 64:
            # decide() remembers every version of a node the controller-manager asked about: keep the current ones
            table.clear()
            table.update((id(d.node), d) for d in state.decisions.values() if d.resource_version)
        known = state.pods
        for key, pod in changes.pods.items():
            old = known.get(key)
            if pod is not None and old is not None and old.pod is pod:
                continue
            state.set_pod(key, None if pod is None else PodFacts(pod), label_selector, dirty)
        state.refresh(dirty)

    # -- what the controller-manager tells it --------------------------------------------------------------

    def observe(self, change, old: dict | None, informer) -> None:
        """A change the controller-manager's informer cache has applied (``old``: the object before it): a
        deleted DaemonSet is forgotten, a pod change is noted for the DaemonSets controlling the pod, before or
        after."""
        self._follow(informer)
        if change.kind == "DaemonSet" and change.type == "DELETED":
            self.forget(change.object["metadata"].get("uid") or "")
        elif change.kind == "Pod" and self._changed_pods:  # (none to note for before a DaemonSet has synced)
            meta = change.object["metadata"]
            key = (meta.get("namespace", ""), meta["name"])
            for obj in (change.object, old):
                changed = self._changed_pods.get(controller_uid(obj)) if obj is not None else None
                if changed is not None:
                    changed[key] = None

    def inputs(self, ds: dict, informer) -> tuple[Iterable[dict], Iterable[dict], DaemonSetChanges]:
        """A sync's nodes (every Node) and pods (those ``ds`` controls), read from ``informer`` only when
        iterated, and what changed since that DaemonSet's previous sync."""
        self._follow(informer)
        uid = ds["metadata"]["uid"]
        since = self._synced_at.get(uid)
        if since is None:
            generation = informer.node_changes_generation
            changes = DaemonSetChanges(None, (self._epoch, generation))
            self._changed_pods[uid] = {}
        else:
            generation, names = informer.nodes_changed_since(since)
            changed, self._changed_pods[uid] = self._changed_pods[uid], {}
            changes = DaemonSetChanges((self._epoch, since), (self._epoch, generation),
                                       {name: informer.get("Node", "", name) for name in names},
                                       {key: informer.get("Pod", *key) for key in changed})
        self._synced_at[uid] = generation
        return _Listing(informer.list, "Node"), _Listing(informer.owned_by, uid, "Pod"), changes

    def node_should_run_daemon_pod(self, node: Mapping, ds: Mapping) -> tuple[bool, bool]:
        """``node_should_run_daemon_pod``, from the remembered answers."""
        decision = self.decide(node, self.placement(ds))
        return decision.should_run, decision.should_continue

    def _follow(self, informer) -> None:
        if informer is not self._informer:
            self._informer = informer
            self._epoch += 1
            self._synced_at.clear()
            self._changed_pods.clear()


class _Spec:
    """What one generation of a stored DaemonSet's spec gives each of its syncs, worked out once: its
    ``Placement``, ``get_patch``, whether ``incremental_sync_applies``, and, from the first sync that reads it
    (an invalid one raises ``SelectorError`` there), its label selector as ``DaemonSetCache.selector`` gives it."""

    __slots__ = ("placement", "patch", "incremental", "selector")

    def __init__(self, ds: Mapping):
        self.placement = Placement(ds)
        self.patch = get_patch(ds)
        self.incremental = incremental_sync_applies(ds)
        self.selector: tuple[str, object] | None = None


class CachedWalk:
    """The ``NodeWalk`` a ``DaemonSetCache`` gives one sync: ``read`` takes the remembered answers and, where
    ``incremental_sync_applies``, the DaemonSet's state brought up to date; the steps then walk that state
    (``manage_incrementally``, ...), or, without one, are the plain walk's over the remembered answers."""

    def __init__(self, cache: DaemonSetCache, changes: DaemonSetChanges | None):
        self.cache = cache
        self.changes = changes
        self.state: _DaemonSetState | None = None

    def read(self, ctx: SyncContext, nodes: Iterable[Mapping], pods: Iterable[Mapping]) -> None:
        """``read_nodes_and_pods`` from what the cache remembers (raises ``SelectorError`` as it does)."""
        cache, ds = self.cache, ctx.ds
        spec = cache.spec(ds)
        if spec.selector is None:
            spec.selector = cache.selector(_spec(ds).get("selector"))
        selector_key, label_selector = spec.selector
        ctx.patch = spec.patch
        state = self.state = cache.state(ds, spec, selector_key, label_selector, nodes, pods, self.changes)
        if state is None:
            ctx.nodes = cache.decide_all(nodes, spec.placement)
            ctx.node_count = len(ctx.nodes)
            claim_pods(ctx, cache.pod_facts(_meta(ds).get("uid") or "", pods), label_selector)
            return
        ctx.node_count = len(state.decisions)
        ctx.pods = state.claimed.values()
        ctx.node_to_pods = _ProjectedPods(state.node_pods)
        ctx.live_hashes = {h for h in state.hashes if h}
        release_pods(ctx, state.released.values())

    def manage(self, ctx: SyncContext, hash: str) -> None:
        if self.state is None:
            NodeWalk.manage(ctx, hash)
        else:
            manage_incrementally(ctx, self.state, hash)

    def rolling_update(self, ctx: SyncContext, hash: str) -> None:
        if self.state is None:
            NodeWalk.rolling_update(ctx, hash)
        else:
            self.state.set_basis(hash, ctx.generation_text)
            rolling_update_incrementally(ctx, self.state, hash)

    def status_counts(self, ctx: SyncContext, hash: str) -> dict[str, int]:
        if self.state is None:
            return NodeWalk.status_counts(ctx, hash)
        self.state.set_basis(hash, ctx.generation_text)
        return status_counts_incrementally(ctx, self.state)


# --- the per-DaemonSet state -------------------------------------------------------------------------------
#
# A full sync walks every node three times (manage, rolling update, status). On a large cluster nearly every
# node is in one of a few settled states ("has its pod, nothing to do", "old pod available, waits for the
# budget", ...), and a state changes only when the node's Node object or its pods change. So a
# ``_DaemonSetState`` keeps, per node, its decision, its pods, which state it is in for each step and its
# contribution to the status counts, and the nodes of each state in name order; a sync then updates only the
# nodes that changed, asks ``pods_should_be_on_node`` only about the nodes in no settled state, and reads the
# rest by state (``_View``).

# manage: the node needs a pod, or its pod is terminating, or it no longer qualifies but keeps its pod
# (the summary of its trace line names the state); _COMPLEX: podsShouldBeOnNode must look at it in every sync
_MANAGE_CREATE = "should run the daemon pod and has none → create one"
_MANAGE_TERMINATING = "its daemon pod is terminating → wait until it is gone, then create one"
_COMPLEX = "\0complex"

# rolling update (maxSurge 0): no pod yet, several pods of a revision, both or neither of old and new, new
# pod not available, old pod not available (deleted at once), old pod available (deleted within the budget)
_NO_POD, _NOT_OK, _BOTH, _NEW_UNAVAILABLE, _OLD_UNAVAILABLE, _OLD_AVAILABLE = range(6)
_UNAVAILABLE = frozenset((_NO_POD, _NOT_OK, _BOTH, _NEW_UNAVAILABLE, _OLD_UNAVAILABLE))
_NOT_OK_NOTE = "more than one pod of a revision; manage prunes it first (counts as unavailable)"
_NEW_UNAVAILABLE_NOTE = "the new pod is not available yet (uses the unavailable budget)"

_NO_STATUS = (0, 0, 0, 0, 0, 0)


def incremental_sync_applies(ds: Mapping) -> bool:
    """Whether a ``DaemonSetCache`` may sync ``ds`` incrementally: no ``minReadySeconds`` (availability would
    change with the time alone) and no ``maxSurge`` (the surge walk is not kept incrementally)."""
    spec = _spec(ds)
    if int(spec.get("minReadySeconds") or 0):
        return False
    if update_strategy_type(ds) != ROLLING_UPDATE:
        return True
    rolling = (spec.get("updateStrategy") or {}).get("rollingUpdate") or {}
    surge = rolling.get("maxSurge")
    return surge is None or surge == "0%" or (type(surge) is int and surge == 0)


def _unlike(objects: Iterable[Mapping], key_of: Callable, held: Mapping, held_object: Callable) -> dict:
    """By key, the ``objects`` that are not the very object ``held`` has for their key (``held_object(entry)``),
    and ``None`` for each key ``held`` has that ``objects`` no longer lists."""
    changed: dict = {}
    listed = set()
    for obj in objects:
        key = key_of(obj)
        listed.add(key)
        entry = held.get(key)
        if entry is None or held_object(entry) is not obj:
            changed[key] = obj
    changed.update((key, None) for key in held if key not in listed)
    return changed


def _pod_key(pod: Mapping) -> tuple[str, str]:
    meta = pod.get("metadata") or {}
    return meta.get("namespace", ""), meta.get("name", "")


def _manage_state(node: NodeDecision, pods: list[PodFacts] | None):
    """Which state ``manage`` finds a node in (no surge): None when ``podsShouldBeOnNode`` has nothing to say,
    a trace summary for the settled states, ``_COMPLEX`` when it must look again in every sync."""
    if pods is None:
        return _MANAGE_CREATE if node.should_run else None
    if not node.should_continue:
        return _COMPLEX if any(not p.deleting for p in pods) else None
    running = 0
    for pod in pods:
        if pod.deleting:
            continue
        if pod.terminal:
            return _COMPLEX
        running += 1
    if running > 1:
        return _COMPLEX
    if node.should_run:
        return _MANAGE_TERMINATING if running == 0 else None
    return f"{node.reason}; the existing pod keeps running (counted as misscheduled)" if running else None


def _rolling_state(node: NodeDecision, pods: list[PodFacts] | None, hash: str, generation_text: str | None,
                   min_ready: int, now: datetime):
    """Which state the rolling update (maxSurge 0) finds a node in: None (nothing to do or count), or
    (state, old pod's hash or None, the new or old pod it is about)."""
    if pods is None:
        return (_NO_POD, None, None) if node.should_run else None
    if len(pods) == 1 and not pods[0].deleting:
        pod = pods[0]
        new, old = (pod, None) if pod.updated(hash, generation_text) else (None, pod)
    else:
        new, old, ok = split_updated_pods(pods, hash, generation_text)
        if not ok:
            return _NOT_OK, None, None
    if (old is None) == (new is None):
        return _BOTH, None, None
    if new is not None:
        return None if new.available(min_ready, now) else (_NEW_UNAVAILABLE, None, new)
    if old.available(min_ready, now):
        return _OLD_AVAILABLE, describe_hash(old), old
    return _OLD_UNAVAILABLE, describe_hash(old), old


def _node_status(node: NodeDecision, pods: list[PodFacts] | None, hash: str, generation_text: str | None,
                 min_ready: int, now: datetime) -> tuple[int, int, int, int, int, int]:
    """One node's share of ``_status_counts``: (desired, current, ready, available, updated, misscheduled)."""
    if not node.should_run:
        return (0, 0, 0, 0, 0, 1) if pods else _NO_STATUS
    if not pods:
        return 1, 0, 0, 0, 0, 0
    pod = pods[0] if len(pods) == 1 else min(pods, key=_by_sort_key)
    ready = pod.ready
    return (1, 1, int(ready), int(ready and pod.available(min_ready, now)),
            int(pod.updated(hash, generation_text)), 0)


class _DaemonSetState:
    """What one DaemonSet's syncs keep of the cluster (see the comment opening this section), valid for one
    placement, selector, and (for the per-revision parts) one current hash and template generation."""

    def __init__(self, uid: str, placement_key: str, selector_key: str):
        self.uid = uid
        self.placement_key = placement_key
        self.selector_key = selector_key
        self.token = None  # what the next changes must be relative to (``DaemonSetChanges.since``)
        self.decisions: dict[str, NodeDecision] = {}
        self.desired = 0
        #: the pods this DaemonSet controls, by (namespace, name); released: those its selector no longer selects
        self.pods: dict[tuple[str, str], PodFacts] = {}
        #: whether the selector selects a label set (the pods of a DaemonSet mostly share a few)
        self.selected: dict[frozenset, bool] = {}
        self.released: dict[tuple[str, str], PodFacts] = {}
        self.claimed: dict[tuple[str, str], PodFacts] = {}
        #: getNodesToDaemonPods of the claimed pods, each node's in (name, uid) order
        self.node_pods: dict[str, list[PodFacts]] = {}
        #: hash labels of the claimed pods with a target node, deleted terminal ones included
        self.hashes: dict[str, int] = {}
        #: nodes pods target that are not in the node list
        self.missing: set[str] = set()
        self.manage: dict[str, str] = {}
        self.manage_nodes: dict[str, list[str]] = {}
        #: (hash, generation text) the rolling states and status shares below are for (None: not computed)
        self.basis = None
        self.rolling: dict[str, tuple] = {}
        self.rolling_nodes: dict[tuple, list[str]] = {}
        self.unavailable: list[str] = []
        self.status: dict[str, tuple] = {}
        self.totals = [0] * 6

    def __len__(self) -> int:
        return len(self.decisions) + len(self.pods)

    # -- changes -------------------------------------------------------------------------------------------

    def set_node(self, name: str, decision: NodeDecision | None, dirty: set[str]) -> None:
        old = self.decisions.pop(name, None)
        if old is not None:
            self.desired -= old.should_run
        if decision is not None:
            self.decisions[name] = decision
            self.desired += decision.should_run
        dirty.add(name)

    def set_pod(self, key: tuple[str, str], facts: PodFacts | None, label_selector, dirty: set[str]) -> None:
        """Replace (or drop, when None) the pod at ``key``; the nodes whose pods changed go to ``dirty``."""
        old = self.pods.pop(key, None)
        if old is not None:
            self.released.pop(key, None)
            if self.claimed.pop(key, None) is not None and old.node is not None:
                self.hashes[old.hash_label] -= 1
                if not self.hashes[old.hash_label]:
                    del self.hashes[old.hash_label]
                on_node = self.node_pods.get(old.node)
                if on_node is not None and old in on_node:
                    on_node.remove(old)
                    if not on_node:
                        del self.node_pods[old.node]
                    dirty.add(old.node)
        if facts is None or not facts.has_controller or facts.controller_uid != self.uid:
            return
        self.pods[key] = facts
        labels = frozenset(facts.labels.items())
        selected = self.selected.get(labels)
        if selected is None:
            if len(self.selected) >= 256:
                self.selected.clear()
            selected = self.selected[labels] = label_selector.matches(facts.labels)
        if not selected:
            self.released[key] = facts
            return
        self.claimed[key] = facts
        node = facts.node
        if node is None:
            return
        self.hashes[facts.hash_label] = self.hashes.get(facts.hash_label, 0) + 1
        if facts.deleting and facts.terminal:
            return
        on_node = self.node_pods.setdefault(node, [])
        on_node.insert(bisect_right(on_node, (facts.name, facts.uid), key=_by_name_and_uid), facts)
        dirty.add(node)

    def refresh(self, names: Iterable[str]) -> None:
        """Recompute the states of ``names`` (nodes whose decision or pods changed)."""
        for name in names:
            decision = self.decisions.get(name)
            pods = self.node_pods.get(name)
            state = self.manage.pop(name, None)
            if state is not None:
                names = self.manage_nodes[state]
                _remove(names, name)
                if not names:
                    del self.manage_nodes[state]
            if decision is None:
                if pods:
                    self.missing.add(name)
                else:
                    self.missing.discard(name)
            else:
                self.missing.discard(name)
                state = _manage_state(decision, pods)
                if state is not None:
                    self.manage[name] = state
                    _insert(self.manage_nodes.setdefault(state, []), name)
            if self.basis is not None:
                self._forget_rolling(name)
                if decision is not None:
                    self._add_rolling(name, decision, pods, insert=True)

    def build_manage(self) -> None:
        self.manage.clear()
        self.manage_nodes.clear()
        self.missing = {name for name in self.node_pods if name not in self.decisions}
        for name in sorted(self.decisions):
            state = _manage_state(self.decisions[name], self.node_pods.get(name))
            if state is not None:
                self.manage[name] = state
                self.manage_nodes.setdefault(state, []).append(name)

    def set_basis(self, hash: str, generation_text: str | None) -> None:
        """Compute every node's rolling state and status share for a new current revision."""
        if self.basis == (hash, generation_text):
            return
        self.basis = (hash, generation_text)
        self.rolling.clear()
        self.rolling_nodes.clear()
        self.unavailable = []
        self.status.clear()
        self.totals = [0] * 6
        for name in sorted(self.decisions):
            self._add_rolling(name, self.decisions[name], self.node_pods.get(name), insert=False)

    def _add_rolling(self, name: str, decision: NodeDecision, pods, *, insert: bool) -> None:
        hash, generation_text = self.basis
        add = _insert if insert else list.append
        state = _rolling_state(decision, pods, hash, generation_text, 0, ZERO_TIME)
        if state is not None:
            self.rolling[name] = state
            add(self.rolling_nodes.setdefault(state[:2], []), name)
            if state[0] in _UNAVAILABLE:
                add(self.unavailable, name)
        share = _node_status(decision, pods, hash, generation_text, 0, ZERO_TIME)
        if share != _NO_STATUS:
            self.status[name] = share
            totals = self.totals
            for i, value in enumerate(share):
                totals[i] += value

    def _forget_rolling(self, name: str) -> None:
        state = self.rolling.pop(name, None)
        if state is not None:
            names = self.rolling_nodes[state[:2]]
            _remove(names, name)
            if not names:
                del self.rolling_nodes[state[:2]]
            if state[0] in _UNAVAILABLE:
                _remove(self.unavailable, name)
        share = self.status.pop(name, None)
        if share is not None:
            totals = self.totals
            for i, value in enumerate(share):
                totals[i] -= value


# --- the incremental steps ---------------------------------------------------------------------------------


def manage_incrementally(ctx: SyncContext, state: _DaemonSetState, hash: str) -> None:
    """``manage`` over the remembered states: ``pods_should_be_on_node`` for the nodes in no settled state,
    the settled ones by state."""
    node_to_pods = state.node_pods
    ctx.desired = state.desired
    ctx.missing = sorted(state.missing)
    creates: list[str] = []
    deletes: list = []

    def visit(name: str):
        def run():
            create, delete = pods_should_be_on_node(ctx, state.decisions[name], node_to_pods.get(name), hash)
            if create:
                creates.append(name)
            deletes.extend(delete)
        return run

    streams = [_Stream(summary, _View(names)) for summary, names in state.manage_nodes.items()
               if summary is not _COMPLEX and names]
    complex_nodes = state.manage_nodes.get(_COMPLEX) or ()
    _walk_notes(ctx, streams, [((0, name), visit(name)) for name in complex_nodes])
    needing = state.manage_nodes.get(_MANAGE_CREATE) or []
    creates_total = len(needing) + len(creates)
    creates = sorted(needing[:BURST_REPLICAS] + creates)[:BURST_REPLICAS]
    deletes.extend(get_unscheduled_pods_without_node(ctx, node_to_pods))
    sync_nodes(ctx, deletes, creates, hash, creates_total=creates_total)


def rolling_update_incrementally(ctx: SyncContext, state: _DaemonSetState, hash: str) -> None:
    """``rolling_update`` with ``maxSurge`` 0 over the remembered states; the nodes ``manage`` changed and the
    nodes only pods mention are looked at afresh."""
    now = ctx.now
    budget = update_budget(ctx)
    if budget is None:
        return
    max_unavailable, max_surge = budget
    node_to_pods: _ProjectedPods = ctx.node_to_pods
    hash_, generation_text = state.basis
    # the nodes seen afresh: position -> rolling state
    fresh: dict[tuple, tuple] = {}
    excluded: dict[tuple, list[str]] = {}
    excluded_unavailable = []
    for name in node_to_pods.changed:
        decision = state.decisions.get(name)
        if decision is None:
            continue
        remembered = state.rolling.get(name)
        if remembered is not None:
            excluded.setdefault(remembered[:2], []).append(name)
            if remembered[0] in _UNAVAILABLE:
                excluded_unavailable.append(name)
        found = _rolling_state(decision, node_to_pods.get(name), hash_, generation_text, ctx.min_ready, now)
        if found is not None:
            fresh[(0, name)] = found
    for name in ctx.missing:
        found = _rolling_state(NodeDecision.missing(name), node_to_pods.get(name), hash_, generation_text,
                               ctx.min_ready, now)
        if found is not None:
            fresh[(1, name)] = found

    fresh_by_key: dict[tuple, list] = {}
    fresh_unavailable = []
    for position, found in fresh.items():
        fresh_by_key.setdefault(found[:2], []).append(position)
        if found[0] in _UNAVAILABLE:
            fresh_unavailable.append(position)

    def view(key) -> _View:
        return _View(state.rolling_nodes.get(key) or [], excluded.get(key, ()), fresh_by_key.get(key, ()))

    def pod_at(position) -> PodFacts:
        found = fresh.get(position)
        return (found or state.rolling[position[1]])[2]

    unavailable = _View(state.unavailable, excluded_unavailable, fresh_unavailable)
    num_unavailable = len(unavailable)
    keys = set(state.rolling_nodes).union(fresh_by_key)
    old_hashes = sorted({h for s, h in keys if s == _OLD_AVAILABLE})
    old_available = {h: view((_OLD_AVAILABLE, h)) for h in old_hashes}
    old_unavailable = {h: view((_OLD_UNAVAILABLE, h)) for h in sorted({h for s, h in keys if s == _OLD_UNAVAILABLE})}
    # an available old pod waits in the walk once max_unavailable nodes before it are unavailable: past the
    # max_unavailable-th unavailable node (every one when the budget is 0)
    if max_unavailable <= 0:
        boundary = (-1, "")
    elif num_unavailable >= max_unavailable:
        boundary = unavailable.kth(max_unavailable - 1)
    else:
        boundary = None

    def wait(old_hash: str) -> str:
        return f"old revision {old_hash}, unavailable budget {max_unavailable} of {max_unavailable} used → wait"

    streams = [_Stream(_NOT_OK_NOTE, view((_NOT_OK, None))) if (_NOT_OK, None) in keys else None,
               _Stream(_NEW_UNAVAILABLE_NOTE, view((_NEW_UNAVAILABLE, None)),
                       detail=lambda p: lambda new=pod_at(p): f"new {describe_pod(new)} not available yet (uses the "
                                                              f"unavailable budget)")]
    for old_hash, nodes in old_unavailable.items():
        streams.append(_Stream(
            f"old revision {old_hash}, the old pod is not available → delete it (an unavailable old pod is always "
            f"replaced)", nodes,
            detail=lambda p, h=old_hash: lambda old=pod_at(p): f"old revision {h}, {describe_pod(old)} not available "
                                                               f"→ delete it (an unavailable old pod is always "
                                                               f"replaced)"))
    if boundary is not None:
        for old_hash, nodes in old_available.items():
            streams.append(_Stream(
                wait(old_hash), nodes, low=boundary,
                detail=lambda p, h=old_hash: lambda n=unavailable.rank(p): f"old revision {h}, unavailable budget "
                                                                           f"{n} of {max_unavailable} used → wait"))
    _walk_notes(ctx, streams)

    allowed = [pod_at(p) for p in heapq.merge(*(nodes.after() for nodes in old_unavailable.values()))]
    candidates_total = sum(nodes.count(None, boundary) for nodes in old_available.values())
    remaining = min(max(0, max_unavailable - num_unavailable), candidates_total)
    deleted = []
    last_deleted = None
    merged = heapq.merge(*(zip(nodes.after(None, boundary), itertools.repeat(h)) for h, nodes in old_available.items()))
    for index, (position, old_hash) in enumerate(islice(merged, remaining)):
        old = pod_at(position)
        deleted.append(old)
        last_deleted = position
        ctx.node_note(position[1], f"old revision {old_hash} → delete its pod; manage recreates it next sync",
                      lambda old=old, h=old_hash, n=num_unavailable + index + 1:
                      f"old revision {h} → delete {describe_pod(old)} (unavailable {n} of {max_unavailable}); "
                      f"manage recreates it next sync")
    _walk_notes(ctx, [_Stream(wait(old_hash), nodes, low=last_deleted, high=boundary)
                      for old_hash, nodes in old_available.items()])
    sync_nodes(ctx, allowed + deleted, [], hash)


def status_counts_incrementally(ctx: SyncContext, state: _DaemonSetState) -> dict[str, int]:
    """``status_counts`` from the remembered shares, the nodes the plan changed counted afresh."""
    totals = list(state.totals)
    hash_, generation_text = state.basis
    node_to_pods = ctx.node_to_pods
    for name in node_to_pods.changed:
        decision = state.decisions.get(name)
        if decision is None:
            continue
        for i, value in enumerate(state.status.get(name, _NO_STATUS)):
            totals[i] -= value
        share = _node_status(decision, node_to_pods.get(name), hash_, generation_text, ctx.min_ready, ctx.now)
        for i, value in enumerate(share):
            totals[i] += value
    desired, current, ready, available, updated, misscheduled = totals
    return {"currentNumberScheduled": current, "numberMisscheduled": misscheduled, "desiredNumberScheduled": desired,
            "numberReady": ready, "updatedNumberScheduled": updated, "numberAvailable": available,
            "numberUnavailable": desired - available}


# --- reading a state as the walks would: projected pods, order statistics, trace lines ---------------------


class _ProjectedPods:
    """One sync's node → pods grouping: the remembered one (never changed) with the plan's projected creates
    and deletes on top, copied per node on first change. It reads and writes like the plain dict a full sync
    uses (``SyncContext.node_to_pods``): ``get`` reads; ``[name]`` and ``setdefault`` give the node's list for
    the sync to change."""

    __slots__ = ("base", "changed")

    def __init__(self, base: Mapping[str, list[PodFacts]]):
        self.base = base
        self.changed: dict[str, list[PodFacts] | None] = {}

    def get(self, name: str, default=None):
        if name in self.changed:
            pods = self.changed[name]
            return default if pods is None else pods
        return self.base.get(name, default)

    def writable(self, name: str, create: bool) -> list[PodFacts] | None:
        """The node's pods as a list this sync may change (None when it has none and ``create`` is false)."""
        if name in self.changed:
            pods = self.changed[name]
            if pods is None and create:
                pods = self.changed[name] = []
            return pods
        pods = self.base.get(name)
        if pods is None and not create:
            return None
        pods = self.changed[name] = list(pods or ())
        return pods

    def __getitem__(self, name: str) -> list[PodFacts]:
        pods = self.writable(name, False)
        if pods is None:
            raise KeyError(name)
        return pods

    def setdefault(self, name: str, default: list) -> list[PodFacts]:
        """The node's pods as a list this sync may change; a new empty one (as ``default`` is) when it has none."""
        return self.writable(name, True)

    def __delitem__(self, name: str) -> None:
        self.changed[name] = None

    def values(self):
        names = set(self.base) | set(self.changed)
        return [pods for pods in map(self.get, names) if pods is not None]


class _View:
    """The nodes of one state in walk order, as one sync sees them: ``base`` (remembered node names, sorted)
    without ``excluded`` (nodes this sync looks at afresh), plus ``extra`` positions. A position is
    ``(0, node name)`` for a listed node and ``(1, node name)`` for a node only pods mention (walked last)."""

    __slots__ = ("base", "excluded", "extra", "skip")

    def __init__(self, base: list[str], excluded: Iterable[str] = (), extra: Iterable[tuple] = ()):
        self.base = base
        self.excluded = sorted(excluded) if excluded else ()
        self.skip = set(self.excluded) if excluded else ()
        self.extra = sorted(extra) if extra else ()

    def __len__(self) -> int:
        return len(self.base) - len(self.excluded) + len(self.extra)

    def rank(self, position, *, inclusive: bool = False) -> int:
        """How many nodes stand before ``position`` (or at it too, when ``inclusive``); None: none."""
        if position is None:
            return 0
        find = bisect_right if inclusive else bisect_left
        section, name = position
        if section == 0:
            before = find(self.base, name) - find(self.excluded, name)
        else:
            before = 0 if section < 0 else len(self.base) - len(self.excluded)
        return before + find(self.extra, position)

    def kth(self, k: int):
        """The position of the ``k``-th node (from 0), None past the end."""
        if k < 0 or k >= len(self):
            return None
        extras_before = 0
        for position in self.extra:
            at = self.rank(position)  # nodes before it, extras included
            if at == k:
                return position
            if at > k:
                break
            extras_before += 1
        index = k - extras_before  # the index-th base node that is not excluded
        for name in self.excluded:
            if bisect_left(self.base, name) <= index:
                index += 1
            else:
                break
        return 0, self.base[index]

    def after(self, low=None, high=None) -> Iterator[tuple]:
        """The positions strictly between ``low`` and ``high`` (None: no bound), in walk order."""
        base, extra, skip = self.base, self.extra, self.skip
        if not extra and not skip and high is None:  # a plain slice of the remembered names
            start = 0 if low is None else self.rank(low, inclusive=True)
            for index in range(start, len(base)):
                yield 0, base[index]
            return
        if low is None:
            i, j = 0, 0
        else:
            i = bisect_right(base, low[1]) if low[0] == 0 else (0 if low[0] < 0 else len(base))
            j = bisect_right(extra, low)
        nb, ne = len(base), len(extra)
        while True:
            while i < nb and base[i] in skip:
                i += 1
            b = (0, base[i]) if i < nb else None
            e = extra[j] if j < ne else None
            if e is None or (b is not None and b < e):
                if b is None or (high is not None and b >= high):
                    return
                yield b
                i += 1
            else:
                if high is not None and e >= high:
                    return
                yield e
                j += 1

    def count(self, low=None, high=None) -> int:
        """How many positions lie strictly between ``low`` and ``high``."""
        top = len(self) if high is None else self.rank(high)
        return max(top - self.rank(low, inclusive=True), 0)

    def last(self, low=None, high=None):
        """The last position strictly between ``low`` and ``high`` (None when there is none)."""
        if not self.count(low, high):
            return None
        return self.kth((len(self) if high is None else self.rank(high)) - 1)


class _Stream:
    """Trace lines of one kind, about the nodes of a ``_View`` between two positions; ``detail(position)``
    gives a line's detail (None: the summary alone)."""

    __slots__ = ("summary", "view", "low", "high", "detail")

    def __init__(self, summary: str, view: _View, low=None, high=None, detail=None):
        self.summary, self.view, self.low, self.high, self.detail = summary, view, low, high, detail


def _walk_notes(ctx: SyncContext, streams: Iterable[_Stream], visits: Iterable[tuple] = ()) -> None:
    """Add one step's per-node trace lines as its walk over every node would, without the walk: the first
    ``NOTE_LIMIT`` nodes of each stream and every ``visits`` (position, function) node, in walk order, then only
    how many more each stream has and its last node (unless a visit later in the walk wrote a line of its kind)."""
    lines = ctx.decisions
    items = []
    visits = list(visits)
    tails = []
    streams = [stream for stream in streams if stream is not None and len(stream.view)]
    for index, stream in enumerate(streams):
        view, low, high = stream.view, stream.low, stream.high
        end = len(view) if high is None else view.rank(high)
        total = end - view.rank(low, inclusive=True)
        if total <= 0:
            continue
        heads = list(islice(view.after(low, high), NOTE_LIMIT))
        items.extend((position, index) for position in heads)
        if total > len(heads):
            tails.append((stream.summary, total - len(heads), view.kth(end - 1)))
    items.extend((position, -1 - index) for index, (position, _) in enumerate(visits))
    items.sort()
    folded = [summary for summary, _, _ in tails]
    latest: dict[str, tuple] = {}  # summary -> where in this walk the last line of that kind was written
    for position, index in items:
        if index < 0:
            before = [lines.count(summary) for summary in folded]
            visits[-1 - index][1]()
            for summary, count in zip(folded, before):
                if lines.count(summary) != count:
                    latest[summary] = position
            continue
        stream = streams[index]
        detail = stream.detail(position) if stream.detail is not None else None
        ctx.node_note(position[1], stream.summary, detail)
        latest[stream.summary] = position
    for summary, rest, last in tails:
        written = latest.get(summary)
        if written is None or last > written:
            latest[summary] = last
            lines.fold(summary, rest, last[1])
        else:
            lines.fold(summary, rest, None)


# --- small helpers -----------------------------------------------------------------------------------------


def _insert(names: list[str], name: str) -> None:
    index = bisect_left(names, name)
    if index == len(names) or names[index] != name:
        names.insert(index, name)


def _remove(names: list[str], name: str) -> None:
    index = bisect_left(names, name)
    if index < len(names) and names[index] == name:
        del names[index]


def _selector_key(selector) -> str:
    """A selector as text: equal selectors, equal texts (``DaemonSetCache.selector`` remembers by it)."""
    return json.dumps(selector, sort_keys=True, separators=(",", ":"), default=str)


def _spec_key(ds: Mapping) -> tuple | None:
    """What names a stored DaemonSet's spec: its uid and ``metadata.generation``, which the API server raises
    with every spec change (None for a DaemonSet without a resourceVersion, which may be changed in place)."""
    meta = _meta(ds)
    if not meta.get("resourceVersion") or meta.get("generation") is None:
        return None
    return meta.get("uid") or "", meta["generation"]


class _Listing:
    """A list read from the informer cache only when iterated: a sync told its changes reads the full lists
    only when its ``DaemonSetCache`` has to start afresh."""

    __slots__ = ("read", "args")

    def __init__(self, read, *args):
        self.read = read
        self.args = args

    def __iter__(self):
        return iter(self.read(*self.args))


_by_sort_key = attrgetter("sort_key")
_by_name_and_uid = attrgetter("name", "uid")
