"""The database storage under the engine host: publishing once per transaction, and answering the engine's
``changes_since`` from its own log while it is the only writer."""

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from apiserver.kinds import resource_for_kind
from kubeviz.store import events
from kubeviz.store.services import registry_for
from kubeviz.store.storage import DatabaseStorage

POD = resource_for_kind("", "Pod")


def pod(name):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]}}


def names(changes):
    return [c.object["metadata"]["name"] for c in changes]


@pytest.fixture
def listener(cluster):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(events.cluster_group(cluster.name), channel)

    def queued():
        queue = layer.channels.get(channel)
        return queue.qsize() if queue is not None else 0

    def received(count):
        return [async_to_sync(layer.receive)(channel) for _ in range(count)]

    yield queued, received
    # the in-memory layer outlives the test: a channel left in the group would count as a live stream's
    async_to_sync(layer.group_discard)(events.cluster_group(cluster.name), channel)


# Real commits: on_commit hooks run only when the outermost transaction commits.
@pytest.mark.django_db(transaction=True)
def test_what_a_transaction_publishes_goes_out_once_it_commits_in_order(cluster, listener):
    queued, received = listener
    registry = registry_for(cluster)
    with events.collected():
        with transaction.atomic():
            for name in ("a", "b", "c"):
                registry.create(POD, "default", pod(name))
        assert queued() == 0  # committed, but held until the block ends
    messages = received(3)
    assert [m["object"]["metadata"]["name"] for m in messages] == ["a", "b", "c"]
    assert [m["type"] for m in messages] == ["object.changed"] * 3


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_publishes_nothing(cluster, listener):
    queued, _ = listener
    registry = registry_for(cluster)
    with pytest.raises(RuntimeError):
        with events.collected(), transaction.atomic():
            registry.create(POD, "default", pod("lost"))
            raise RuntimeError("the instant failed")
    assert queued() == 0
    assert registry.storage.get(POD, "default", "lost") is None


def test_the_sole_writer_answers_from_its_log_once_the_database_has_answered(cluster, django_assert_num_queries):
    from apiserver.registry import Registry

    engine_side = Registry(DatabaseStorage(cluster))
    storage = engine_side.storage
    start = storage.current_resource_version()
    registry_for(cluster).create(POD, "default", pod("by-someone-else"))  # after the engine last looked
    with transaction.atomic(), storage.sole_writer():
        with django_assert_num_queries(0):
            assert names(storage.changes_since(start + 1)) == []  # the lock's resourceVersion: nothing since
        assert names(storage.changes_since(start)) == ["by-someone-else"]  # asked the database
        engine_side.create(POD, "default", pod("first"))
        with django_assert_num_queries(0):
            assert names(storage.changes_since(start + 1)) == ["first"]
        assert names(storage.changes_since(start)) == ["by-someone-else", "first"]  # from before the log: asked
        engine_side.create(POD, "default", pod("second"))
        engine_side.create(POD, "default", pod("third"))
        seen = storage.current_resource_version() - 2
        with django_assert_num_queries(0):
            assert names(storage.changes_since(seen)) == ["second", "third"]
            assert names(storage.changes_since(seen + 2)) == []
    # outside the block the database answers again, and has the same story
    assert names(storage.changes_since(seen)) == ["second", "third"]


def test_without_sole_writer_every_question_goes_to_the_database(cluster):
    storage = DatabaseStorage(cluster)
    engine_side = registry_for(cluster)
    engine_side.storage = storage
    start = storage.current_resource_version()
    engine_side.create(POD, "default", pod("mine"))
    registry_for(cluster).create(POD, "default", pod("theirs"))
    assert names(storage.changes_since(start)) == ["mine", "theirs"]


def test_the_sole_writer_remembers_what_it_read_and_wrote(cluster, django_assert_num_queries):
    from apiserver.registry import Registry
    from apiserver.storage import KeyNotFound, VersionConflict

    engine_side = Registry(DatabaseStorage(cluster))
    storage = engine_side.storage
    with transaction.atomic(), storage.sole_writer():
        created = engine_side.create(POD, "default", pod("kept")).object
        with django_assert_num_queries(0):
            assert storage.get(POD, "default", "kept") is created
            assert storage.get(POD, "default", "kept") is created
        with pytest.raises(VersionConflict):
            storage.update(POD, dict(created), "1")
        updated = storage.update(POD, dict(created, status={"phase": "Running"}),
                                 created["metadata"]["resourceVersion"])
        assert storage.get(POD, "default", "kept")["status"] == {"phase": "Running"}
        storage.delete(POD, "default", "kept")
        with django_assert_num_queries(0):
            assert storage.get(POD, "default", "kept") is None
        with pytest.raises(KeyNotFound):
            storage.update(POD, updated, updated["metadata"]["resourceVersion"])
    assert storage.get(POD, "default", "kept") is None  # and the database agrees


