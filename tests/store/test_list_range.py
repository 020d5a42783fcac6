"""The database storage's read of objects as they were at a resourceVersion, and its etcd-like compaction."""

import pytest

from apiserver.registry import POD
from apiserver.storage import FutureRevision, HistoryCompacted
from kubeviz.store.models import Change, Cluster
from kubeviz.store.storage import DatabaseStorage


def pod(name, **labels):
    return {"metadata": {"name": name, "labels": labels}, "spec": {"containers": [{"name": "c", "image": "i"}]}}


def relabel(registry, name, **labels):
    current = registry.get(POD, "default", name)
    return registry.update(POD, "default", name, {**current, "metadata": {**current["metadata"], "labels": labels}})


def listed(found):
    return [(o["metadata"]["name"], o["metadata"]["labels"], o["metadata"]["resourceVersion"]) for o in found.objects]


def state(registry, name):
    obj = registry.get(POD, "default", name)
    return name, obj["metadata"]["labels"], obj["metadata"]["resourceVersion"]


def test_objects_as_they_were_at_a_revision(registry):
    for name in ("a", "b", "c", "d"):
        registry.create(POD, "default", pod(name, v="1"))
    before = [state(registry, name) for name in ("a", "b", "c", "d")]
    at = registry.storage.current_resource_version()
    relabel(registry, "b", v="2")
    relabel(registry, "b", v="3")
    registry.delete(POD, "default", "c")
    registry.create(POD, "default", pod("bb"))
    registry.delete(POD, "default", "d")
    registry.create(POD, "default", pod("d", v="new"))
    storage = DatabaseStorage(Cluster.objects.get(pk=registry.storage.cluster.pk))
    found = storage.list_range(POD, "default", revision=at)
    assert (found.revision, found.count) == (at, 4)
    assert listed(found) == before
    later = storage.list_range(POD, "default", start="/default/b\x00", revision=at, size_hint=1)
    assert (later.count, listed(later)) == (2, before[2:])
    newest = storage.list_range(POD, "default")
    assert [o["metadata"]["name"] for o in newest.objects] == ["a", "b", "bb", "d"]
    assert newest.revision == registry.storage.current_resource_version()
    with pytest.raises(FutureRevision):
        storage.list_range(POD, "default", revision=newest.revision + 1)


def test_a_row_changed_while_the_range_is_read_is_read_from_the_history(registry):
    for name in ("a", "b", "c"):
        registry.create(POD, "default", pod(name, v="1"))
    before = [state(registry, name) for name in ("a", "b", "c")]
    found = registry.storage.list_range(POD, "default", size_hint=1)
    assert listed_first(found) == before[0]
    relabel(registry, "b", v="2")  # after the keys were read, before the objects
    registry.delete(POD, "default", "c")
    assert [(o["metadata"]["name"], o["metadata"]["labels"], o["metadata"]["resourceVersion"])
            for o in found.objects] == before[1:]


def listed_first(found):
    obj = next(found.objects)
    return obj["metadata"]["name"], obj["metadata"]["labels"], obj["metadata"]["resourceVersion"]


def test_compaction_keeps_what_etcd_keeps(registry):
    storage = registry.storage
    registry.create(POD, "default", pod("kept", v="1"))
    registry.create(POD, "default", pod("changed", v="1"))
    relabel(registry, "changed", v="2")
    registry.create(POD, "default", pod("gone"))
    registry.delete(POD, "default", "gone")
    at = storage.current_resource_version()
    relabel(registry, "changed", v="3")
    before = {(c.kind, c.name, c.type) for c in Change.objects.filter(cluster=storage.cluster, kind="Pod")}
    storage.compact(at)
    after = {(c.kind, c.name, c.type) for c in Change.objects.filter(cluster=storage.cluster, kind="Pod")}
    # the last version of each object at the compaction, and everything after it; no deletion, nothing replaced
    assert before - after == {("Pod", "changed", "ADDED"), ("Pod", "gone", "ADDED"), ("Pod", "gone", "DELETED")}
    assert Cluster.objects.get(pk=storage.cluster.pk).compacted_version == at
    found = storage.list_range(POD, "default", revision=at)
    assert [(o["metadata"]["name"], o["metadata"]["labels"]) for o in found.objects] == [
        ("changed", {"v": "2"}), ("kept", {"v": "1"})]
    with pytest.raises(HistoryCompacted):
        storage.list_range(POD, "default", revision=at - 1)
    with pytest.raises(HistoryCompacted):
        storage.changes_since(at - 1)
    assert [(e.type, e.object["metadata"]["name"]) for e in storage.changes_since(at)] == [("MODIFIED", "changed")]


def test_an_object_whose_history_is_gone_cannot_be_read_at_an_older_revision(registry):
    """A history compacted before the store kept each object's last version (an older database): the state
    then is unknown, which is a 410, not a silently wrong answer."""
    storage = registry.storage
    registry.create(POD, "default", pod("a", v="1"))
    at = storage.current_resource_version()
    Change.objects.filter(cluster=storage.cluster, resource_version__lte=at).delete()
    relabel(registry, "a", v="2")
    with pytest.raises(HistoryCompacted):
        list(storage.list_range(POD, "default", revision=at).objects)
