"""A list is the state at the resourceVersion it answers, even while another connection commits writes: every
object it holds is at or before that version, and every object that existed then is in it (a watch started from
it then misses nothing and repeats nothing)."""

import threading

import pytest
from django.db import connection, connections

from apiserver.kinds import resource_for_kind
from kubeviz.store.models import Change
from kubeviz.store.services import registry_for

pytestmark = pytest.mark.django_db(transaction=True)

LEASES = resource_for_kind("coordination.k8s.io", "Lease")


def lease(name: str) -> dict:
    return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": name, "namespace": "default"}, "spec": {"holderIdentity": name}}


def names_at(cluster, rv: int) -> set[str]:
    """The Leases of ``default`` that existed at ``rv``, from the history."""
    alive = {}
    for name, type_ in Change.objects.filter(cluster=cluster, api_group="coordination.k8s.io", kind="Lease",
                                             namespace="default", resource_version__lte=rv) \
            .order_by("resource_version").values_list("name", "type"):
        alive[name] = type_ != "DELETED"
    return {name for name, present in alive.items() if present}


def test_a_list_taken_while_another_connection_writes_is_the_state_at_its_version(cluster):
    if connection.vendor != "postgresql":
        pytest.skip("two connections writing and reading at once: PostgreSQL (make test runs the store tests there)")
    stop = threading.Event()
    errors = []

    def write():
        try:
            registry = registry_for(cluster)
            n = 0
            while not stop.is_set() and n < 400:
                registry.create(LEASES, "default", lease(f"lease-{n}"))
                if n % 3 == 2:
                    registry.delete(LEASES, "default", f"lease-{n - 1}")
                n += 1
        except Exception as error:  # noqa: BLE001 - reported by the test
            errors.append(error)
        finally:
            connections.close_all()

    writer = threading.Thread(target=write)
    writer.start()
    lists = []
    try:
        registry = registry_for(cluster)
        # for as long as the writer writes (the threads take turns at the interpreter lock as they please)
        while writer.is_alive() and len(lists) < 5000:
            items, rv = registry.storage.list(LEASES, "default")
            lists.append((int(rv), {item["metadata"]["name"] for item in items},
                          max((int(item["metadata"]["resourceVersion"]) for item in items), default=0)))
    finally:
        stop.set()
        writer.join()
    assert not errors
    seen = {}
    for rv, names, newest in lists:
        assert newest <= rv
        assert seen.setdefault(rv, names) == names, rv  # one version, one state
    assert len(seen) > 10  # the lists were taken while the writes went on
    for rv, names in seen.items():
        assert names == names_at(cluster, rv), rv