def test_the_sole_writer_counts_resource_versions_in_memory_and_saves_the_last_one(cluster):
    from apiserver.registry import Registry
    from kubeviz.store.models import Cluster

    engine_side = Registry(DatabaseStorage(cluster))
    storage = engine_side.storage
    start = storage.current_resource_version()
    with transaction.atomic(), storage.sole_writer():
        for name in ("a", "b", "c"):
            engine_side.create(POD, "default", pod(name))
        assert storage.list(POD)[1] == str(start + 3)
    assert Cluster.objects.get(pk=cluster.pk).resource_version == start + 3
    # the next writer, anywhere, carries on from there
    assert registry_for(Cluster.objects.get(pk=cluster.pk)).create(POD, "default", pod("d")).object[
        "metadata"]["resourceVersion"] == str(start + 4)


def test_the_sole_writer_sends_its_history_rows_in_one_batch_before_anything_reads_the_history(cluster):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apiserver.registry import Registry
    from kubeviz.store.models import Change

    engine_side = Registry(DatabaseStorage(cluster))
    storage = engine_side.storage
    start = storage.current_resource_version()
    with CaptureQueriesContext(connection) as queries:
        with transaction.atomic(), storage.sole_writer():
            for name in ("a", "b", "c"):
                engine_side.create(POD, "default", pod(name))
            # a read of the history from before the lock's version goes to the database, which has them all
            assert names(storage.changes_since(start - 1))[1:] == ["a", "b", "c"]
            engine_side.create(POD, "default", pod("d"))
            engine_side.create(POD, "default", pod("e"))
    into = f'INSERT INTO "{Change._meta.db_table}"'
    history = [q["sql"] for q in queries.captured_queries if into in q["sql"]]
    assert len(history) == 2  # a, b and c together before the read; d and e together as the block ended
    assert list(Change.objects.filter(cluster=cluster, resource_version__gt=start).order_by("resource_version")
                .values_list("name", flat=True)) == ["a", "b", "c", "d", "e"]


def test_a_failed_sole_writer_block_saves_nothing(cluster):
    from apiserver.registry import Registry
    from kubeviz.store.models import Cluster

    storage = DatabaseStorage(cluster)
    start = storage.current_resource_version()
    with pytest.raises(RuntimeError):
        with transaction.atomic(), storage.sole_writer():
            Registry(storage).create(POD, "default", pod("a"))
            Registry(storage).create(POD, "default", pod("b"))
            raise RuntimeError("the instant failed")
    assert Cluster.objects.get(pk=cluster.pk).resource_version == start
    assert DatabaseStorage(Cluster.objects.get(pk=cluster.pk)).get(POD, "default", "a") is None


@pytest.mark.django_db(transaction=True)
def test_a_refused_create_while_holding_the_lock_leaves_the_transaction_usable(cluster):
    from apiserver.registry import Registry
    from apiserver.storage import KeyExists

    registry_for(cluster).create(POD, "default", pod("taken"))
    engine_side = Registry(DatabaseStorage(cluster))
    storage = engine_side.storage
    with transaction.atomic(), storage.sole_writer():
        engine_side.create(POD, "default", pod("first"))  # the lock is held from here
        with pytest.raises(KeyExists):
            storage.create(POD, dict(pod("taken"), metadata={"name": "taken", "namespace": "default"}))
        engine_side.create(POD, "default", pod("after"))
    stored = DatabaseStorage(cluster)
    assert [stored.get(POD, "default", n) is not None for n in ("taken", "first", "after")] == [True] * 3
    assert stored.get(POD, "default", "taken")["metadata"]["uid"] != ""


@pytest.mark.django_db(transaction=True)
def test_other_connections_writes_wait_for_the_sole_writers_transaction(cluster):
    """The lock sole_writer() takes as it begins, seen from a second connection (PostgreSQL: the cluster row;
    the SQLite test database is shared in-memory, whose locks refuse instead of waiting)."""
    import threading
    import time

    from django.db import connection

    from apiserver.registry import Registry
    from kubeviz.store.models import Cluster

    if connection.vendor != "postgresql":
        pytest.skip("runs on PostgreSQL (make test runs the store tests there too)")
    engine_side = Registry(DatabaseStorage(cluster))
    storage = engine_side.storage
    start = Cluster.objects.get(pk=cluster.pk).resource_version
    inside, done = threading.Event(), []

    def other_writer():
        inside.wait(10)
        try:
            registry_for(Cluster.objects.get(pk=cluster.pk)).create(POD, "default", pod("theirs"))
            done.append("theirs")
        finally:
            connection.close()

    thread = threading.Thread(target=other_writer)
    thread.start()
    with transaction.atomic(), storage.sole_writer():
        inside.set()
        time.sleep(0.5)  # time enough for the other writer to get ahead, were it not waiting
        engine_side.create(POD, "default", pod("mine"))
        done.append("mine")
    thread.join(10)
    assert done == ["mine", "theirs"]
    after = DatabaseStorage(Cluster.objects.get(pk=cluster.pk)).changes_since(start)
    assert [(c.object["metadata"]["name"], c.object["metadata"]["resourceVersion"]) for c in after] == [
        ("mine", str(start + 1)), ("theirs", str(start + 2))]
