"""kubeviz.serving against Django's own ASGI handler: the same requests get the same answers (the plain path is the
reference), on threads that are reused with their database connection."""

import asyncio
import json
import re
import threading

import pytest
from asgiref.testing import ApplicationCommunicator
from django.core.handlers.asgi import ASGIHandler
from django.core.signals import request_finished
from django.db import connections
from django.db.backends.signals import connection_created

from kubeviz import serving
from kubeviz.serving import PooledASGIHandler, RequestThreads
from kubeviz.store.services import cluster_create
from tests.conftest import START

pytestmark = pytest.mark.django_db(transaction=True)

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
       "spec": {"containers": [{"name": "main", "image": "nginx", "command": ["sleep", "3600"]}]}}
BAD_JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: bad
spec:
  template:
    spec:
      containers:
      - name: main
        image: busybox
      restartPolicy: Always
"""
JSON = [(b"content-type", b"application/json")]
TABLE = [(b"accept", b"application/json;as=Table;v=v1;g=meta.k8s.io")]

# (method, path, headers, body): reads, a table, errors of every kind, writes that change nothing (dry run, an
# invalid document), a watch that ends, the console (an async view), a page (no `default` cluster here: its 404).
REQUESTS = [
    ("GET", "/clusters/test/version", [], b""),
    ("GET", "/clusters/test/api/v1/nodes", [], b""),
    ("GET", "/clusters/test/api/v1/nodes", TABLE, b""),
    ("GET", "/clusters/test/api/v1/namespaces/default/pods", [], b""),
    ("GET", "/clusters/test/apis/batch/v1/namespaces/default/jobs/missing", [], b""),
    ("GET", "/clusters/nowhere/api/v1/namespaces/default/pods", [], b""),
    ("GET", "/clusters/test/api/v1/namespaces/default/pods?limit=x", [], b""),
    ("GET", "/clusters/test/apis", [], b""),
    ("POST", "/clusters/test/api/v1/namespaces/default/pods?dryRun=All", JSON,
     json.dumps({**POD, "metadata": {"name": "web-2"}}).encode()),
    ("POST", "/clusters/test/api/v1/namespaces/default/pods", JSON, b"{not json"),
    ("POST", "/sim/clusters/test/apply", [(b"content-type", b"application/yaml")], BAD_JOB.encode()),
    ("PATCH", "/sim/clusters/test/clock", [(b"content-type", b"text/plain")], b"paused"),
    ("GET", "/sim/clusters/test/clock", [], b""),
    ("GET", "/clusters/test/api/v1/namespaces/default/pods?watch=true&timeoutSeconds=0", [], b""),
    ("POST", "/sim/clusters/test/console", JSON, b'{"command": ""}'),
    ("DELETE", "/sim/clusters/test/console", JSON, b""),
    ("GET", "/", [], b""),
]


def normal(text: str) -> str:
    """What differs between two requests whatever serves them: CSP nonces, CSRF tokens, times."""
    text = re.sub(r"nonce-[A-Za-z0-9+/=_-]+|nonce=\"[^\"]+\"", "nonce", text)
    text = re.sub(r"csrftoken=[A-Za-z0-9]+", "csrftoken=", text)
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"|name="csrf-token" content="[^"]+"', "csrf", text)
    return re.sub(r"expires=[^;]+", "expires=", text)


async def answer(handler, method, path, headers, body):
    """Status, headers and body of one request sent as Daphne sends it (the body parts of a stream joined)."""
    path, _, query = path.partition("?")
    scope = {"type": "http", "http_version": "1.1", "method": method, "path": path, "raw_path": path.encode(),
             "root_path": "", "scheme": "http", "query_string": query.encode(), "client": ("127.0.0.1", 50000),
             "server": ("127.0.0.1", 8000), "headers": [(b"host", b"127.0.0.1:8000"), *headers]}
    communicator = ApplicationCommunicator(handler, scope)
    await communicator.send_input({"type": "http.request", "body": body})
    start = await communicator.receive_output(30)
    parts = []
    while True:
        message = await communicator.receive_output(30)
        parts.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    await communicator.wait(30)
    return (start["status"], sorted((k.decode(), normal(v.decode())) for k, v in start["headers"]),
            normal(b"".join(parts).decode()))


async def plain_answer(handler, *request):
    """``answer`` of Django's own handler, run as it must be (a thread per request): with the connection closed at
    the end of the request (CONN_MAX_AGE 0), which a thread that ends would otherwise leave open."""
    settings_dict = connections.settings["default"]
    kept, settings_dict["CONN_MAX_AGE"] = settings_dict["CONN_MAX_AGE"], 0
    try:
        return await answer(handler, *request)
    finally:
        settings_dict["CONN_MAX_AGE"] = kept


@pytest.fixture
def threads():
    made = []
    yield lambda idle: made.append(RequestThreads(idle=idle)) or made[-1]
    for pool in made:
        pool.close()


@pytest.fixture
def served_cluster(settings):
    settings.KUBEVIZ_PLAYER = False
    cluster = cluster_create(name="test", nodes=2, seed=7, start=START)
    from kubeviz.store.services import registry_for
    from apiserver.kinds import resource_for_kind

    registry_for(cluster).create(resource_for_kind("", "Pod"), "default", POD)
    return cluster


@pytest.mark.parametrize("classroom", [False, True], ids=["laptop", "classroom"])
async def test_every_request_gets_the_answer_django_s_own_handler_gives(served_cluster, settings, classroom, threads):
    settings.KUBEVIZ_CLASSROOM = classroom
    plain, pooled = ASGIHandler(), PooledASGIHandler(threads(2))
    for request in REQUESTS:
        expected = await plain_answer(plain, *request)
        got = await answer(pooled, *request)
        assert got == expected, request[:2]
    if not classroom:  # what the plain answers were is what the requests meant: reads 200, errors their Status
        statuses = [(await plain_answer(plain, *request))[0] for request in REQUESTS]
        assert statuses == [200, 200, 200, 200, 404, 404, 400, 200, 201, 400, 422, 415, 200, 200, 200, 405, 404]
    else:
        statuses = {(await plain_answer(plain, *request))[0] for request in REQUESTS}
        assert statuses <= {401, 403, 302}, statuses


async def test_requests_in_turn_reuse_one_thread_and_its_database_connection(served_cluster, threads):
    connected, finished = [], []
    connection_created.connect(lambda sender, connection, **kw: connected.append(connection), weak=False,
                               dispatch_uid="test-serving-connected")
    request_finished.connect(lambda sender, **kw: finished.append(1), weak=False, dispatch_uid="test-serving-done")
    try:
        pool = threads(4)
        pooled = PooledASGIHandler(pool)
        for _ in range(5):
            status, _, body = await answer(pooled, "GET", "/clusters/test/api/v1/namespaces/default/pods", [], b"")
            assert status == 200 and '"name":"web"' in body.replace(" ", "")
        assert (pool.made, len(connected), len(finished)) == (1, 1, 5)
        connected.clear()
        plain = ASGIHandler()
        for _ in range(5):
            await plain_answer(plain, "GET", "/clusters/test/api/v1/namespaces/default/pods", [], b"")
        assert len(connected) == 5  # Django's own handler: a thread, and a connection, per request
    finally:
        connection_created.disconnect(dispatch_uid="test-serving-connected")
        request_finished.disconnect(dispatch_uid="test-serving-done")


async def test_a_thread_given_back_beyond_the_idle_ones_closes_its_connection_and_ends(served_cluster, monkeypatch,
                                                                                       threads):
    connected, closed_in = [], []

    class Connections:  # records which thread closes its connections, and closes them
        def close_all(self):
            closed_in.append(threading.get_ident())
            connections.close_all()

    monkeypatch.setattr(serving, "connections", Connections())
    connection_created.connect(lambda sender, connection, **kw: connected.append((threading.get_ident(), connection)),
                               weak=False, dispatch_uid="test-serving-closed")
    try:
        status, _, _ = await answer(PooledASGIHandler(threads(0)), "GET", "/clusters/test/api/v1/nodes", [], b"")
        assert status == 200 and len(connected) == 1
        served_by, connection = connected[0]
        for _ in range(600):  # the thread closes it on its way out
            if closed_in:
                break
            await asyncio.sleep(0.05)
        assert closed_in == [served_by]
        if not getattr(connection, "is_in_memory_db", lambda: False)():  # Django keeps an in-memory test database open whatever is asked
            assert connection.connection is None
    finally:
        connection_created.disconnect(dispatch_uid="test-serving-closed")
