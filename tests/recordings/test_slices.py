"""The input log as a playing cluster's slices keep it, with real commits: each slice moves the clock input, reads
the log only when someone else wrote since the engine's last slice, and remembers nothing of a slice that was
rolled back."""

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kubeviz.recordings.models import Input
from kubeviz.runtime import host as host_module
from kubeviz.runtime.host import DONE, host
from kubeviz.store.models import Cluster
from tests.recordings.test_replay import assert_same, roundtrip

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def playing(daemons_placed):
    """The test cluster with a DaemonSet placed and running, playing at 1x."""
    cluster = daemons_placed
    Cluster.objects.filter(pk=cluster.pk).update(paused=False)
    return host, Cluster.objects.get(pk=cluster.pk)


def inputs(cluster):
    return list(Input.objects.filter(cluster=cluster).order_by("seq").values_list("type", "time", "resource_version"))


def stored(cluster):
    cluster.refresh_from_db()
    return cluster.sim_now, cluster.resource_version


def input_log_reads(queries):
    return [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")
            and Input._meta.db_table in q["sql"]]


def test_slices_one_after_another_read_the_input_log_once_and_keep_the_clock_input_where_the_engine_is(playing):
    host, cluster = playing
    assert host.play(cluster, 1.0, budget=5) == DONE
    for _ in range(5):
        with CaptureQueriesContext(connection) as queries:
            assert host.play(cluster, 1.0, budget=5) == DONE
        assert input_log_reads(queries) == []
        kind, time, rv = inputs(cluster)[-1]
        assert (kind, (time, rv)) == ("clock", stored(cluster))


def test_a_write_between_two_slices_lands_at_the_clock_s_position_and_a_new_clock_input_follows(playing):
    host, cluster = playing
    for _ in range(3):
        assert host.play(cluster, 1.0, budget=5) == DONE
    before = inputs(cluster)
    clock_time = before[-1][1]
    response = Client().patch(f"/clusters/{cluster.name}/api/v1/nodes/node-2",
                              data=json.dumps({"metadata": {"labels": {"disk": "ssd"}}}),
                              content_type="application/merge-patch+json")
    assert response.status_code == 200, response.content
    for _ in range(3):
        assert host.play(cluster, 1.0, budget=5) == DONE
    after = inputs(cluster)
    assert after[:len(before)] == before
    assert [kind for kind, _, _ in after[len(before):]] == ["write", "clock"]
    assert after[len(before)][1] == clock_time  # where the engine was when the write landed
    assert (after[-1][1], after[-1][2]) == stored(cluster)
    roundtrip("test", "copy")
    assert_same("test", "copy")


def test_a_slice_rolled_back_leaves_its_clock_input_unremembered(playing, monkeypatch):
    host, cluster = playing
    assert host.play(cluster, 1.0, budget=5) == DONE
    response = Client().patch(f"/clusters/{cluster.name}/api/v1/nodes/node-2",
                              data=json.dumps({"metadata": {"labels": {"disk": "ssd"}}}),
                              content_type="application/merge-patch+json")
    assert response.status_code == 200, response.content
    written = inputs(cluster)
    assert written[-1][0] == "write"

    def fail(*args, **kwargs):
        raise RuntimeError("the slice fails after its input log was written")

    # The slice after the write makes a new clock input, then fails: its transaction is rolled back.
    monkeypatch.setattr(host_module, "publish_clock", fail)
    host._clock_published.clear()
    with pytest.raises(RuntimeError):
        host.play(cluster, 1.0, budget=5)
    assert inputs(cluster) == written
    monkeypatch.undo()
    assert host.play(cluster, 1.0, budget=5) == DONE
    after = inputs(cluster)
    assert after[:-1] == written and after[-1][0] == "clock"
    assert (after[-1][1], after[-1][2]) == stored(cluster)
