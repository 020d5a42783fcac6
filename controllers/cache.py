"""The engine's informer cache: every object of the cluster, indexed the way controllers look them up.

Fed only by store changes (``apply_change``), in resourceVersion order; an older version of an object never
replaces a newer one. Objects handed out are the cached dicts themselves: controllers must not mutate them
(sample-controller: "NEVER modify objects from the store").
"""

from __future__ import annotations

from collections import defaultdict


def key_of(obj: dict) -> tuple[str, str]:
    meta = obj["metadata"]
    return meta.get("namespace", ""), meta["name"]


def _finished(pod: dict) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def _unfinished_on(pod: dict) -> str | None:
    """The node whose unfinished pods include ``pod``, if any."""
    node = (pod.get("spec") or {}).get("nodeName")
    return node if node and not _finished(pod) else None


def _settled(pod: dict) -> bool:
    """A finished pod no controller has anything left to do with: no finalizer, not being deleted."""
    return _finished(pod) and not pod["metadata"].get("finalizers") and not pod["metadata"].get("deletionTimestamp")


def controller_uid(obj: dict) -> str | None:
    for ref in obj["metadata"].get("ownerReferences") or ():
        if ref.get("controller"):
            return ref.get("uid")
    return None


class Cache:
    def __init__(self):
        self._objects: dict[str, dict[tuple[str, str], dict]] = defaultdict(dict)
        self._by_uid: dict[str, tuple[str, tuple[str, str]]] = {}
        self._owned: dict[str, set[tuple[str, tuple[str, str]]]] = defaultdict(set)
        # owned pods that are not settled (see owned_pods_in_play)
        self._owned_in_play: dict[str, set[tuple[str, str]]] = defaultdict(set)
        self._on_node: dict[str, set[tuple[str, str]]] = defaultdict(set)
        # the same, without pods that have finished (what the scheduler counts against a node)
        self._running_on_node: dict[str, set[tuple[str, str]]] = defaultdict(set)
        # bumped whenever a node's set of unfinished pods changes (upstream's NodeInfo.Generation)
        self._node_generation: dict[str, int] = defaultdict(int)
        # per kind, the keys in list order; dropped when a key comes or goes
        self._sorted_keys: dict[str, list[tuple[str, str]]] = {}
        self._generation = 0

    # -- reads -----------------------------------------------------------------------------------------

    def get(self, kind: str, namespace: str, name: str) -> dict | None:
        return self._objects[kind].get((namespace, name))

    def list(self, kind: str) -> list[dict]:
        """Objects of ``kind`` sorted by namespace and name (a stable order keeps runs reproducible)."""
        objects = self._objects[kind]
        keys = self._sorted_keys.get(kind)
        if keys is None:
            keys = self._sorted_keys[kind] = sorted(objects)
        return [objects[k] for k in keys]

    def count(self, kind: str) -> int:
        return len(self._objects[kind])

    def by_uid(self, uid: str) -> tuple[str, dict] | None:
        found = self._by_uid.get(uid)
        if found is None:
            return None
        kind, key = found
        return kind, self._objects[kind][key]

    def owned_by(self, uid: str, kind: str | None = None) -> list[dict]:
        """Objects whose controller reference names ``uid``, sorted by namespace and name."""
        found = sorted(entry for entry in self._owned.get(uid, ()) if kind is None or entry[0] == kind)
        return [self._objects[k][key] for k, key in found]

    def owned_pods_in_play(self, uid: str) -> list[dict]:
        """Pods controlled by ``uid`` leaving out the settled ones (finished, without finalizers, not being
        deleted), sorted by namespace and name. A Job controller counts settled pods from its status alone, so a
        Job of 100,000 completions syncs over its running pods, not over every pod it ever ran."""
        pods = self._objects["Pod"]
        return [pods[key] for key in sorted(self._owned_in_play.get(uid, ()))]

    def pods_on_node(self, node: str) -> list[dict]:
        pods = self._objects["Pod"]
        return [pods[k] for k in sorted(self._on_node.get(node, ()))]

    def unfinished_pods_on_node(self, node: str) -> list[dict]:
        """Pods bound to ``node`` that are not Succeeded or Failed."""
        pods = self._objects["Pod"]
        return [pods[k] for k in sorted(self._running_on_node.get(node, ()))]

    def node_generation(self, node: str) -> int:
        """A number that changes whenever a pod joins or leaves ``unfinished_pods_on_node(node)`` (a pod's
        other changes leave it alone): what a scheduler keys its per-node bookkeeping on."""
        return self._node_generation[node]

    # -- writes ----------------------------------------------------------------------------------------

    def apply_change(self, change_type: str, kind: str, obj: dict) -> dict | None:
        """Record a change; answers the previous version (None when new). Stale changes are ignored."""
        key = key_of(obj)
        old = self._objects[kind].get(key)
        rv = int(obj["metadata"].get("resourceVersion") or 0)
        if old is not None and int(old["metadata"].get("resourceVersion") or 0) > rv:
            return old
        if old is not None:
            self._unindex(kind, key, old)
        if change_type == "DELETED":
            if self._objects[kind].pop(key, None) is not None:
                self._sorted_keys.pop(kind, None)
            if kind == "Pod" and old is not None:
                self._count_node_change(_unfinished_on(old), None)
            return old
        if old is None:
            self._sorted_keys.pop(kind, None)
        self._objects[kind][key] = obj
        self._index(kind, key, obj)
        if kind == "Pod":
            self._count_node_change(_unfinished_on(old) if old is not None else None, _unfinished_on(obj))
        return old

    def _count_node_change(self, before: str | None, after: str | None) -> None:
        if before == after:
            return
        for node in (before, after):
            if node:
                self._generation += 1
                self._node_generation[node] = self._generation

    def _index(self, kind, key, obj):
        uid = obj["metadata"].get("uid")
        if uid:
            self._by_uid[uid] = (kind, key)
        owner = controller_uid(obj)
        if owner:
            self._owned[owner].add((kind, key))
            if kind == "Pod" and not _settled(obj):
                self._owned_in_play[owner].add(key)
        if kind == "Pod":
            node = (obj.get("spec") or {}).get("nodeName")
            if node:
                self._on_node[node].add(key)
                if not _finished(obj):
                    self._running_on_node[node].add(key)

    def _unindex(self, kind, key, obj):
        uid = obj["metadata"].get("uid")
        if uid and self._by_uid.get(uid) == (kind, key):
            del self._by_uid[uid]
        owner = controller_uid(obj)
        if owner:
            owned = self._owned.get(owner)
            if owned is not None:
                owned.discard((kind, key))
                if not owned:
                    del self._owned[owner]
            in_play = self._owned_in_play.get(owner) if kind == "Pod" else None
            if in_play is not None:
                in_play.discard(key)
                if not in_play:
                    del self._owned_in_play[owner]
        if kind == "Pod":
            node = (obj.get("spec") or {}).get("nodeName")
            for index in (self._on_node, self._running_on_node):
                if node and node in index:
                    index[node].discard(key)
                    if not index[node]:
                        del index[node]
