"""The engine's informer cache: every object of the cluster, indexed the way controllers look them up.

Fed only by watch events (``apply_change``), in resourceVersion order; an older version of an object never
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


def _settled(pod: dict) -> bool:
    """A finished pod no controller has anything left to do with: no finalizer, not being deleted."""
    return _finished(pod) and not pod["metadata"].get("finalizers") and not pod["metadata"].get("deletionTimestamp")


def controller_uid(obj: dict) -> str | None:
    for ref in obj["metadata"].get("ownerReferences") or ():
        if ref.get("controller"):
            return ref.get("uid")
    return None


# The secondary indexes: name -> (index key -> members); members are object keys (of pods but for "owned").
OWNED = "owned"  # by (controller uid, kind): every object of that kind it controls
IN_PLAY = "in-play"  # by controller uid: its pods that are not settled
ON_NODE = "on-node"  # by node name: pods bound to it
UNFINISHED = "unfinished"  # by node name: pods bound to it that have not finished
IN_NAMESPACE = "in-namespace"  # by (kind, namespace): every object of that kind in it
UNFINISHED_IN_NAMESPACE = "unfinished-in-namespace"  # by namespace: its pods that have not finished


def _memberships(kind: str, key: tuple[str, str], obj: dict) -> set[tuple[str, str, object]]:
    """The (index, index key, member) entries an object version belongs to."""
    found = {(IN_NAMESPACE, (kind, key[0]), key)}
    owner = controller_uid(obj)
    if owner:
        found.add((OWNED, (owner, kind), key))
        if kind == "Pod" and not _settled(obj):
            found.add((IN_PLAY, owner, key))
    if kind == "Pod":
        if not _finished(obj):
            found.add((UNFINISHED_IN_NAMESPACE, key[0], key))
        node = (obj.get("spec") or {}).get("nodeName")
        if node:
            found.add((ON_NODE, node, key))
            if not _finished(obj):
                found.add((UNFINISHED, node, key))
    return found


class Cache:
    def __init__(self):
        self._objects: dict[str, dict[tuple[str, str], dict]] = defaultdict(dict)
        self._by_uid: dict[str, tuple[str, tuple[str, str]]] = {}
        self._indexes: dict[str, dict[str, set]] = {
            name: defaultdict(set) for name in (OWNED, IN_PLAY, ON_NODE, UNFINISHED, IN_NAMESPACE,
                                                UNFINISHED_IN_NAMESPACE)}
        # Members in sorted order, per ("kind", kind) or (index, index key); dropped when a member comes or goes,
        # so a list is sorted once per change of its membership, not once per read.
        self._order: dict[tuple[str, object], list] = {}
        # node name -> the generation of its last change (its Node object, or a pod joining or leaving its
        # unfinished pods: upstream's NodeInfo.Generation), kept in the order of those changes so that a scheduler
        # walks only the nodes that changed since it last looked (upstream's UpdateSnapshot)
        self._node_changes: dict[str, int] = {}
        self._generation = 0

    # -- reads -----------------------------------------------------------------------------------------

    def get(self, kind: str, namespace: str, name: str) -> dict | None:
        return self._objects[kind].get((namespace, name))

    def list(self, kind: str) -> list[dict]:
        """Objects of ``kind`` sorted by namespace and name (a stable order keeps runs reproducible)."""
        objects = self._objects[kind]
        return [objects[k] for k in self._ordered(("kind", kind), objects)]

    def count(self, kind: str) -> int:
        return len(self._objects[kind])

    def by_uid(self, uid: str) -> tuple[str, dict] | None:
        found = self._by_uid.get(uid)
        if found is None:
            return None
        kind, key = found
        return kind, self._objects[kind][key]

    def owned_by(self, uid: str, kind: str | None = None) -> list[dict]:
        """Objects whose controller reference names ``uid``, sorted by kind, namespace and name."""
        kinds = [kind] if kind is not None else sorted(self._objects)
        owned = self._indexes[OWNED]
        found = []
        for k in kinds:
            members = owned.get((uid, k))
            if members:
                objects = self._objects[k]
                found.extend(objects[key] for key in self._ordered((OWNED, (uid, k)), members))
        return found

    def owned_pods_in_play(self, uid: str) -> list[dict]:
        """Pods controlled by ``uid`` leaving out the settled ones (finished, without finalizers, not being
        deleted), sorted by namespace and name. A Job controller counts settled pods from its status alone, so a
        Job of 100,000 completions syncs over its running pods, not over every pod it ever ran."""
        return self._pods(IN_PLAY, uid)

    def pods_on_node(self, node: str) -> list[dict]:
        return self._pods(ON_NODE, node)

    def unfinished_pods_on_node(self, node: str) -> list[dict]:
        """Pods bound to ``node`` that are not Succeeded or Failed."""
        return self._pods(UNFINISHED, node)

    def list_in_namespace(self, kind: str, namespace: str) -> list[dict]:
        """Objects of ``kind`` in ``namespace``, sorted by name."""
        objects = self._objects[kind]
        index_key = (kind, namespace)
        return [objects[k] for k in self._ordered((IN_NAMESPACE, index_key),
                                                  self._indexes[IN_NAMESPACE].get(index_key, ()))]

    def count_in_namespace(self, kind: str, namespace: str) -> int:
        return len(self._indexes[IN_NAMESPACE].get((kind, namespace), ()))

    def unfinished_pods_in_namespace(self, namespace: str) -> list[dict]:
        """Pods of ``namespace`` that are not Succeeded or Failed, sorted by name (what quota charges compute
        resources for)."""
        return self._pods(UNFINISHED_IN_NAMESPACE, namespace)

    def node_generation(self, node: str) -> int:
        """A number that changes whenever the Node object changes or a pod joins or leaves
        ``unfinished_pods_on_node(node)`` (a pod's other changes leave it alone)."""
        return self._node_changes.get(node, 0)

    @property
    def node_changes_generation(self) -> int:
        """The generation of the latest node change (what :meth:`nodes_changed_since` answers first)."""
        return self._generation

    def nodes_changed_since(self, generation: int) -> tuple[int, list[str]]:
        """The current node generation and the names of the nodes (deleted ones included) whose
        :meth:`node_generation` is past ``generation``, most recent first: what a scheduler keys its per-node
        bookkeeping on."""
        changed = []
        for name, at in reversed(self._node_changes.items()):
            if at <= generation:
                break
            changed.append(name)
        return self._generation, changed

    def _pods(self, index: str, index_key: str) -> list[dict]:
        pods = self._objects["Pod"]
        return [pods[k] for k in self._ordered((index, index_key), self._indexes[index].get(index_key, ()))]

    def _ordered(self, name: tuple[str, object], members) -> list:
        found = self._order.get(name)
        if found is None:
            found = self._order[name] = sorted(members)
        return found

    # -- writes ----------------------------------------------------------------------------------------

    def apply_change(self, change_type: str, kind: str, obj: dict) -> dict | None:
        """Record a change; answers the previous version (None when new). Stale changes are ignored."""
        key = key_of(obj)
        objects = self._objects[kind]
        old = objects.get(key)
        rv = int(obj["metadata"].get("resourceVersion") or 0)
        if old is not None and int(old["metadata"].get("resourceVersion") or 0) > rv:
            return old
        before = _memberships(kind, key, old) if old is not None else set()
        if old is not None:
            uid = old["metadata"].get("uid")
            if uid and self._by_uid.get(uid) == (kind, key):
                del self._by_uid[uid]
        if change_type == "DELETED":
            after: set = set()
            if objects.pop(key, None) is not None:
                self._order.pop(("kind", kind), None)
        else:
            after = _memberships(kind, key, obj)
            if old is None:
                self._order.pop(("kind", kind), None)
            objects[key] = obj
            uid = obj["metadata"].get("uid")
            if uid:
                self._by_uid[uid] = (kind, key)
        if kind == "Node":
            self._node_changed(key[1])
        # Only what changed membership touches the indexes: a pod's status update usually changes nothing.
        for index, index_key, member in before - after:
            members = self._indexes[index][index_key]
            members.discard(member)
            if not members:
                del self._indexes[index][index_key]
            self._moved(index, index_key)
        for index, index_key, member in after - before:
            self._indexes[index][index_key].add(member)
            self._moved(index, index_key)
        return old

    def _moved(self, index: str, index_key: str) -> None:
        self._order.pop((index, index_key), None)
        if index == UNFINISHED:
            self._node_changed(index_key)

    def _node_changed(self, name: str) -> None:
        self._generation += 1
        self._node_changes.pop(name, None)  # to the end: the order stays that of the changes
        self._node_changes[name] = self._generation
