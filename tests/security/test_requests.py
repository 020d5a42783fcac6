"""Requests a page on another site could send through a learner's browser change nothing: the simulator's
endpoints read only JSON (or YAML) bodies, a browser's request needs the page's CSRF token, and a browser on
another origin is refused even by the Kubernetes API, which kubectl calls without either.

Each request here is what the browser would send for a hostile page's ``fetch(..., {mode: "no-cors"})`` or form:
its ``Origin``, its ``Sec-Fetch-Site``, and a body of a type that needs no preflight."""

import json

import pytest
from django.test import Client

from kubeviz.store.models import Cluster
from tests.manifests import PI

EVIL = "http://evil.example"
HOSTILE = {"HTTP_ORIGIN": EVIL, "HTTP_SEC_FETCH_SITE": "cross-site", "HTTP_SEC_FETCH_MODE": "no-cors"}
# A page on another port of the same machine: same site, other origin.
NEIGHBOUR = {"HTTP_ORIGIN": "http://localhost:9999", "HTTP_SEC_FETCH_SITE": "same-site",
             "HTTP_SEC_FETCH_MODE": "no-cors"}


@pytest.fixture(autouse=True)
def _cluster(cluster):
    return cluster


def browser_client() -> Client:
    """A browser that has the dashboard open (it holds the CSRF cookie), with CSRF checks on as in production."""
    client = Client(enforce_csrf_checks=True)
    client.get("/c/test/")
    assert client.cookies["csrftoken"].value
    return client


def clock(client=None) -> dict:
    return json.loads((client or Client()).get("/sim/clusters/test/clock").content)


# (method, path, body, content type): every state-changing endpoint of the simulator and the lesson panel.
SIM_WRITES = [
    ("post", "/sim/clusters", '{"name": "evil"}', "text/plain"),
    ("post", "/sim/clusters/test/clock/advance", '{"seconds": 600}', "text/plain"),
    ("post", "/sim/clusters/test/clock/advance", "seconds=600", "application/x-www-form-urlencoded"),
    ("post", "/sim/clusters/test/clock/step", "", ""),
    ("post", "/sim/clusters/test/apply", PI, "text/plain"),
    ("post", "/sim/clusters/test/console", '{"command": "kubectl create namespace hacked"}', "text/plain"),
    ("post", "/sim/clusters/test/nodes", '{"name": "evil-node"}', "text/plain"),
    ("post", "/sim/clusters/test/nodes/node-1/fail", "", ""),
    ("post", "/i18n/setlang/", "language=zh-hans", "application/x-www-form-urlencoded"),
]


@pytest.mark.parametrize("headers", [HOSTILE, NEIGHBOUR], ids=["cross-site", "same-site"])
@pytest.mark.parametrize("method, path, body, content_type", SIM_WRITES, ids=[f"{m} {p}" for m, p, _, _ in SIM_WRITES])
def test_a_page_on_another_origin_changes_nothing(method, path, body, content_type, headers):
    client = browser_client()  # even with the learner's cookies
    before = clock(client)
    response = getattr(client, method)(path, data=body, content_type=content_type, **headers)
    assert response.status_code == 403
    status = json.loads(response.content)  # a Status, not Django's HTML page
    assert status["kind"] == "Status" and status["reason"] == "Forbidden"
    assert "another" in status["message"]
    assert clock(client) == before
    assert list(Cluster.objects.values_list("name", flat=True)) == ["test"]
    assert Client().get("/clusters/test/api/v1/nodes/evil-node").status_code == 404


# The Kubernetes API: a no-cors fetch can POST a Blob with no Content-Type, which the API reads as JSON.
KUBE_WRITES = [
    ("post", "/clusters/test/apis/batch/v1/namespaces/default/jobs",
     '{"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "evil"}, "spec": {"template": {"spec": '
     '{"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}}'),
    ("post", "/clusters/test/api/v1/namespaces", '{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "evil"}}'),
]


@pytest.mark.parametrize("method, path, body", KUBE_WRITES, ids=[p for _, p, _ in KUBE_WRITES])
def test_the_kubernetes_api_refuses_a_browser_on_another_origin(method, path, body):
    response = getattr(Client(), method)(path, data=body, content_type="", **HOSTILE)
    assert response.status_code == 403
    assert json.loads(response.content)["reason"] == "Forbidden"
    assert Client().get(path + "/evil").status_code == 404
    # kubectl sends neither Origin nor Sec-Fetch-Site, and no CSRF token: it still works
    assert getattr(Client(), method)(path, data=body, content_type="application/json").status_code == 201


def test_the_dashboard_itself_still_works_with_its_token():
    client = browser_client()
    token = client.cookies["csrftoken"].value
    own = {"HTTP_ORIGIN": "http://testserver", "HTTP_SEC_FETCH_SITE": "same-origin", "HTTP_X_CSRFTOKEN": token}
    response = client.post("/sim/clusters/test/clock/advance", data={"seconds": 60},
                           content_type="application/json", **own)
    assert response.status_code == 200, response.content
    assert json.loads(response.content)["now"] == "2025-01-01T00:01:00Z"
    response = client.patch("/clusters/test/api/v1/nodes/node-1", data={"metadata": {"labels": {"a": "b"}}},
                            content_type="application/merge-patch+json", **own)
    assert response.status_code == 200


def test_a_browser_request_without_the_token_is_refused():
    client = browser_client()
    own = {"HTTP_ORIGIN": "http://testserver", "HTTP_SEC_FETCH_SITE": "same-origin"}
    response = client.post("/sim/clusters/test/clock/advance", data={"seconds": 60},
                           content_type="application/json", **own)
    assert response.status_code == 403
    status = json.loads(response.content)
    assert status["reason"] == "Forbidden" and "CSRF" in status["message"]
    assert clock()["now"] == "2025-01-01T00:00:00Z"


