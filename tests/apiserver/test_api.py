"""The Kubernetes REST surface through Django's URL map and views (no network)."""

import json

import pytest
from django.test import Client

BASE = "/clusters/test"


def job(name, **spec):
    body = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {
            "template": {"spec": {"containers": [{"name": "c", "image": "busybox:1.36"}], "restartPolicy": "Never"}},
        },
    }
    body["spec"].update(spec)
    return body


def pod(name, labels=None, node=None, **extra):
    body = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]},
    }
    if node:
        body["spec"]["nodeName"] = node
    body["metadata"].update(extra)
    return body


class Api:
    """A thin JSON client over Django's test client, with CSRF checks on as in production."""

    def __init__(self):
        self.client = Client(enforce_csrf_checks=True)

    def call(self, method, path, body=None, content_type="application/json", **headers):
        data = body if isinstance(body, (str, bytes)) else (json.dumps(body) if body is not None else "")
        response = getattr(self.client, method.lower())(path, data=data, content_type=content_type, **headers)
        assert response["Content-Type"].startswith("application/json"), response.content[:200]
        return response.status_code, json.loads(response.content)

    def get(self, path):
        return self.call("GET", path)

    def post(self, path, body):
        return self.call("POST", path, body)

    def put(self, path, body):
        return self.call("PUT", path, body)

    def patch(self, path, body, content_type="application/merge-patch+json"):
        return self.call("PATCH", path, body, content_type=content_type)

    def delete(self, path, body=None):
        return self.call("DELETE", path, body)


@pytest.fixture
def api(cluster):
    return Api()


JOBS = f"{BASE}/apis/batch/v1/namespaces/default/jobs"
PODS = f"{BASE}/api/v1/namespaces/default/pods"


