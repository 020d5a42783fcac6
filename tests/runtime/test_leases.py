"""Engine leases on PostgreSQL (kubeviz/runtime/lease.py): taking, renewing, expiring, taking over, and the slice
of a holder that lost its lease writing nothing. They need the database several processes share; on SQLite they
are skipped (``make test`` runs them in its PostgreSQL pass)."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from kubeviz.runtime import lease
from kubeviz.runtime.host import DONE, STOPPED, host
from kubeviz.runtime.models import EngineLease, EngineProcess
from kubeviz.store.models import Change, Cluster, StoredObject
from tests.manifests import PI

pytestmark = [
    pytest.mark.skipif(not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
                       reason="engine leases are for several processes on PostgreSQL: set DATABASE_URL to one"),
    pytest.mark.django_db,
]

OTHER = "another-host-4242-deadbeef"


def _expire(cluster):
    """The lease's holder stopped renewing it a while ago."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE runtime_enginelease SET expires_at = now() - interval '1 second' WHERE cluster_id = %s",
                       [cluster.pk])


def _row(cluster):
    return EngineLease.objects.get(cluster=cluster)


@pytest.fixture(autouse=True)
def _fresh_engines(cluster):
    host.forget(cluster.name)
    yield
    host.forget(cluster.name)


def test_leases_are_on_with_postgresql():
    assert settings.KUBEVIZ_LEASES
    assert host.leases is not None


def test_take(cluster):
    holding = lease.lease_take(cluster.pk)
    assert holding == lease.Holding(lease.identity(), 1, True)
    row = _row(cluster)
    assert (row.holder, row.term) == (lease.identity(), 1)
    assert lease.lease_of(cluster.pk).live


def test_a_live_lease_is_not_taken_by_another(cluster):
    lease.lease_take(cluster.pk)
    assert lease.lease_take(cluster.pk, holder=OTHER) == lease.Holding(lease.identity(), 1, True)
    assert _row(cluster).holder == lease.identity()


def test_renewing_keeps_the_term_and_moves_the_expiry(cluster):
    lease.lease_take(cluster.pk)
    _expire(cluster)
    assert not lease.lease_of(cluster.pk).live
    assert lease.leases_renew() == 1
    assert lease.lease_of(cluster.pk) == lease.Holding(lease.identity(), 1, True)
    assert EngineProcess.objects.filter(identity=lease.identity()).exists()
    # the holder taking its own lease again renews it as well, under the same term
    _expire(cluster)
    assert lease.lease_take(cluster.pk) == lease.Holding(lease.identity(), 1, True)


def test_expiry_follows_the_setting(cluster, settings):
    settings.KUBEVIZ_LEASE_SECONDS = 4
    lease.lease_take(cluster.pk)
    with connection.cursor() as cursor:
        cursor.execute("SELECT expires_at - statement_timestamp() FROM runtime_enginelease WHERE cluster_id = %s",
                       [cluster.pk])
        left = cursor.fetchone()[0]
    assert timedelta(seconds=3) < left <= timedelta(seconds=4)


def test_an_expired_lease_is_taken_over_with_the_next_term(cluster):
    lease.lease_take(cluster.pk)
    _expire(cluster)
    assert lease.lease_take(cluster.pk, holder=OTHER) == lease.Holding(OTHER, 2, True)
    # the old holder's renewal no longer touches it
    assert lease.leases_renew() == 0
    assert _row(cluster).holder == OTHER
    _expire(cluster)
    assert lease.lease_take(cluster.pk) == lease.Holding(lease.identity(), 3, True)


def test_a_deleted_cluster_has_no_lease(cluster):
    pk = cluster.pk
    lease.lease_take(pk)
    Cluster.objects.filter(pk=pk).delete()
    assert lease.lease_of(pk) is None
    assert lease.lease_take(pk) is None


def test_new_clusters_go_to_the_least_loaded_process(cluster):
    from kubeviz.store.services import cluster_create

    lease.leases_renew()  # this process is live, holding nothing
    EngineProcess.objects.create(identity=OTHER, expires_at=lease.timezone_now() + timedelta(minutes=1))
    lease.lease_take(cluster.pk)  # this process now holds one, the other none
    second = cluster_create(name="second", nodes=1, seed=1)
    assert lease.place(second.pk).holder == OTHER
    third = cluster_create(name="third", nodes=1, seed=1)
    assert lease.place(third.pk).holder == lease.identity()  # one each: this one among equals
    assert lease.place(second.pk).holder == OTHER  # placed once, it stays


