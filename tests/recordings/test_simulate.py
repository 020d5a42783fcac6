"""``manage.py simulate --recording``: a recording replayed in memory, headless, ends as the stored cluster did."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from kubeviz.store.models import StoredObject
from tests.manifests import agent_daemonset, failing_pi

pytestmark = pytest.mark.django_db


def test_simulate_replays_a_recording_to_the_same_objects(cluster, tmp_path):
    client = Client()
    for manifest in (failing_pi(2), agent_daemonset("1")):
        assert client.post("/sim/clusters/test/apply", data=manifest, content_type="application/yaml").status_code == 200
    assert client.post("/sim/clusters/test/nodes", data=json.dumps({"name": "node-4"}),
                       content_type="application/json").status_code == 201
    assert client.post("/sim/clusters/test/clock/advance", data=json.dumps({"seconds": 120}),
                       content_type="application/json").status_code == 200
    path = tmp_path / "test.kubeviz.json"
    path.write_bytes(client.get("/sim/clusters/test/recording").content)
    out = StringIO()
    call_command("simulate", "--recording", str(path), "--until", "0s", "-o", "json", stdout=out)
    printed = {(o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]): o
               for o in json.loads(out.getvalue())["items"]}
    stored = {(kind, ns, name): data for kind, ns, name, data in StoredObject.objects.filter(
        cluster=cluster, kind__in={k for k, _, _ in printed}).values_list("kind", "namespace", "name", "data")}
    assert set(printed) == set(stored)
    for key, obj in stored.items():
        assert printed[key]["metadata"]["uid"] == obj["metadata"]["uid"], key
        assert printed[key].get("status") == obj.get("status"), key


def test_simulate_refuses_a_bad_recording(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"kind": "KubevizRecording", "version": 3}')
    with pytest.raises(CommandError, match=r"bad.json: version: 3 is newer than this server reads \(version 1\)"):
        call_command("simulate", "--recording", str(path))