def test_create_applies_defaults_and_object_metadata(api, cluster):
    code, created = api.post(JOBS, job("pi"))
    assert code == 201
    meta = created["metadata"]
    assert meta["namespace"] == "default"
    assert meta["generation"] == 1
    assert meta["creationTimestamp"] == "2025-01-01T00:00:00Z"  # the simulated clock, not the wall clock
    assert len(meta["uid"]) == 36
    assert int(meta["resourceVersion"]) > 0
    assert created["spec"]["backoffLimit"] == 6
    assert created["spec"]["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": meta["uid"]}}
    assert created["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 30
    assert created["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] == "IfNotPresent"


def test_resource_versions_increase_and_a_no_op_update_bumps_nothing(api):
    _, first = api.post(JOBS, job("a"))
    _, second = api.post(JOBS, job("b"))
    assert int(second["metadata"]["resourceVersion"]) > int(first["metadata"]["resourceVersion"])
    code, same = api.put(f"{JOBS}/a", first)
    assert code == 200
    assert same["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]


def test_put_without_resource_version_is_invalid(api):
    _, created = api.post(JOBS, job("a"))
    del created["metadata"]["resourceVersion"]
    code, status = api.put(f"{JOBS}/a", created)
    assert code == 422
    assert status["details"]["causes"][0]["field"] == "metadata.resourceVersion"


def test_spec_change_bumps_generation_metadata_change_does_not(api):
    _, created = api.post(JOBS, job("gen", parallelism=1, completions=4))
    _, labelled = api.patch(f"{JOBS}/gen", {"metadata": {"labels": {"a": "b"}}})
    assert labelled["metadata"]["generation"] == 1
    _, scaled = api.patch(f"{JOBS}/gen", {"spec": {"parallelism": 2}})
    assert scaled["metadata"]["generation"] == 2


def test_status_is_kept_apart_from_spec(api):
    _, created = api.post(JOBS, job("st"))
    created["status"] = {"active": 3}
    _, via_main = api.put(f"{JOBS}/st", created)
    assert (via_main.get("status") or {}).get("active") is None  # the main resource ignores status
    via_main["status"] = {"active": 2}
    via_main["spec"]["backoffLimit"] = 1
    code, via_status = api.put(f"{JOBS}/st/status", via_main)
    assert code == 200
    assert via_status["status"]["active"] == 2
    assert via_status["spec"]["backoffLimit"] == 6  # the status subresource ignores spec


def test_a_status_write_is_not_refused_for_a_spec_it_does_not_change(api):
    # ValidateJobUpdateStatus looks at metadata and status: a spec the main resource would refuse is reset, not
    # reported (upstream answers 200 with the stored spec).
    _, created = api.post(JOBS, job("st2", parallelism=2))
    created["spec"]["parallelism"] = -1
    created["spec"]["selector"] = {"matchLabels": {"other": "x"}}
    created["status"] = {"active": 1}
    code, main = api.put(f"{JOBS}/st2", created)
    assert code == 422  # through the main resource: invalid and immutable
    code, via_status = api.put(f"{JOBS}/st2/status", created)
    assert code == 200, via_status
    assert via_status["status"]["active"] == 1
    assert via_status["spec"]["parallelism"] == 2 and "other" not in via_status["spec"]["selector"]["matchLabels"]


def test_generate_name(api):
    body = pod("", generateName="web-")
    del body["metadata"]["name"]
    code, created = api.post(PODS, body)
    assert code == 201
    name = created["metadata"]["name"]
    assert name.startswith("web-") and len(name) == len("web-") + 5
    assert set(name[4:]) <= set("bcdfghjklmnpqrstvwxz2456789")


def test_missing_namespace_is_404(api):
    code, status = api.post(f"{BASE}/apis/batch/v1/namespaces/nope/jobs", job("x"))
    assert code == 404
    assert status["message"] == 'namespaces "nope" not found'


def test_unknown_paths_answer_status_json_and_never_redirect(api):
    for path in (f"{BASE}/api/v1/widgets", f"{JOBS}/", "/clusters/test/nothing", f"{BASE}/apis/bogus/v1/x"):
        code, body = api.get(path)
        assert code == 404, path
        assert body["kind"] == "Status" and body["reason"] == "NotFound"


def test_unknown_cluster_is_404_status(api):
    code, body = api.get("/clusters/missing/api/v1/pods")
    assert code == 404 and body["message"] == 'clusters "missing" not found'


def test_all_namespaces_list(api):
    api.post(PODS, pod("a"))
    api.post(f"{BASE}/api/v1/namespaces/kube-system/pods", pod("b"))
    code, listed = api.get(f"{BASE}/api/v1/pods")
    assert code == 200
    assert listed["kind"] == "PodList" and listed["apiVersion"] == "v1"
    assert [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in listed["items"]] == [
        ("default", "a"), ("kube-system", "b")]
    assert all(p["kind"] == "Pod" for p in listed["items"])


@pytest.mark.parametrize(
    "selector, expected",
    [
        ("app=web", ["w1", "w2"]),
        ("app==web", ["w1", "w2"]),
        ("app!=web", ["d1", "n1"]),
        ("tier in (front,back)", ["d1", "w1"]),
        ("tier notin (front)", ["d1", "n1", "w2"]),
        ("tier", ["d1", "w1"]),
        ("!tier", ["n1", "w2"]),
        ("app=web,tier=front", ["w1"]),
    ],
)
def test_label_selectors(api, selector, expected):
    api.post(PODS, pod("w1", {"app": "web", "tier": "front"}))
    api.post(PODS, pod("w2", {"app": "web"}))
    api.post(PODS, pod("d1", {"app": "db", "tier": "back"}))
    api.post(PODS, pod("n1"))
    code, listed = api.call("GET", PODS + "?" + _query(labelSelector=selector))
    assert code == 200
    assert sorted(p["metadata"]["name"] for p in listed["items"]) == expected


def _query(**params):
    from urllib.parse import urlencode

    return urlencode(params)


def test_field_selectors_for_pods_and_events(api):
    api.post(PODS, pod("on1", node="node-1"))
    api.post(PODS, pod("on2", node="node-2"))
    _, listed = api.get(PODS + "?" + _query(fieldSelector="spec.nodeName=node-1"))
    assert [p["metadata"]["name"] for p in listed["items"]] == ["on1"]
    _, listed = api.get(PODS + "?" + _query(fieldSelector="status.phase!=Running,metadata.name=on2"))
    assert [p["metadata"]["name"] for p in listed["items"]] == ["on2"]
    event = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "on1.1"},
             "involvedObject": {"kind": "Pod", "name": "on1", "namespace": "default"},
             "reason": "Scheduled", "message": "Successfully assigned default/on1 to node-1", "type": "Normal"}
    assert api.post(f"{BASE}/api/v1/namespaces/default/events", event)[0] == 201
    _, events = api.get(f"{BASE}/api/v1/namespaces/default/events?" + _query(
        fieldSelector="involvedObject.namespace=default,involvedObject.name=on1,involvedObject.kind=Pod"))
    assert [e["reason"] for e in events["items"]] == ["Scheduled"]


def test_unsupported_field_selector_is_400(api):
    code, status = api.get(PODS + "?" + _query(fieldSelector="spec.bogus=1"))
    assert code == 400
    assert status["reason"] == "BadRequest"
    assert "spec.bogus" in status["message"]


def test_bad_label_selector_is_400(api):
    code, status = api.get(PODS + "?" + _query(labelSelector="app in (a"))
    assert code == 400 and status["reason"] == "BadRequest"


def test_immutable_job_template(api):
    _, created = api.post(JOBS, job("imm"))
    created["spec"]["template"]["spec"]["containers"][0]["image"] = "busybox:1.37"
    code, status = api.put(f"{JOBS}/imm", created)
    assert code == 422
    assert status["reason"] == "Invalid"
    assert [c["field"] for c in status["details"]["causes"]] == ["spec.template"]
    assert "field is immutable" in status["details"]["causes"][0]["message"]


def test_patch_types(api):
    api.post(PODS, pod("p", {"app": "web"}))
    code, merged = api.patch(f"{PODS}/p", {"metadata": {"labels": {"app": None, "x": "1"}}})
    assert code == 200 and merged["metadata"]["labels"] == {"x": "1"}
    code, patched = api.patch(f"{PODS}/p", [{"op": "add", "path": "/metadata/labels/y", "value": "2"}],
                              content_type="application/json-patch+json")
    assert code == 200 and patched["metadata"]["labels"] == {"x": "1", "y": "2"}
    code, strategic = api.patch(
        f"{PODS}/p", {"spec": {"containers": [{"name": "c", "image": "busybox:1.37"}]}},
        content_type="application/strategic-merge-patch+json")
    assert code == 200
    assert strategic["spec"]["containers"][0]["image"] == "busybox:1.37"
    assert strategic["spec"]["containers"][0]["terminationMessagePath"] == "/dev/termination-log"
    code, status = api.patch(f"{PODS}/p", {"a": 1}, content_type="text/plain")
    assert code == 415 and status["reason"] == "UnsupportedMediaType"
    code, status = api.patch(f"{PODS}/missing", {"a": 1})
    assert code == 404 and status["message"] == 'pods "missing" not found'


def test_failed_json_patch_test_operation_changes_nothing(api):
    api.post(PODS, pod("p", {"app": "web"}))
    code, status = api.patch(f"{PODS}/p", [{"op": "test", "path": "/metadata/labels/app", "value": "db"},
                                           {"op": "remove", "path": "/metadata/labels/app"}],
                             content_type="application/json-patch+json")
    assert code == 422 and status["kind"] == "Status"
    assert api.get(f"{PODS}/p")[1]["metadata"]["labels"] == {"app": "web"}


def test_dry_run_create_stores_nothing(api):
    code, created = api.post(JOBS + "?dryRun=All", job("dry"))
    assert code == 201 and created["metadata"]["name"] == "dry"
    assert api.get(f"{JOBS}/dry")[0] == 404


def test_field_validation_strict_warn_ignore(api):
    body = job("fv")
    body["spec"]["template"]["spec"]["containers"][0]["imagee"] = "typo"
    code, status = api.post(JOBS + "?fieldValidation=Strict", body)
    assert code == 400
    assert status["message"] == ('Job in version "v1" cannot be handled as a Job: strict decoding error: '
                                 'unknown field "spec.template.spec.containers[0].imagee"')
    response = Client().post(JOBS + "?fieldValidation=Warn", json.dumps(body), content_type="application/json")
    assert response.status_code == 201
    assert response["Warning"] == '299 - "unknown field \\"spec.template.spec.containers[0].imagee\\""'
    assert "imagee" not in json.dumps(json.loads(response.content))
    body["metadata"]["name"] = "fv2"
    code, created = api.post(JOBS + "?fieldValidation=Ignore", body)
    assert code == 201 and "imagee" not in json.dumps(created)
    # Without the parameter (the official clients send none) the API server warns: only kubectl is strict,
    # because it sends Strict.
    body["metadata"]["name"] = "fv3"
    response = Client().post(JOBS, json.dumps(body), content_type="application/json")
    assert response.status_code == 201
    assert response["Warning"] == '299 - "unknown field \\"spec.template.spec.containers[0].imagee\\""'


def test_wrong_type_is_400(api):
    code, status = api.post(JOBS, job("typed", parallelism="two"))
    assert code == 400 and status["reason"] == "BadRequest"
    assert "spec.parallelism" in status["message"]


def test_malformed_json_is_400_status(api):
    code, status = api.call("POST", JOBS, "{not json")
    assert code == 400 and status["kind"] == "Status"


def test_a_yaml_body_is_read_as_the_api_server_reads_it(api):
    manifest = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: from-yaml
spec:
  completions: 0x3   # YAML 1.1 numbers, as sigs.k8s.io/yaml reads them
  template:
    spec:
      containers: [{name: c, image: "busybox:1.36"}]
      restartPolicy: Never
"""
    code, created = api.call("POST", JOBS, manifest, content_type="application/yaml")
    assert code == 201 and created["spec"]["completions"] == 3
    created["metadata"]["labels"] = {"team": "a"}
    code, updated = api.call("PUT", f"{JOBS}/from-yaml", json.dumps(created, indent=2),  # JSON is YAML too
                             content_type="application/yaml")
    assert code == 200 and updated["metadata"]["labels"] == {"team": "a"}
    code, status = api.call("POST", JOBS, "kind: Job\nmetadata:\n  name: [x\n", content_type="application/yaml")
    assert code == 400 and status["reason"] == "BadRequest"
    assert status["message"].startswith("error converting YAML to JSON: yaml: line ")
    code, _ = api.get(f"{JOBS}/x")
    assert code == 404


def test_a_body_of_an_unknown_media_type_is_415_as_upstream_answers_it(api):
    # curl -d sends application/x-www-form-urlencoded unless told otherwise
    code, status = api.call("POST", JOBS, json.dumps(job("form")), content_type="application/x-www-form-urlencoded")
    assert code == 415 and status["reason"] == "UnsupportedMediaType"
    assert status["message"] == ("the body of the request was in an unknown format - accepted media types include: "
                                 "application/json, application/yaml, application/vnd.kubernetes.protobuf")
    code, _ = api.get(f"{JOBS}/form")
    assert code == 404
    code, _ = api.call("POST", JOBS, json.dumps(job("json-charset")), content_type="application/json; charset=utf-8")
    assert code == 201


def test_method_not_allowed_is_status(api):
    code, status = api.call("POST", f"{JOBS}/x", job("x"))
    assert code == 405 and status["kind"] == "Status"


def owned_pod(name, owner, block=True):
    ref = {"apiVersion": "batch/v1", "kind": "Job", "name": owner["metadata"]["name"],
           "uid": owner["metadata"]["uid"], "controller": True, "blockOwnerDeletion": block}
    return pod(name, ownerReferences=[ref])


@pytest.mark.parametrize("policy", ["Background", "Foreground"])
def test_cascading_delete_removes_dependents(api, policy):
    _, owner = api.post(JOBS, job("owner"))
    api.post(PODS, owned_pod("dep-1", owner))
    api.post(PODS, owned_pod("dep-2", owner))
    code, _ = api.delete(f"{JOBS}/owner", {"propagationPolicy": policy})
    assert code == 200
    assert api.get(f"{JOBS}/owner")[0] == 404
    assert api.get(PODS)[1]["items"] == []


def test_orphan_delete_keeps_dependents_without_the_owner_reference(api):
    _, owner = api.post(JOBS, job("owner"))
    api.post(PODS, owned_pod("dep", owner))
    api.delete(f"{JOBS}/owner?propagationPolicy=Orphan")
    assert api.get(f"{JOBS}/owner")[0] == 404
    code, dependent = api.get(f"{PODS}/dep")
    assert code == 200 and "ownerReferences" not in dependent["metadata"]


def test_job_delete_without_policy_orphans_its_pods_as_batch_v1_does(api):
    _, owner = api.post(JOBS, job("owner"))
    api.post(PODS, owned_pod("dep", owner))
    api.delete(f"{JOBS}/owner")
    assert api.get(f"{PODS}/dep")[0] == 200


def test_finalizers_hold_deletion_until_removed(api):
    code, created = api.post(PODS, pod("held", finalizers=["example.com/hold"]))
    code, deleting = api.delete(f"{PODS}/held")
    assert code == 200
    assert deleting["metadata"]["deletionTimestamp"] == "2025-01-01T00:00:00Z"
    assert api.get(f"{PODS}/held")[0] == 200
    code, _ = api.patch(f"{PODS}/held", {"metadata": {"finalizers": None}})
    assert code == 200
    assert api.get(f"{PODS}/held")[0] == 404


def test_scheduled_pod_is_deleted_gracefully(api):
    api.post(PODS, pod("running", node="node-1"))
    code, terminating = api.delete(f"{PODS}/running")
    assert code == 200
    assert terminating["metadata"]["deletionGracePeriodSeconds"] == 30
    assert terminating["metadata"]["deletionTimestamp"] == "2025-01-01T00:00:30Z"
    code, forced = api.delete(f"{PODS}/running", {"gracePeriodSeconds": 0})
    assert api.get(f"{PODS}/running")[0] == 404


def test_delete_precondition_mismatch_is_conflict(api):
    api.post(PODS, pod("pre"))
    code, status = api.delete(f"{PODS}/pre", {"preconditions": {"uid": "not-the-uid"}})
    assert code == 409 and status["reason"] == "Conflict"
    assert api.get(f"{PODS}/pre")[0] == 200


def test_system_namespaces_cannot_be_deleted_but_others_take_their_objects(api):
    code, status = api.delete(f"{BASE}/api/v1/namespaces/default")
    assert code == 403 and status["reason"] == "Forbidden"
    assert api.post(f"{BASE}/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                  "metadata": {"name": "team"}})[0] == 201
    assert api.post(f"{BASE}/api/v1/namespaces/team/pods", pod("p"))[0] == 201
    assert api.delete(f"{BASE}/api/v1/namespaces/team")[0] == 200
    assert api.get(f"{BASE}/api/v1/namespaces/team/pods/p")[0] == 404


def test_version_and_discovery(api):
    code, version = api.get(f"{BASE}/version")
    assert code == 200 and (version["major"], version["minor"]) == ("1", "32")
    _, core = api.get(f"{BASE}/api/v1")
    by_name = {r["name"]: r for r in core["resources"]}
    assert by_name["pods"]["shortNames"] == ["po"] and by_name["pods"]["categories"] == ["all"]
    assert by_name["nodes"]["namespaced"] is False
    _, groups = api.get(f"{BASE}/apis")
    assert {g["name"] for g in groups["groups"]} == {"batch", "apps", "coordination.k8s.io"}


def test_every_change_is_published_after_commit(cluster, django_capture_on_commit_callbacks):
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from kubeviz.store.events import cluster_group

    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(cluster_group("test"), channel)
    api = Api()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _, created = api.post(JOBS, job("watched"))
    # nothing is sent before the transaction commits
    assert callbacks, "the change must be queued for after commit"
    for callback in callbacks:
        callback()
    message = async_to_sync(layer.receive)(channel)
    async_to_sync(layer.group_discard)(cluster_group("test"), channel)  # leave the process-wide layer clean
    assert message["type"] == "object.changed"
    assert message["event"] == "ADDED"
    assert message["kind"] == "Job"
    assert message["object"]["metadata"]["name"] == "watched"
    assert message["resourceVersion"] == created["metadata"]["resourceVersion"]


def _log(path):
    response = Client().get(path)
    return response.status_code, response.content.decode()


def test_pod_logs_with_kubectl_options(api, cluster):
    from kubeviz.store.storage import DatabaseStorage

    _, created = api.post(PODS, pod("talker", node="node-1"))
    uid = created["metadata"]["uid"]
    storage = DatabaseStorage(cluster)
    storage.append_log("default", "talker", uid, "c", 0, [["2025-01-01T00:00:01.000000Z", "first run"]])
    storage.append_log("default", "talker", uid, "c", 1, [["2025-01-01T00:00:10.000000Z", "one"],
                                                          ["2025-01-01T00:00:11.500000Z", "two"]])
    api.put(f"{PODS}/talker/status", dict(created, status={
        "phase": "Running",
        "containerStatuses": [{"name": "c", "image": "busybox:1.36", "imageID": "", "ready": True,
                               "restartCount": 1, "state": {"running": {"startedAt": "2025-01-01T00:00:10Z"}}}],
    }))
    assert _log(f"{PODS}/talker/log") == (200, "one\ntwo\n")
    assert _log(f"{PODS}/talker/log?container=c&tailLines=1") == (200, "two\n")
    assert _log(f"{PODS}/talker/log?timestamps=true&tailLines=1") == (
        200, "2025-01-01T00:00:11.500000000Z two\n")
    assert _log(f"{PODS}/talker/log?previous=true") == (200, "first run\n")
    assert _log(f"{PODS}/talker/log?limitBytes=2") == (200, "on")
    code, body = _log(f"{PODS}/talker/log?container=nope")
    assert code == 400 and json.loads(body)["message"] == "container nope is not valid for pod talker"


def test_logs_of_pods_not_started(api):
    api.post(PODS, pod("unbound"))
    code, body = _log(f"{PODS}/unbound/log")
    assert code == 400 and json.loads(body)["message"] == "pod unbound does not have a host assigned"
    api.post(PODS, pod("bound", node="node-2"))
    code, body = _log(f"{PODS}/bound/log")
    assert code == 400
    assert json.loads(body)["message"] == 'container "c" in pod "bound" is waiting to start: ContainerCreating'
    code, body = _log(f"{PODS}/bound/log?previous=true")
    assert json.loads(body)["message"] == 'previous terminated container "c" in pod "bound" not found'


# --- deleting a batch/v1 Job without a propagation policy (pkg/registry/batch/job/storage/storage.go) --------

JOB_DELETE_WARNING = ('299 - "child pods are preserved by default when jobs are deleted; set '
                      'propagationPolicy=Background to remove them or set propagationPolicy=Orphan to suppress this '
                      'warning"')


def _delete_raw(path, body=None):
    response = Client().delete(path, data=json.dumps(body) if body is not None else "",
                               content_type="application/json")
    return response.status_code, response.get("Warning")


@pytest.mark.parametrize("query, body, warning", [
    pytest.param("", None, JOB_DELETE_WARNING, id="no DeleteOptions"),
    pytest.param("", {"kind": "DeleteOptions", "apiVersion": "v1"}, JOB_DELETE_WARNING,
                 id="DeleteOptions naming no policy"),
    pytest.param("", {"orphanDependents": None}, JOB_DELETE_WARNING, id="orphanDependents null"),
    pytest.param("", {"gracePeriodSeconds": 0}, JOB_DELETE_WARNING, id="only a grace period"),
    pytest.param("", {"propagationPolicy": "Background"}, None, id="propagationPolicy Background"),
    pytest.param("", {"propagationPolicy": "Foreground"}, None, id="propagationPolicy Foreground"),
    pytest.param("", {"propagationPolicy": "Orphan"}, None, id="propagationPolicy Orphan"),
    pytest.param("?propagationPolicy=Background", None, None, id="propagationPolicy in the query"),
    pytest.param("", {"orphanDependents": True}, None, id="orphanDependents true"),
    pytest.param("", {"orphanDependents": False}, None, id="orphanDependents false"),
])
def test_deleting_a_job_without_a_policy_warns_that_its_pods_are_kept(api, query, body, warning):
    api.post(JOBS, job("pi"))
    assert _delete_raw(f"{JOBS}/pi{query}", body) == (200, warning)


def test_a_failed_job_delete_warns_too(api):
    """The Job registry warns before it deletes: kubectl prints the warning above the NotFound error."""
    response = Client().delete(f"{JOBS}/missing", content_type="application/json")
    assert response.status_code == 404 and response["Warning"] == JOB_DELETE_WARNING
    assert json.loads(response.content)["message"] == 'jobs.batch "missing" not found'
    api.post(JOBS, job("pi"))
    stale = Client().delete(f"{JOBS}/pi", data=json.dumps({"preconditions": {"uid": "not-its-uid"}}),
                            content_type="application/json")
    assert stale.status_code == 409 and stale["Warning"] == JOB_DELETE_WARNING
    assert api.get(f"{JOBS}/pi")[0] == 200


@pytest.mark.parametrize("path", [f"{JOBS}/pi", f"{JOBS}/missing", JOBS, f"{PODS}/p"],
                         ids=["a Job", "a missing Job", "deletecollection", "a Pod"])
def test_an_unknown_propagation_policy_is_refused_before_anything_is_looked_up(api, path):
    """``ValidateDeleteOptions`` runs in the API server's delete handlers, before the object is read: the error
    names the DeleteOptions, and a missing object is not what the answer is about."""
    api.post(JOBS, job("pi"))
    api.post(PODS, pod("p"))
    response = Client().delete(path, data=json.dumps({"propagationPolicy": "Sideways"}),
                               content_type="application/json")
    assert response.status_code == 422 and "Warning" not in response
    status = json.loads(response.content)
    assert status["reason"] == "Invalid"
    assert status["message"] == ('DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: '
                                 '"Sideways": supported values: "Foreground", "Background", "Orphan", "nil"')
    assert status["details"] == {"name": "", "group": "meta.k8s.io", "kind": "DeleteOptions", "causes": [
        {"reason": "FieldValueNotSupported", "field": "propagationPolicy",
         "message": 'Unsupported value: "Sideways": supported values: "Foreground", "Background", "Orphan", "nil"'}]}
    assert api.get(f"{JOBS}/pi")[0] == 200 and api.get(f"{PODS}/p")[0] == 200


@pytest.mark.parametrize("path, body", [
    pytest.param(f"{PODS}/p", pod("p"), id="Pod"),
    pytest.param(f"{BASE}/apis/batch/v1/namespaces/default/cronjobs/hello", {
        "apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "hello"},
        "spec": {"schedule": "*/1 * * * *", "jobTemplate": {"spec": job("x")["spec"]}}}, id="CronJob"),
])
def test_other_kinds_delete_without_a_warning(api, path, body):
    assert api.post(path.rsplit("/", 1)[0], body)[0] == 201
    assert _delete_raw(path) == (200, None)


def test_delete_collection_of_jobs_deletes_what_the_selector_matches_and_warns_without_a_policy(api):
    api.post(JOBS, job("a", template={"metadata": {"labels": {"team": "x"}}, **job("a")["spec"]["template"]}))
    api.post(JOBS, job("b", template={"metadata": {"labels": {"team": "x"}}, **job("b")["spec"]["template"]}))
    api.post(JOBS, job("c"))
    response = Client().delete(f"{JOBS}?labelSelector=team%3Dx", content_type="application/json")
    assert response.status_code == 200 and response["Warning"] == JOB_DELETE_WARNING
    deleted = json.loads(response.content)
    assert (deleted["kind"], deleted["apiVersion"]) == ("JobList", "batch/v1")
    assert [item["metadata"]["name"] for item in deleted["items"]] == ["a", "b"]
    assert [item["metadata"]["name"] for item in api.get(JOBS)[1]["items"]] == ["c"]
    response = Client().delete(JOBS, data=json.dumps({"propagationPolicy": "Background"}),
                               content_type="application/json")
    assert response.status_code == 200 and "Warning" not in response
    assert api.get(JOBS)[1]["items"] == []


def test_delete_collection_orphans_a_jobs_pods_by_default_and_takes_them_with_background(api):
    _, kept = api.post(JOBS, job("kept"))
    _, gone = api.post(JOBS, job("gone"))
    api.post(PODS, owned_pod("kept-pod", kept))
    api.post(PODS, owned_pod("gone-pod", gone))
    Client().delete(f"{JOBS}?fieldSelector=metadata.name%3Dkept", content_type="application/json")
    Client().delete(f"{JOBS}?fieldSelector=metadata.name%3Dgone&propagationPolicy=Background",
                    content_type="application/json")
    code, orphan = api.get(f"{PODS}/kept-pod")
    assert code == 200 and "ownerReferences" not in orphan["metadata"]
    assert api.get(f"{PODS}/gone-pod")[0] == 404


def test_delete_collection_is_not_offered_for_namespaces_nor_across_namespaces(api):
    assert api.delete(f"{BASE}/api/v1/namespaces")[0] == 405
    assert api.delete(f"{BASE}/apis/batch/v1/jobs")[0] == 405
    # and discovery says so, as a 1.32 API server's does (kubectl api-resources -o wide shows the verbs)
    _, core = api.get(f"{BASE}/api/v1")
    verbs = {r["name"]: r["verbs"] for r in core["resources"] if "/" not in r["name"]}
    assert verbs["namespaces"] == ["create", "delete", "get", "list", "patch", "update", "watch"]
    assert "deletecollection" in verbs["pods"] and "deletecollection" in verbs["nodes"]


# --- TaintNodesByCondition (plugin/pkg/admission/nodetaint) ----------------------------------------------------

NODES = f"{BASE}/api/v1/nodes"
NOT_READY_NO_SCHEDULE = {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}


def test_a_node_created_through_the_api_gets_the_not_ready_taint(api):
    code, created = api.post(NODES, {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "extra"},
                                     "spec": {"taints": [{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]}})
    assert code == 201
    assert created["spec"]["taints"] == [{"key": "dedicated", "value": "db", "effect": "NoSchedule"},
                                         NOT_READY_NO_SCHEDULE]
    # Only a create is admitted so: a taint taken away stays away.
    code, updated = api.patch(f"{NODES}/extra", {"spec": {"taints": None}})
    assert code == 200 and "taints" not in updated["spec"]


def test_nodes_the_simulator_registers_join_as_a_ready_kubelets_node_does(api):
    """A kubelet's Node gets the taint too, and loses it as soon as it reports Ready; the simulator's kubelets report
    Ready at once, so their nodes come without it."""
    _, nodes = api.get(NODES)
    assert {n["metadata"]["name"]: n["spec"].get("taints") for n in nodes["items"]} == {
        "control-plane": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}],
        "node-1": None, "node-2": None, "node-3": None,
    }
    response = Client().post("/sim/clusters/test/nodes", data=json.dumps({"name": "node-4"}),
                             content_type="application/json")
    assert response.status_code in (200, 201), response.content
    assert "taints" not in api.get(f"{NODES}/node-4")[1]["spec"]
