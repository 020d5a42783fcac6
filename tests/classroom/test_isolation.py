"""The isolation matrix over plain HTTP: every endpoint family x {nobody, learner A, learner B, the class's teacher,
another teacher}, each against learner A's sandbox (the websocket's column is in ``test_stream.py``, the real
kubectl's in ``test_kubectl.py``)."""

import json

import pytest

from kubeviz.classroom.models import Capability

from .conftest import SLUG, post_json

WHO = ("nobody", "a", "b", "teacher", "other_teacher")
JOBS = "/apis/batch/v1/namespaces/default/jobs"
ANONYMOUS_LIST_JOBS = ('jobs.batch is forbidden: User "system:anonymous" cannot list resource "jobs" in API group '
                       '"batch" in the namespace "default"')


def own_token(world, who):
    """The token each one holds: a learner their sandbox's, a teacher the one their kubeconfig of A would carry
    (the other teacher may not download it, so theirs is for a cluster of the teachers')."""
    from kubeviz.classroom.access import Principal, capability_for
    from kubeviz.store.services import cluster_create

    if who == "a":
        return world.token(world.sandbox_a)
    if who == "b":
        return world.token(world.sandbox_b)
    if who == "teacher":
        return capability_for(Principal("teacher", user=world.teacher), world.sandbox_a.cluster).token
    if who == "other_teacher":
        shared = cluster_create(name="teachers-own", nodes=1)
        return capability_for(Principal("teacher", user=world.other_teacher), shared).token
    return None


def test_the_kubernetes_api_by_name_needs_a_token_of_that_cluster(world):
    expected = {"nobody": 403, "a": 200, "b": 403, "teacher": 200, "other_teacher": 403}
    for who in WHO:
        token = own_token(world, who)
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
        # The session cookie of each client is sent too, and counts for nothing here.
        response = world.clients[who].get(f"/clusters/{world.cluster_a}{JOBS}", **headers)
        assert response.status_code == expected[who], (who, response.content)
        body = response.json()
        if expected[who] == 403:
            user = {"nobody": "system:anonymous", "b": f"kubeviz:learner:{world.b.pk}",
                    "other_teacher": "kubeviz:teacher:mr-other"}[who]
            assert body == {
                "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "reason": "Forbidden",
                "code": 403, "details": {"group": "batch", "kind": "jobs"},
                "message": f'jobs.batch is forbidden: User "{user}" cannot list resource "jobs" in API group '
                           f'"batch" in the namespace "default"',
            }
        else:
            assert body["kind"] == "JobList"


def test_without_a_token_a_name_tells_nothing(world):
    client = world.clients["nobody"]
    for path in (f"/clusters/{world.cluster_a}{JOBS}", f"/clusters/no-such-cluster{JOBS}"):
        response = client.get(path)
        assert response.status_code == 403
        assert response.json()["message"] == ANONYMOUS_LIST_JOBS
    assert client.get(f"/clusters/{world.cluster_a}/version").json()["message"] == (
        'forbidden: User "system:anonymous" cannot get path "/version"')
    created = client.post(f"/clusters/{world.cluster_a}/api/v1/namespaces/default/pods", "{}",
                          content_type="application/json")
    assert created.status_code == 403
    assert created.json()["message"] == ('pods is forbidden: User "system:anonymous" cannot create resource "pods" in '
                                         'API group "" in the namespace "default"')


