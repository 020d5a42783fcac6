"""The recording, import, fork and compare endpoints through the real URLs: what they answer, and that a bad
recording is refused with a message naming what is wrong and where, and leaves no cluster behind."""

import copy
import json

import pytest
from django.test import Client

from kubeviz.store.models import Cluster, StoredObject
from tests.manifests import agent_daemonset, failing_pi

pytestmark = pytest.mark.django_db


def post(client, path, body, content_type="application/json"):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(path, data=data, content_type=content_type)


@pytest.fixture
def played(cluster):
    """The test cluster after a Job with retries and a DaemonSet ran a while; answers its recording's text."""
    client = Client()
    for manifest in (failing_pi(2), agent_daemonset("1")):
        assert post(client, "/sim/clusters/test/apply", manifest, "application/yaml").status_code == 200
    assert post(client, "/sim/clusters/test/clock/advance", {"seconds": 90}).status_code == 200
    response = client.get("/sim/clusters/test/recording")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="test.kubeviz.json"'
    return response.content.decode()


def names():
    return sorted(Cluster.objects.values_list("name", flat=True))


def objects(name):
    return sorted(StoredObject.objects.filter(cluster__name=name).values_list("kind", "namespace", "name", "uid",
                                                                                "resource_version"))


def test_export_then_import_through_the_api(played):
    recording = json.loads(played)
    assert recording["kind"] == "KubevizRecording" and recording["version"] == 1
    assert recording["cluster"] == {"name": "test", "seed": 7, "nodes": 3, "controlPlane": True,
                                    "start": "2025-01-01T00:00:00Z", "quota": None}
    assert [(i["type"], i.get("verb"), i.get("kind")) for i in recording["inputs"]] == [
        ("write", "create", "Job"), ("write", "create", "DaemonSet"), ("clock", None, None)]
    client = Client()
    response = client.post("/sim/recordings?name=again", data=played, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["name"] == "again"
    assert objects("again") == objects("test")
    response = post(client, "/sim/clusters", {"name": "third", "recording": recording})
    assert response.status_code == 201, response.content
    assert objects("third") == objects("test")


def _refused(client, body, *, status=422, path="/sim/recordings?name=bad"):
    before = names()
    response = client.post(path, data=body, content_type="application/json")
    assert response.status_code == status, response.content
    answer = response.json()
    assert answer["kind"] == "Status" and answer["code"] == status
    assert names() == before  # nothing made
    return answer["message"]


def test_every_bad_recording_is_refused_naming_what_and_where(played, settings):
    client = Client()
    good = json.loads(played)

    def changed(edit):
        recording = copy.deepcopy(good)
        edit(recording)
        return json.dumps(recording)

    assert _refused(client, played[: len(played) // 2]).startswith("the recording is not valid JSON (the file "
                                                                    "looks truncated)")
    assert "not valid JSON" in _refused(client, "{kind: KubevizRecording}")
    assert _refused(client, changed(lambda r: r.update(version=2))) == (
        "version: 2 is newer than this server reads (version 1): upgrade kubeviz to import it")
    assert _refused(client, changed(lambda r: r.update(kind="List"))) == "kind: must be KubevizRecording, not \"List\""
    assert _refused(client, changed(lambda r: r["inputs"][1].update(object=[1, 2]))) == (
        "inputs[1].object: must be a JSON object")
    assert _refused(client, changed(lambda r: r["inputs"][0].update(kind="Deployment"))) == (
        'inputs[0].kind: "Deployment" of API group "batch" is no kind this server serves')
    assert _refused(client, changed(lambda r: r["inputs"][2].update(time="yesterday"))) == (
        'inputs[2].time: "yesterday" is not an RFC 3339 time')
    assert _refused(client, changed(lambda r: r["inputs"][0].update(time="2030-01-01T00:00:00Z"))) == (
        "inputs[1].time: goes back before the input before it (inputs are in the order they happened)")
    assert _refused(client, changed(lambda r: r["cluster"].update(nodes="3"))) == (
        'cluster.nodes: must be an integer, not "3"')
    assert _refused(client, changed(lambda r: r["inputs"][0].update(sneaky=True))) == "inputs[0].sneaky: unknown field"
    # well formed, but it does not replay: a Job the API refuses, a resourceVersion the replay does not reach
    message = _refused(client, changed(lambda r: r["inputs"][0]["object"]["spec"].update(backoffLimit=-1)))
    assert message.startswith("inputs[0]: the create of Job was refused: Job.batch \"pi\" is invalid: "
                              "spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0")
    message = _refused(client, changed(lambda r: r["inputs"][2].update(resourceVersion=r["inputs"][2][
        "resourceVersion"] + 5)))
    assert message.startswith("inputs[2]: the cluster is at resourceVersion ")
    settings.KUBEVIZ_MAX_RECORDING_BYTES = 1024
    assert _refused(client, played, status=413) == (
        f"the recording is {len(played.encode())} bytes; the limit is 1024 bytes (KUBEVIZ_MAX_RECORDING_BYTES)")


def test_an_import_under_a_taken_name_is_refused(played):
    # as recorded, the name is the original's
    assert _refused(Client(), played, status=409, path="/sim/recordings") == 'clusters "test" already exists'


def test_fork_from_an_instant_and_compare(played):
    client = Client()
    response = post(client, "/sim/clusters/test/fork", {"at": "2025-01-01T00:00:30Z", "name": "try"})
    assert response.status_code == 201, response.content
    fork = response.json()
    assert fork["clock"]["now"] == "2025-01-01T00:00:30Z"
    assert fork["forkedFrom"] == {"name": "test", "at": "2025-01-01T00:00:30.000000Z"}
    # the fork tries maxUnavailable 2 from there
    response = client.patch("/clusters/try/apis/apps/v1/namespaces/default/daemonsets/agent",
                            data=json.dumps({"spec": {"updateStrategy": {"rollingUpdate": {"maxUnavailable": 2}}}}),
                            content_type="application/merge-patch+json")
    assert response.status_code == 200
    assert post(client, "/sim/clusters/try/clock/advance", {"seconds": 60}).status_code == 200
    body = client.get("/sim/compare?a=test&b=try&format=json").json()
    assert body["divergedAt"] == "2025-01-01T00:00:30.000000Z"
    assert [body["a"]["name"], body["b"]["name"]] == ["test", "try"]
    for side in ("a", "b"):
        assert body[side]["pods"][0]["time"] == "2025-01-01T00:00:30.000000Z"
        assert {w["kind"] for w in body[side]["workloads"]} == {"Job", "DaemonSet"}
    job = next(w for w in body["a"]["workloads"] if w["kind"] == "Job")
    assert [c["reason"] for c in job["conditions"]] == ["BackoffLimitExceeded", "BackoffLimitExceeded"]
    page = client.get("/sim/compare?a=test&b=try")
    assert page.status_code == 200 and b'id="compare-data"' in page.content


def test_fork_refusals(played):
    client = Client()
    before = names()
    for body, message in [
        ({"at": "2026-01-01T00:00:00Z"}, 'at: "2026-01-01T00:00:00.000000Z" is after the cluster\'s now'),
        ({"at": "2024-01-01T00:00:00Z"}, "is before the cluster began"),
        ({"at": "soon"}, 'at: Invalid value: "soon": must be an RFC 3339 time'),
        ({"resourceVersion": 10**9}, "resourceVersion: 1000000000 is after the cluster's current"),
        ({"name": "Not A Name"}, 'cluster: cluster name "Not A Name" is invalid'),
        ({"colour": "red"}, "unknown field(s): colour"),
    ]:
        response = post(client, "/sim/clusters/test/fork", body)
        assert response.status_code in (400, 422), response.content
        assert message in response.json()["message"]
    assert names() == before
    assert post(client, "/sim/clusters/nowhere/fork", {}).status_code == 404


def test_fork_at_a_resource_version_stops_after_the_reconcile_that_wrote_it(played):
    client = Client()
    test = Cluster.objects.get(name="test")
    response = post(client, "/sim/clusters/test/fork", {"resourceVersion": test.resource_version - 20, "name": "rv"})
    assert response.status_code == 201, response.content
    fork = Cluster.objects.get(name="rv")
    assert test.resource_version - 20 <= fork.resource_version < test.resource_version
    # what the fork has is what the original had at that resourceVersion
    assert objects("rv") == sorted(
        (kind, ns, name, uid, rv) for kind, ns, name, uid, rv in _objects_at(test, fork.resource_version))


def _objects_at(cluster, revision):
    from apiserver.kinds import RESOURCE_TYPES
    from kubeviz.store.storage import DatabaseStorage

    storage = DatabaseStorage(cluster)
    for resource in RESOURCE_TYPES:
        for obj in storage.list_range(resource, revision=revision).objects:
            meta = obj["metadata"]
            yield resource.kind, meta.get("namespace", ""), meta["name"], meta["uid"], int(meta["resourceVersion"])


def test_a_fork_with_another_seed_replays_what_it_can(played):
    response = post(Client(), "/sim/clusters/test/fork", {"name": "other", "seed": 99})
    assert response.status_code == 201, response.content
    assert response.json()["seed"] == 99
    job = Client().get("/clusters/other/apis/batch/v1/namespaces/default/jobs/pi").json()
    assert job["metadata"]["uid"] != Client().get("/clusters/test/apis/batch/v1/namespaces/default/jobs/pi").json()[
        "metadata"]["uid"]
    assert job["status"]["failed"] >= 1


def test_only_the_recordings_endpoint_takes_a_body_past_the_api_limit(cluster, settings):
    """A recording may be larger than the Kubernetes API's 3 MiB (KUBEVIZ_MAX_RECORDING_BYTES); nothing else is."""
    settings.KUBEVIZ_MAX_RECORDING_BYTES = 5 * 1024 * 1024
    big = b"{" + b" " * (4 * 1024 * 1024) + b"}"
    api = Client().post("/clusters/test/apis/batch/v1/namespaces/default/jobs", data=big,
                        content_type="application/json")
    assert api.status_code == 413 and api.json()["message"] == f"Request entity too large: limit is {3 * 1024 * 1024}"
    # read, and refused for what it is (an object without a recording's fields), not for its size
    message = _refused(Client(), big)
    assert "bytes" not in message and "limit" not in message
    over = b"{" + b" " * (5 * 1024 * 1024) + b"}"
    assert _refused(Client(), over, status=413) == f"Request entity too large: limit is {5 * 1024 * 1024}"


def test_a_replay_longer_than_a_request_may_wait_is_refused_and_leaves_nothing(played, settings, monkeypatch):
    """An import replays inside its request, so it gets the longest wait an advance gets (KUBEVIZ_ADVANCE_MAX_WAIT),
    not for ever: a recording of a month of a busy cluster would hold a server thread that long."""
    from kubeviz.runtime import host as host_module

    settings.KUBEVIZ_ADVANCE_MAX_WAIT = 0
    monkeypatch.setattr(host_module, "SLICE_SECONDS", 0)  # one sync a slice: the run is never done in one
    message = _refused(Client(), played, status=504)
    assert message.startswith("the replay did not end within 0 s of wall time (KUBEVIZ_ADVANCE_MAX_WAIT)")
    assert message.endswith("no cluster was made")
    fork = Client().post("/sim/clusters/test/fork", json.dumps({"name": "later"}), content_type="application/json")
    assert fork.status_code == 504 and fork.json()["reason"] == "Timeout"
    assert "later" not in names()
