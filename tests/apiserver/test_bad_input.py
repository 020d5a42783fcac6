"""Hostile or absurd input on every endpoint gets a clear Status (or the panel's JSON error), never a 500: bodies
over the API server's size limit, JSON nested past any API object, seeds and times the store cannot hold."""

import pytest

from tests.apiserver.test_api import BASE, JOBS, Api, job

DEEP_JSON = "[" * 100_000 + "]" * 100_000
LIMIT = 3 * 1024 * 1024  # the API server's MaxRequestBodyBytes


@pytest.fixture
def api(cluster):
    return Api()


def test_a_body_over_the_limit_is_413_before_it_is_read(api):
    code, status = api.call("POST", JOBS, b" " * (LIMIT + 1))
    assert code == 413 and status["reason"] == "RequestEntityTooLarge"
    assert status["message"] == f"Request entity too large: limit is {LIMIT}"
    # The same for the simulator's endpoints (the apply endpoint's own limit answers smaller bodies).
    code, status = api.call("POST", "/sim/clusters/test/apply", b"#" * (LIMIT + 1), content_type="application/yaml")
    assert (code, status["reason"]) == (413, "RequestEntityTooLarge")
    code, _ = api.post(JOBS, job("after"))
    assert code == 201


@pytest.mark.parametrize("method, path, content_type, message", [
    ("POST", JOBS, "application/json", "couldn't get version/kind; json parse error: exceeded max depth"),
    ("PATCH", f"{JOBS}/x", "application/merge-patch+json", "error decoding patch: exceeded max depth"),
    ("PATCH", f"{JOBS}/x", "application/strategic-merge-patch+json", "error decoding patch: exceeded max depth"),
    ("DELETE", f"{JOBS}/x", "application/json", "couldn't get version/kind; json parse error: exceeded max depth"),
    ("POST", "/sim/clusters", "application/json", "request body is not valid JSON: exceeded max depth"),
    ("POST", "/sim/clusters/test/console", "application/json", "request body is not valid JSON: exceeded max depth"),
])
def test_json_nested_past_any_object_is_400(api, method, path, content_type, message):
    code, status = api.call(method, path, DEEP_JSON, content_type=content_type)
    assert (code, status["reason"], status["message"]) == (400, "BadRequest", message)


def test_the_depth_limit_is_far_past_any_object(api):
    def nested(depth):
        value = "leaf"
        for _ in range(depth):
            value = [value]
        return value

    # An unknown field is read (then dropped) while the body is no deeper than 64 levels.
    code, created = api.post(f"{JOBS}?fieldValidation=Ignore", dict(job("deep-enough"), extra=nested(62)))
    assert code == 201 and "extra" not in created, created
    code, status = api.post(f"{JOBS}?fieldValidation=Ignore", dict(job("too-deep"), extra=nested(64)))
    assert (code, status["message"]) == (400, "couldn't get version/kind; json parse error: exceeded max depth")


def test_a_server_side_apply_nested_too_deep_is_400(api):
    code, status = api.call("PATCH", f"{JOBS}/x?fieldManager=me", "a: " + "[" * 100_000,
                            content_type="application/apply-patch+yaml")
    assert (code, status["reason"]) == (400, "BadRequest")
    assert status["message"] == "error decoding YAML: line 1: document nesting is deeper than 64 levels; refusing to load it"


@pytest.mark.parametrize("body, message", [
    ({"name": "big-seed", "seed": 2**64},
     "seed must be an integer from -9223372036854775808 to 9223372036854775807"),
    ({"name": "far", "start": "9999-12-31T23:59:59Z"},
     'start: Invalid value: "9999-12-31T23:59:59Z": must be from 1970-01-01T00:00:00Z to 9000-01-01T00:00:00Z'),
    ({"name": "early", "start": "1969-12-31T23:59:59Z"},
     'start: Invalid value: "1969-12-31T23:59:59Z": must be from 1970-01-01T00:00:00Z to 9000-01-01T00:00:00Z'),
])
def test_a_cluster_the_store_cannot_hold_is_refused(api, body, message):
    code, status = api.post("/sim/clusters", body)
    assert (code, status["reason"], status["message"]) == (422, "Invalid", message)
    code, _ = api.get(f"/sim/clusters/{body['name']}")
    assert code == 404


def test_the_clock_stops_at_the_far_end(api):
    code, _ = api.post("/sim/clusters", {"name": "end", "nodes": 1, "start": "8999-12-31T23:00:00Z"})
    assert code == 201
    code, status = api.post("/sim/clusters/end/clock/advance", {"seconds": 7200})
    assert (code, status["message"]) == (
        422, "seconds: Invalid value: 7200: the clock cannot pass 9000-01-01T00:00:00Z")
    code, clock = api.post("/sim/clusters/end/clock/advance", {"seconds": 3600})
    assert (code, clock["now"]) == (200, "9000-01-01T00:00:00Z")
    assert api.get(f"{BASE}/api/v1/nodes")[0] == 200