def test_the_capability_url_reaches_its_own_cluster_only(world):
    client = world.clients["nobody"]  # a capability needs no session: kubectl has none
    token_a, token_b = world.token(world.sandbox_a), world.token(world.sandbox_b)
    nodes = client.get(f"/k/{token_a}/api/v1/nodes").json()
    assert nodes["kind"] == "NodeList" and nodes["items"]
    assert client.get(f"/k/{token_a}/version").status_code == 200
    # Writes go to A's cluster, and only there.
    made = client.post(f"/k/{token_a}/api/v1/namespaces", json.dumps(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ada-was-here"}}), content_type="application/json")
    assert made.status_code == 201
    names = {ns["metadata"]["name"] for ns in client.get(f"/k/{token_b}/api/v1/namespaces").json()["items"]}
    assert "ada-was-here" not in names
    # Unknown tokens, and a bearer token that is not the path's, are not accepted.
    unauthorized = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                    "message": "Unauthorized", "reason": "Unauthorized", "code": 401}
    assert client.get("/k/not-a-token/api/v1/nodes").json() == unauthorized
    assert client.get(f"/k/{token_a}/api/v1/nodes", HTTP_AUTHORIZATION=f"Bearer {token_b}").json() == unauthorized
    assert client.get(f"/clusters/{world.cluster_a}/api/v1/nodes",
                      HTTP_AUTHORIZATION="Bearer not-a-token").status_code == 401
    # B's token names B's cluster: on A's it is B asking, and B may not.
    refused = client.get(f"/clusters/{world.cluster_a}/api/v1/nodes", HTTP_AUTHORIZATION=f"Bearer {token_b}")
    assert refused.status_code == 403
    assert refused.json()["message"] == (f'nodes is forbidden: User "kubeviz:learner:{world.b.pk}" cannot list '
                                         f'resource "nodes" in API group "" at the cluster scope')


def test_a_read_only_capability_reads_and_may_not_write(world):
    read = Capability.objects.create(cluster=world.sandbox_a.cluster, teacher=world.teacher,
                                     access=Capability.Access.READ)
    client = world.clients["nobody"]
    assert client.get(f"/k/{read.token}{JOBS}").status_code == 200
    assert client.get(f"/k/{read.token}{JOBS}?watch=true&timeoutSeconds=0").status_code == 200
    refused = client.delete(f"/k/{read.token}/api/v1/nodes/node-1")
    assert refused.status_code == 403
    assert refused.json()["message"] == ('nodes "node-1" is forbidden: User "kubeviz:teacher:ms-lee" cannot delete '
                                         'resource "nodes" in API group "" at the cluster scope')
    assert refused.json()["details"] == {"name": "node-1", "kind": "nodes"}


@pytest.mark.parametrize("method, path, body, expected", [
    ("get", "clock", None, {"nobody": 401, "a": 200, "b": 403, "teacher": 200, "other_teacher": 403}),
    ("patch", "clock", {"speed": 2}, {"nobody": 401, "a": 200, "b": 403, "teacher": 200, "other_teacher": 403}),
    ("post", "clock/step", None, {"nobody": 401, "a": 200, "b": 403, "teacher": 200, "other_teacher": 403}),
    ("get", "traces", None, {"nobody": 401, "a": 200, "b": 403, "teacher": 200, "other_teacher": 403}),
    ("post", "console", {"command": ""}, {"nobody": 401, "a": 200, "b": 403, "teacher": 200, "other_teacher": 403}),
    ("get", "kubeconfig", None, {"nobody": 401, "a": 200, "b": 403, "teacher": 200, "other_teacher": 403}),
    ("get", "", None, {"nobody": 401, "a": 200, "b": 403, "teacher": 200, "other_teacher": 403}),
], ids=["clock", "clock patch", "step", "traces", "console", "kubeconfig", "cluster"])
def test_the_simulator_endpoints(world, method, path, body, expected):
    for who in WHO:
        client = world.clients[who]
        url = f"/sim/clusters/{world.cluster_a}" + (f"/{path}" if path else "")
        if method == "get":
            response = client.get(url)
        else:
            response = getattr(client, method)(url, json.dumps(body or {}), content_type="application/json")
        assert response.status_code == expected[who], (who, response.content)
        if expected[who] == 401:
            assert response.json()["reason"] == "Unauthorized"
        if expected[who] == 403:
            assert response.json()["reason"] == "Forbidden"
            assert f'clusters "{world.cluster_a}" is forbidden' in response.json()["message"]


def test_apply_and_delete_through_sim(world):
    yaml = b"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: from-apply\n"
    for who, status in (("nobody", 401), ("b", 403), ("other_teacher", 403), ("a", 200), ("teacher", 200)):
        response = world.clients[who].post(f"/sim/clusters/{world.cluster_a}/apply", yaml,
                                           content_type="application/yaml")
        assert response.status_code == status, who
    for who, status in (("nobody", 401), ("b", 403), ("other_teacher", 403)):
        assert world.clients[who].delete(f"/sim/clusters/{world.cluster_a}").status_code == status, who


def test_the_listing_shows_each_only_their_own(world):
    from kubeviz.store.services import cluster_create

    cluster_create(name="default", nodes=1)

    def names(who):
        response = world.clients[who].get("/sim/clusters")
        return response.status_code, sorted(c["name"] for c in response.json().get("items", []))

    assert names("nobody")[0] == 401
    assert names("a") == (200, [world.cluster_a])
    assert names("b") == (200, [world.cluster_b])
    assert names("teacher") == (200, sorted([world.cluster_a, world.cluster_b, "default"]))
    assert names("other_teacher") == (200, ["default"])
    # Only teachers make clusters of their own.
    body = {"name": "mine", "nodes": 1}
    assert post_json(world.clients["a"], "/sim/clusters", body).status_code == 403
    assert post_json(world.clients["nobody"], "/sim/clusters", body).status_code == 401
    assert post_json(world.clients["teacher"], "/sim/clusters", body).status_code == 201


def test_the_kubeconfig_carries_the_callers_own_capability(world):
    import yaml

    a = yaml.safe_load(world.clients["a"].get(f"/sim/clusters/{world.cluster_a}/kubeconfig").content)
    token = world.token(world.sandbox_a)
    assert a["clusters"][0]["cluster"]["server"] == f"http://testserver/k/{token}"
    assert a["users"][0]["user"] == {"token": token}
    teacher = yaml.safe_load(world.clients["teacher"].get(f"/sim/clusters/{world.cluster_a}/kubeconfig").content)
    teacher_token = teacher["users"][0]["user"]["token"]
    assert teacher_token != token
    assert Capability.objects.get(token=teacher_token).teacher == world.teacher
    assert world.cluster_a not in json.dumps(a["clusters"][0]["cluster"])  # the name is no part of the way in


def test_dashboard_pages(world):
    for who, status in (("nobody", 302), ("a", 200), ("b", 403), ("teacher", 200), ("other_teacher", 403)):
        response = world.clients[who].get(f"/c/{world.cluster_a}/")
        assert response.status_code == status, who
        if status == 302:
            assert response["Location"] == f"/accounts/login/?next=%2Fc%2F{world.cluster_a}%2F"
        if status == 403:
            html = response.content.decode()
            assert 'data-testid="forbidden"' in html
            assert "kubeviz-config" not in html and "/k/" not in html  # no dashboard, no way in
    # The page reaches the API through the viewer's own capability, never by name.
    page = world.clients["a"].get(f"/c/{world.cluster_a}/").content.decode()
    assert f"/k/{world.token(world.sandbox_a)}" in page
    assert f'"/clusters/{world.cluster_a}"' not in page
    # An unknown cluster answers as a forbidden one; the 404 page of a teacher lists only what they may see.
    assert world.clients["b"].get("/c/no-such-cluster/").status_code == 403
    # The root is the teachers' default cluster; a learner is sent to their class, nobody to the join page.
    assert world.clients["a"].get("/")["Location"] == "/class/"
    assert world.clients["nobody"].get("/")["Location"] == "/join/"


def test_lesson_endpoints_answer_for_the_callers_own_sandbox_only(world):
    url = f"/lessons/{SLUG}/api/step"
    assert world.clients["nobody"].get(url).status_code == 401
    assert world.clients["a"].get(url).json()["cluster"] == world.cluster_a
    assert world.clients["b"].get(url).json()["cluster"] == world.cluster_b
    for who in ("teacher", "other_teacher"):  # no preview of their own: nothing to answer, and never A's
        response = world.clients[who].get(url)
        assert response.status_code == 404 and world.cluster_a not in response.content.decode()
    # B moving "their" step leaves A's where it was.
    assert post_json(world.clients["b"], url, {"step": 1}).json()["index"] == 1
    assert world.clients["a"].get(url).json()["index"] == 0
    for who in ("nobody",):
        assert world.clients[who].get(f"/lessons/{SLUG}/").status_code == 302
    assert world.clients["b"].get(f"/lessons/{SLUG}/").status_code == 200
    assert world.cluster_a not in world.clients["b"].get(f"/lessons/{SLUG}/").content.decode()


def test_teacher_pages_are_the_teachers(world):
    url = f"/teach/{world.classroom.pk}/"
    assert world.clients["teacher"].get(url).status_code == 200
    assert world.clients["other_teacher"].get(url).status_code == 404
    assert world.clients["nobody"].get(url)["Location"].startswith("/accounts/login/")
    assert world.clients["a"].get(url)["Location"].startswith("/accounts/login/")
    assert world.clients["other_teacher"].post(f"/teach/{world.classroom.pk}/reset").status_code == 404
    assert world.clients["nobody"].get("/class/")["Location"].startswith("/join/")