def test_scripts_without_a_browser_need_no_token():
    """curl, the README's examples, the tests: no cookie, no Origin, so nothing a hostile page could borrow."""
    client = Client(enforce_csrf_checks=True)
    response = client.post("/sim/clusters/test/clock/advance", data={"seconds": 60},
                           content_type="application/json")
    assert response.status_code == 200


@pytest.mark.parametrize("path, body, content_type", [
    ("/sim/clusters", '{"name": "x"}', "text/plain"),
    ("/sim/clusters/test/clock/advance", '{"seconds": 60}', "text/plain"),
    ("/sim/clusters/test/clock/advance", "seconds=60", "application/x-www-form-urlencoded"),
    ("/sim/clusters/test/nodes", '{"name": "n"}', "multipart/form-data; boundary=x"),
    ("/sim/clusters/test/console", '{"command": "kubectl get pods"}', "text/plain"),
    ("/sim/clusters/test/apply", PI, "text/plain"),
    ("/sim/clusters/test/apply", PI, ""),
])
def test_the_simulators_endpoints_read_json_only(path, body, content_type):
    response = Client().post(path, data=body, content_type=content_type)
    assert response.status_code == 415, response.content
    status = json.loads(response.content)
    assert status["reason"] == "UnsupportedMediaType"
    assert status["message"].startswith("the body of the request was in an unknown format - accepted media types "
                                        "include: application/")
    assert clock()["now"] == "2025-01-01T00:00:00Z"


def test_apply_reads_yaml_and_json():
    for content_type in ("application/yaml", "application/x-yaml", "text/yaml"):
        response = Client().post("/sim/clusters/test/apply?dryRun=All", data=PI, content_type=content_type)
        assert response.status_code == 200, (content_type, response.content)


def test_the_lesson_panel_reads_json_only(db):
    from django.core.management import call_command

    call_command("lessons", "load")
    client = Client()
    assert client.get("/lessons/why-jobs/").status_code == 200
    response = client.post("/lessons/why-jobs/api/step", data='{"step": 1}', content_type="text/plain")
    assert response.status_code == 415
    assert client.post("/lessons/why-jobs/api/step", data='{"step": 1}',
                       content_type="application/json").status_code == 200


def test_a_host_the_server_does_not_answer_to_gets_a_status():
    response = Client().get("/clusters/test/version", HTTP_HOST="evil.example")
    assert response.status_code == 400
    status = json.loads(response.content)
    assert status["kind"] == "Status" and "evil.example" in status["message"]


def test_pages_cannot_be_framed_and_run_no_inline_script():
    response = Client().get("/c/test/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    policy = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
    assert policy["frame-ancestors"] == "'none'"
    assert policy["script-src"] == "'self'"
    assert "unsafe-inline" not in policy["script-src"] and "unsafe-eval" not in policy["script-src"]
    html = response.content.decode()
    assert " onchange=" not in html and " onclick=" not in html
    for script in html.split("<script")[1:]:  # every script is a file or a JSON data block
        assert ' src="' in script.split(">")[0] or 'type="application/json"' in script.split(">")[0], script[:80]


def test_a_page_on_another_site_cannot_make_a_sandbox_with_an_image(db):
    """A lesson page makes a sandbox when opened; an ``<img>`` of it on another site must not, yet a link to it
    (a top-level navigation) still opens the lesson."""
    from django.core.management import call_command

    call_command("lessons", "load")
    before = set(Cluster.objects.values_list("name", flat=True))
    image = Client().get("/lessons/why-jobs/", HTTP_SEC_FETCH_SITE="cross-site", HTTP_SEC_FETCH_MODE="no-cors",
                         HTTP_SEC_FETCH_DEST="image")
    assert image.status_code == 403
    assert set(Cluster.objects.values_list("name", flat=True)) == before
    link = Client().get("/lessons/why-jobs/", HTTP_SEC_FETCH_SITE="cross-site", HTTP_SEC_FETCH_MODE="navigate",
                        HTTP_SEC_FETCH_DEST="document")
    assert link.status_code == 200
    assert len(set(Cluster.objects.values_list("name", flat=True)) - before) == 1


def test_a_script_tag_on_another_site_reads_no_json():
    response = Client().get("/sim/clusters", HTTP_SEC_FETCH_SITE="cross-site", HTTP_SEC_FETCH_MODE="no-cors",
                            HTTP_SEC_FETCH_DEST="script")
    assert response.status_code == 403


def test_a_trusted_origin_may_send_what_the_page_sends(settings):
    """A page of the same school on another origin named in CSRF_TRUSTED_ORIGINS (say a portal in front) counts as
    this server's own, token included; a neighbour that is not named is still refused."""
    settings.CSRF_TRUSTED_ORIGINS = ["http://portal.example.org"]
    client = browser_client()
    token = client.cookies["csrftoken"].value
    trusted = {"HTTP_ORIGIN": "http://portal.example.org", "HTTP_SEC_FETCH_SITE": "same-site",
               "HTTP_X_CSRFTOKEN": token}
    response = client.post("/sim/clusters/test/clock/advance", data={"seconds": 60},
                           content_type="application/json", **trusted)
    assert response.status_code == 200, response.content
    other = dict(trusted, HTTP_ORIGIN="http://other.example.org")
    assert client.post("/sim/clusters/test/clock/advance", data={"seconds": 60}, content_type="application/json",
                       **other).status_code == 403
