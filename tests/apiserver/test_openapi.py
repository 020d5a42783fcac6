"""``/openapi/v3``: what kubectl's field-validation check (query_param_verifier_v3.go) looks for."""

import json

import pytest
from django.test import Client

from apiserver import openapi
from apiserver.kinds import RESOURCE_TYPES

BASE = "/clusters/test/openapi"


def get(path):
    response = Client().get(path)
    return response, json.loads(response.content)


def test_index_links_every_group_version_with_its_hash(cluster):
    response, index = get(f"{BASE}/v3")
    assert response.status_code == 200
    assert sorted(index["paths"]) == ["api/v1", "apis/apps/v1", "apis/batch/v1", "apis/coordination.k8s.io/v1"]
    for key, entry in index["paths"].items():
        url = entry["serverRelativeURL"]
        assert url.startswith(f"/openapi/v3/{key}?hash=")
        digest = url.split("hash=")[1]
        assert len(digest) == 128 and digest == digest.upper()
        assert openapi.document(key)[1] == digest


@pytest.mark.parametrize("resource", RESOURCE_TYPES, ids=[r.kind for r in RESOURCE_TYPES])
def test_every_kind_has_a_patch_operation_taking_field_validation(cluster, resource):
    key = f"api/{resource.version}" if not resource.group else f"apis/{resource.group}/{resource.version}"
    digest = openapi.document(key)[1]
    response, document = get(f"{BASE}/v3/{key}?hash={digest}")
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, immutable"
    gvk = {"group": resource.group, "version": resource.version, "kind": resource.kind}
    patches = [item["patch"] for item in document["paths"].values()
               if "patch" in item and item["patch"]["x-kubernetes-group-version-kind"] == gvk]
    assert patches, f"no PATCH operation for {gvk}"
    for operation in patches:
        assert "fieldValidation" in [p["name"] for p in operation["parameters"]]
        # no strategic-merge media type: kubectl then builds apply patches from its compiled-in types
        assert "application/strategic-merge-patch+json" not in operation["requestBody"]["content"]


def test_item_path_is_named_as_upstream(cluster):
    _, document = get(f"{BASE}/v3/apis/batch/v1")
    assert "/apis/batch/v1/namespaces/{namespace}/jobs/{name}" in document["paths"]
    _, core = get(f"{BASE}/v3/api/v1")
    assert "/api/v1/nodes/{name}" in core["paths"]


def test_a_stale_hash_is_served_but_not_cached(cluster):
    response, _ = get(f"{BASE}/v3/apis/batch/v1?hash=OLD")
    assert response.status_code == 200 and response["Cache-Control"] == "no-cache, private"


def test_v2_is_an_empty_protobuf_document(cluster):
    # kubectl asks for it only as protobuf; an empty Document (no bytes) has no schemas to validate against.
    response = Client().get(f"{BASE}/v2", HTTP_ACCEPT="application/com.github.proto-openapi.spec.v2@v1.0+protobuf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
    assert response.content == b""


@pytest.mark.parametrize("path", ["/v3/apis/extensions/v1beta1", "/v3/apis/batch", "/v2/extra"])
def test_other_documents_are_404_status(cluster, path):
    response, status = get(f"{BASE}{path}")
    assert response.status_code == 404
    assert status["kind"] == "Status" and status["message"] == "the server could not find the requested resource"


def test_unknown_cluster(db):
    response, status = get("/clusters/nope/openapi/v3")
    assert response.status_code == 404 and status["message"] == 'clusters "nope" not found'
