"""Lists through the HTTP surface (Django's test client, no network): ``limit`` and ``continue`` in List and Table
bodies, and their errors."""

import base64
import json
from urllib.parse import urlencode

import pytest

from apiserver import paging
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
