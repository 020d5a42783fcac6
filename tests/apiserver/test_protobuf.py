"""Protobuf request bodies (client-go 1.32 typed clients): the wire reader, the field tables, and the API.

Bodies are built here with a tiny encoder that writes fields the way gogo-protobuf does, zero values of non-pointer
fields included; the live kubectl tests (tests/kubectl) send real ones.
"""

import json

import pytest
from django.test import Client

from apiserver import protobuf
from apiserver.kinds import decode_protobuf


def varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def f_int(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value)


def f_bytes(number: int, value: bytes | str) -> bytes:
    data = value.encode() if isinstance(value, str) else value
    return varint(number << 3 | 2) + varint(len(data)) + data


def f_map(number: int, mapping: dict) -> bytes:
    return b"".join(f_bytes(number, f_bytes(1, k) + f_bytes(2, v)) for k, v in mapping.items())


def envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    return protobuf.MAGIC + f_bytes(1, f_bytes(1, api_version) + f_bytes(2, kind)) + f_bytes(2, raw) + \
        f_bytes(3, "") + f_bytes(4, "")


def object_meta(name: str, **extra) -> bytes:
    # what gogo writes for a fresh ObjectMeta: every non-pointer field, empty or not
    body = f_bytes(1, name) + f_bytes(2, "") + f_bytes(3, "") + f_bytes(4, "") + f_bytes(5, "") + f_bytes(6, "") + \
        f_int(7, 0) + f_bytes(8, b"")
    for number, value in extra.items():
        body += value
    return body


def container(name: str, image: str, *command: str) -> bytes:
    body = f_bytes(1, name) + f_bytes(2, image) + b"".join(f_bytes(3, c) for c in command) + f_bytes(5, "")
    body += f_bytes(8, f_map(1, {}) + f_bytes(2, f_bytes(1, "cpu") + f_bytes(2, f_bytes(1, "100m"))))
    body += f_bytes(13, "") + f_bytes(20, "") + f_bytes(14, "") + f_int(16, 0) + f_int(17, 0) + f_int(18, 0)
    return body


def pod_template(*containers: bytes, restart_policy="Never") -> bytes:
    spec = b"".join(f_bytes(2, c) for c in containers) + f_bytes(3, restart_policy) + f_bytes(6, "") + \
        f_bytes(8, "") + f_bytes(10, "") + f_int(11, 0) + f_bytes(16, "") + f_bytes(19, "")
    return f_bytes(1, object_meta("")) + f_bytes(2, spec)


def test_namespace_drops_gogo_zero_values():
    body = envelope("v1", "Namespace", f_bytes(1, object_meta("team-a")) + f_bytes(2, b"") + f_bytes(3, f_bytes(1, "")))
    assert decode_protobuf(body) == {"apiVersion": "v1", "kind": "Namespace",
                                                       "metadata": {"name": "team-a"}}


def test_job_keeps_pointer_zero_values_and_reads_maps_and_quantities():
    meta = object_meta("pi", labels=f_map(11, {"app": "pi"}), annotations=f_map(12, {"note": "x"}))
    spec = f_int(1, 0) + f_int(7, 4) + f_int(10, 0) + f_bytes(6, pod_template(container("pi", "perl:5.34.0", "perl")))
    body = envelope("batch/v1", "Job", f_bytes(1, meta) + f_bytes(2, spec) + f_bytes(3, f_int(1, 0)))
    assert decode_protobuf(body) == {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "pi", "labels": {"app": "pi"}, "annotations": {"note": "x"}},
        "spec": {"parallelism": 0, "backoffLimit": 4, "suspend": False, "template": {"spec": {
            "containers": [{"name": "pi", "image": "perl:5.34.0", "command": ["perl"],
                            "resources": {"requests": {"cpu": "100m"}}}],
            "restartPolicy": "Never"}}},
    }


def test_cronjob_with_inline_volume_source_env_and_owner_references():
    volume = f_bytes(1, "cache") + f_bytes(2, f_bytes(2, f_bytes(1, "")))  # emptyDir: {} (a pointer)
    env = f_bytes(7, f_bytes(1, "MODE") + f_bytes(2, "fast"))
    pod_spec = f_bytes(1, volume) + f_bytes(2, container("hello", "busybox:1.28", "sh") + env) + \
        f_bytes(3, "OnFailure")
    job_template = f_bytes(1, object_meta("")) + f_bytes(2, f_bytes(6, f_bytes(2, pod_spec)))
    owner = f_bytes(13, f_bytes(1, "Node") + f_bytes(3, "n1") + f_bytes(4, "u-1") + f_bytes(5, "v1") + f_int(6, 1))
    spec = f_bytes(1, "*/1 * * * *") + f_bytes(3, "Forbid") + f_bytes(5, job_template) + f_int(6, 3)
    body = envelope("batch/v1", "CronJob", f_bytes(1, object_meta("hello") + owner) + f_bytes(2, spec))
    decoded = decode_protobuf(body)
    assert decoded["metadata"] == {"name": "hello", "ownerReferences": [
        {"apiVersion": "v1", "kind": "Node", "name": "n1", "uid": "u-1", "controller": True}]}
    assert decoded["spec"] == {
        "schedule": "*/1 * * * *", "concurrencyPolicy": "Forbid", "successfulJobsHistoryLimit": 3,
        "jobTemplate": {"spec": {"template": {"spec": {
            "volumes": [{"name": "cache", "emptyDir": {}}],
            "containers": [{"name": "hello", "image": "busybox:1.28", "command": ["sh"],
                            "env": [{"name": "MODE", "value": "fast"}],
                            "resources": {"requests": {"cpu": "100m"}}}],
            "restartPolicy": "OnFailure"}}}},
    }