def test_a_web_process_places_clusters_with_the_engine_processes(cluster, settings):
    """KUBEVIZ_ENGINES=false: while an engine process is alive this one is no candidate, renews none of what it
    holds and says nothing of itself; with none alive, it is the only candidate."""
    from kubeviz.store.services import cluster_create

    settings.KUBEVIZ_ENGINES = False
    assert lease.loads() == {lease.identity(): 0}  # nobody runs engines: this process, as a last resort
    assert lease.place(cluster.pk).holder == lease.identity()
    EngineProcess.objects.create(identity=OTHER, expires_at=lease.timezone_now() + timedelta(minutes=1))
    assert lease.loads() == {OTHER: 0}
    assert lease.place(cluster_create(name="second", nodes=1, seed=1).pk).holder == OTHER
    assert lease.leases_give_back(busy={cluster.name}) == []  # a run of it under way here: kept for now
    assert lease.lease_of(cluster.pk).live
    assert lease.leases_give_back(busy=set()) == [cluster.name]
    assert lease.leases_renew() == 0  # what it gave back is not renewed
    assert not lease.lease_of(cluster.pk).live  # for the engine process to take
    assert not EngineProcess.objects.filter(identity=lease.identity()).exists()
    assert lease.place(cluster.pk).holder == OTHER


def test_a_web_process_claims_orphans_only_a_lease_time_after_the_last_engine_process(cluster, settings):
    settings.KUBEVIZ_ENGINES = False
    EngineProcess.objects.create(identity=OTHER, expires_at=lease.timezone_now() - timedelta(seconds=1))
    assert lease.claim_unowned([cluster]) == []  # it may only have missed a renewal under load
    EngineProcess.objects.filter(identity=OTHER).update(
        expires_at=lease.timezone_now() - lease.duration() - timedelta(seconds=1))
    assert lease.claim_unowned([cluster]) == [cluster]
    assert lease.lease_of(cluster.pk).mine


def _apply(cluster, text):
    response = Client().post(f"/sim/clusters/{cluster.name}/apply", data=text, content_type="application/yaml")
    assert response.status_code == 200, response.content


def test_a_stale_holders_slice_writes_nothing(cluster):
    _apply(cluster, PI)
    host.engine_for(cluster)  # built under this process's term 1
    assert _row(cluster).term == 1
    before = (Cluster.objects.values_list("sim_now", "resource_version").get(pk=cluster.pk),
              Change.objects.filter(cluster=cluster).count(), StoredObject.objects.filter(cluster=cluster).count())
    # the holder was paused past its expiry, and another process took the cluster over
    _expire(cluster)
    assert lease.lease_take(cluster.pk, holder=OTHER).term == 2

    assert host.advance(cluster, 60, wait=30) == STOPPED
    after = (Cluster.objects.values_list("sim_now", "resource_version").get(pk=cluster.pk),
             Change.objects.filter(cluster=cluster).count(), StoredObject.objects.filter(cluster=cluster).count())
    assert after == before
    assert not StoredObject.objects.filter(cluster=cluster, kind="Pod").exists()

    # once the lease comes back (the other holder died in turn), the engine is built afresh and runs
    _expire(cluster)
    assert lease.lease_take(cluster.pk).term == 3
    cluster.refresh_from_db()
    assert host.advance(cluster, 60, wait=30) == DONE
    assert StoredObject.objects.filter(cluster=cluster, kind="Pod").count() == 1
    cluster.refresh_from_db()
    assert cluster.sim_now == before[0][0] + timedelta(seconds=60)



def test_an_engine_built_under_an_older_term_is_rebuilt_before_a_request_is_served(cluster):
    """Another process held the lease meanwhile (and wrote): the lease given back to this one, the advance it serves
    runs an engine rebuilt from what is stored, not the stale one, which would stop at its first slice (409)."""
    _apply(cluster, PI)
    host.engine_for(cluster)
    _expire(cluster)
    lease.lease_take(cluster.pk, holder=OTHER)
    _expire(cluster)
    assert lease.lease_take(cluster.pk).term == 3  # as another process's placement gives it back

    response = Client().post(f"/sim/clusters/{cluster.name}/clock/advance", data={"seconds": 60, "wait": 30},
                             content_type="application/json")
    assert response.status_code == 200, response.content
    assert StoredObject.objects.filter(cluster=cluster, kind="Pod").count() == 1
