"""Lists through the HTTP surface (Django's test client, no network): ``limit`` and ``continue`` in List and Table
bodies, their errors, and gzipped large responses."""

import base64
import gzip
import json
from urllib.parse import urlencode

import pytest

from apiserver import paging
from apiserver.registry import POD
from kubeviz.store.storage import DatabaseStorage

from .test_api import BASE, PODS, Api, pod

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io," \
        "application/json"


@pytest.fixture
def api(cluster):
    return Api()


def names(body, key="items"):
    if key == "rows":
        return [row["cells"][0] for row in body["rows"]]
    return [item["metadata"]["name"] for item in body["items"]]


def get(api, path, **params):
    return api.get(f"{path}?{urlencode(params)}")


def test_a_list_in_chunks_of_two(api):
    for name in ("e", "c", "a", "d", "b"):
        assert api.post(PODS, pod(name))[0] == 201
    code, first = get(api, PODS, limit=2)
    assert code == 200
    rv = first["metadata"]["resourceVersion"]
    assert first["metadata"] == {"resourceVersion": rv, "continue": first["metadata"]["continue"],
                                 "remainingItemCount": 3}
    assert list(first["metadata"]) == ["resourceVersion", "continue", "remainingItemCount"]
    assert names(first) == ["a", "b"]
    seen = names(first)
    body = first
    while "continue" in body["metadata"]:
        code, body = get(api, PODS, limit=2, **{"continue": body["metadata"]["continue"]})
        assert code == 200 and body["metadata"]["resourceVersion"] == rv
        assert all(item["kind"] == "Pod" for item in body["items"])
        seen += names(body)
    assert seen == ["a", "b", "c", "d", "e"]
    assert body["metadata"] == {"resourceVersion": rv}


def test_later_chunks_are_the_state_of_the_first(api):
    for name in ("a", "b", "c"):
        api.post(PODS, pod(name))
    _, first = get(api, PODS, limit=1)
    api.post(PODS, pod("aa"))
    api.delete(f"{PODS}/c")
    _, rest = get(api, PODS, limit=5, **{"continue": first["metadata"]["continue"]})
    assert names(rest) == ["b", "c"]
    assert names(api.get(PODS)[1]) == ["a", "aa", "b"]


def test_a_table_in_chunks(api):
    for name in ("a", "b", "c"):
        api.post(PODS, pod(name))
    code, first = api.call("GET", f"{PODS}?limit=2", HTTP_ACCEPT=TABLE)
    assert code == 200 and first["kind"] == "Table"
    assert names(first, "rows") == ["a", "b"]
    assert first["metadata"]["remainingItemCount"] == 1
    code, rest = api.call("GET", f"{PODS}?" + urlencode({"limit": 2, "continue": first["metadata"]["continue"]}),
                          HTTP_ACCEPT=TABLE)
    assert names(rest, "rows") == ["c"]
    assert rest["metadata"] == {"resourceVersion": first["metadata"]["resourceVersion"]}


def test_a_chunk_from_a_compacted_revision_is_410_expired(api, cluster):
    for name in ("a", "b", "c"):
        api.post(PODS, pod(name))
    _, first = get(api, PODS, limit=1)
    api.post(PODS, pod("d"))
    DatabaseStorage(cluster).compact(int(first["metadata"]["resourceVersion"]) + 1)
    code, status = get(api, PODS, limit=1, **{"continue": first["metadata"]["continue"]})
    assert code == 410
    token = status["metadata"]["continue"]
    assert status == {"kind": "Status", "apiVersion": "v1", "metadata": {"continue": token}, "status": "Failure",
                      "message": paging.INCONSISTENT_CONTINUE, "reason": "Expired", "code": 410}
    code, rest = get(api, PODS, limit=5, **{"continue": token})
    assert code == 200 and names(rest) == ["b", "c", "d"]


@pytest.mark.parametrize("token, message", [
    ("garbage", "invalid continue token: continue key is not valid: invalid character '\\u0081' looking for "
                "beginning of value"),
    ("not a token", "invalid continue token: continue key is not valid: illegal base64 data at input byte 3"),
    (base64.urlsafe_b64encode(b'{"v":"meta.k8s.io/v2","rv":5,"start":"a"}').decode().rstrip("="),
     "invalid continue token: continue key is not valid: server does not recognize this encoded version "
     "meta.k8s.io/v2"),
])
def test_a_garbage_token_is_a_400(api, token, message):
    code, status = get(api, PODS, limit=1, **{"continue": token})
    assert (code, status["reason"], status["message"]) == (400, "BadRequest", message)


@pytest.mark.parametrize("limit, message", [
    ("abc", 'strconv.ParseInt: parsing "abc": invalid syntax'),
    ("", 'strconv.ParseInt: parsing "": invalid syntax'),
    ("99999999999999999999", 'strconv.ParseInt: parsing "99999999999999999999": value out of range'),
])
def test_a_limit_that_is_no_integer_is_a_400(api, limit, message):
    code, status = get(api, PODS, limit=limit)
    assert (code, status["message"]) == (400, message)


def test_resource_version_0_ignores_the_limit_as_the_watch_cache_does(api):
    for name in ("a", "b"):
        api.post(PODS, pod(name))
    _, body = get(api, PODS, limit=1, resourceVersion="0")
    assert names(body) == ["a", "b"] and "continue" not in body["metadata"]
    _, body = get(api, PODS, limit=1, resourceVersion="")
    assert names(body) == ["a"] and "continue" in body["metadata"]


# --- compression ----------------------------------------------------------------------------------------------

def fat_pod(name):
    return pod(name, annotations={"filler": "x" * 50_000})


def test_a_large_list_is_gzipped_for_a_client_that_accepts_it(api):
    for name in ("a", "b", "c"):
        assert api.post(PODS, fat_pod(name))[0] == 201
    plain = api.client.get(PODS)
    assert len(plain.content) > 128 * 1024
    assert not plain.has_header("Content-Encoding")
    zipped = api.client.get(PODS, HTTP_ACCEPT_ENCODING="deflate, gzip")
    assert zipped["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped["Vary"]
    assert zipped["Content-Type"] == "application/json"
    assert len(zipped.content) < len(plain.content) / 20
    assert gzip.decompress(zipped.content) == plain.content
    # upstream matches the token exactly: a gzip with a quality is not taken for one
    assert not api.client.get(PODS, HTTP_ACCEPT_ENCODING="gzip;q=1.0").has_header("Content-Encoding")


def test_only_large_api_objects_are_gzipped(api, cluster):
    """A small list is sent as it is; a log is a stream upstream (StreamObject), never compressed, however large."""
    from kubeviz.store.services import registry_for

    api.post(PODS, pod("a", node="node-1"))
    small = api.client.get(PODS, HTTP_ACCEPT_ENCODING="gzip")
    assert not small.has_header("Content-Encoding")
    assert json.loads(small.content)["items"][0]["metadata"]["name"] == "a"
    registry = registry_for(cluster)
    uid = registry.get(POD, "default", "a")["metadata"]["uid"]
    registry.storage.append_log("default", "a", uid, "c", 0, [["2025-01-01T00:00:00Z", "y" * 200_000]])
    log = api.client.get(f"{PODS}/a/log", HTTP_ACCEPT_ENCODING="gzip")
    assert log.status_code == 200 and not log.has_header("Content-Encoding")
    for name in ("b", "c", "d"):
        assert api.post(PODS, fat_pod(name))[0] == 201
    assert api.client.get(PODS, HTTP_ACCEPT_ENCODING="gzip")["Content-Encoding"] == "gzip"