def test_unknown_fields_are_ignored_when_empty_and_refused_when_not():
    empty_unknown = f_bytes(1, object_meta("a")) + f_bytes(2, f_bytes(11, f_bytes(1, b"")))  # podFailurePolicy {}
    assert decode_protobuf(envelope("batch/v1", "Job", empty_unknown))["metadata"] == {"name": "a"}
    used = f_bytes(1, object_meta("a")) + f_bytes(2, f_bytes(11, f_bytes(1, f_bytes(1, "FailJob"))))
    with pytest.raises(protobuf.ProtobufError) as caught:
        decode_protobuf(envelope("batch/v1", "Job", used))
    assert str(caught.value).startswith("kubeviz cannot decode the protobuf field Job.spec.<field 11>")


def test_a_job_from_a_cronjob_takes_a_spec_it_cannot_read_from_the_cronjob():
    owner = f_bytes(13, f_bytes(1, "CronJob") + f_bytes(3, "hello") + f_bytes(4, "cj-uid") + f_bytes(5, "batch/v1"))
    meta = object_meta("manual", annotations=f_map(12, {"cronjob.kubernetes.io/instantiate": "manual"})) + owner
    body = envelope("batch/v1", "Job", f_bytes(1, meta) + f_bytes(2, f_bytes(11, f_bytes(1, f_bytes(1, "x")))))
    template = {"podFailurePolicy": {"rules": []}, "template": {"spec": {"containers": []}}}
    cronjob = {"kind": "CronJob", "spec": {"jobTemplate": {"spec": template}}}
    decoded = decode_protobuf(body, lookup_owner={"cj-uid": cronjob}.get)
    assert decoded["spec"] == template and decoded["metadata"]["name"] == "manual"


@pytest.mark.parametrize("body, message", [
    (b"{}", "the protobuf body does not start with the Kubernetes magic number k8s\\x00"),
    (envelope("v1", "ConfigMap", f_bytes(1, object_meta("c"))),
     "kubeviz cannot decode a protobuf ConfigMap (v1): this simulated cluster reads protobuf bodies only for "
     "CronJob, Job, Namespace, Pod, ResourceQuota; send the object as JSON instead (for example with kubectl create -f "
     "or kubectl apply -f)"),
    (protobuf.MAGIC + b"\x0a\x05ab", "truncated protobuf body (length-delimited field)"),
], ids=["no magic", "unsupported kind", "truncated"])
def test_undecodable_bodies(body, message):
    with pytest.raises(protobuf.ProtobufError) as caught:
        decode_protobuf(body)
    assert str(caught.value) == message


# --- through the API ---------------------------------------------------------------------------------------

def post(path, body):
    response = Client().post(path, data=body, content_type=protobuf.MEDIA_TYPE,
                             HTTP_ACCEPT="application/vnd.kubernetes.protobuf,application/json")
    assert response["Content-Type"] == "application/json"
    return response.status_code, json.loads(response.content)


def test_create_namespace_and_job_in_protobuf_answers_json(cluster):
    code, namespace = post("/clusters/test/api/v1/namespaces",
                           envelope("v1", "Namespace", f_bytes(1, object_meta("team-a"))))
    assert code == 201 and namespace["metadata"]["name"] == "team-a" and namespace["status"]["phase"] == "Active"
    job = f_bytes(1, object_meta("pi")) + f_bytes(2, f_bytes(6, pod_template(container("pi", "perl:5.34.0"))))
    code, created = post("/clusters/test/apis/batch/v1/namespaces/team-a/jobs?fieldManager=kubectl-create"
                         "&fieldValidation=Strict", envelope("batch/v1", "Job", job))
    assert code == 201
    assert created["spec"]["template"]["spec"]["containers"][0]["image"] == "perl:5.34.0"
    assert created["spec"]["backoffLimit"] == 6  # defaulted as for JSON


def test_unsupported_protobuf_is_a_415_status(cluster):
    code, status = post("/clusters/test/apis/apps/v1/namespaces/default/daemonsets",
                        envelope("apps/v1", "DaemonSet", f_bytes(1, object_meta("ds"))))
    assert code == 415 and status["reason"] == "UnsupportedMediaType"
    assert status["message"].startswith("kubeviz cannot decode a protobuf DaemonSet (apps/v1)")
