"""The teacher's live grid: who may watch it, the snapshot, a row per change as learners work (joins, Start, steps,
hints, predictions, refused applies, resets, removals), checked the Zulip way (the page's reducer, run in Node, on
the snapshot plus the live messages equals a fresh snapshot); pausing and playing every sandbox; a learner's
sandbox read-only, refused every write whatever is sent; CSRF on every new POST."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from kubeviz.asgi import application
from kubeviz.classroom import grid
from kubeviz.classroom.consumers import CLOSE_NOT_FOUND
from kubeviz.classroom.middleware import CLOSE_FORBIDDEN, CLOSE_UNAUTHORIZED
from kubeviz.classroom.models import Capability, Classroom, Learner, Sandbox
from kubeviz.classroom.services import class_create
from kubeviz.lessons.models import Lesson, LessonProgress
from kubeviz.store.models import Cluster

from .conftest import join, make_teacher, post_json, start, teacher_client

GRID_STATE_JS = Path(__file__).resolve().parents[2] / "static" / "js" / "grid" / "state.js"
ORIGIN = "http://testserver"
REFUSED = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: always
spec:
  template:
    spec:
      containers:
      - name: c
        image: busybox
      restartPolicy: Always
"""


@pytest.fixture
def klass(classroom_mode, lessons):
    """A class of two lessons (why-jobs, retries) with Ada (who started why-jobs) and Bob (nothing yet)."""
    teacher, other = make_teacher("ms-lee"), make_teacher("mr-other")
    classroom = class_create(teacher=teacher, name="Jobs 101",
                             lessons=Lesson.objects.filter(slug__in=["why-jobs", "retries"]).order_by("order"))
    clients = {"nobody": Client(HTTP_ACCEPT_LANGUAGE="en"), "teacher": teacher_client(teacher),
               "other_teacher": teacher_client(other)}
    for key, name in (("a", "Ada"), ("b", "Bob")):
        clients[key] = Client(HTTP_ACCEPT_LANGUAGE="en")
        assert join(clients[key], classroom.join_code, name).status_code == 302
    assert start(clients["a"], "why-jobs").status_code == 302
    return classroom, clients


async def watch(clients, who, classroom_id):
    cookie = clients[who].cookies.get("sessionid")
    headers = [(b"cookie", f"sessionid={cookie.value}".encode())] if cookie else []
    communicator = WebsocketCommunicator(application, f"/ws/classes/{classroom_id}/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    return communicator, json.loads(await communicator.receive_from(timeout=10))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("who, outcome", [
    ("nobody", CLOSE_UNAUTHORIZED), ("a", CLOSE_FORBIDDEN), ("teacher", "snapshot"),
    ("other_teacher", CLOSE_FORBIDDEN),
])
async def test_only_the_classs_teacher_watches_its_grid(klass, who, outcome):
    classroom, clients = klass
    communicator, first = await watch(clients, who, classroom.pk)
    if outcome == "snapshot":
        assert first["type"] == "snapshot" and first["class"] == {"id": classroom.pk, "name": "Jobs 101"}
        await communicator.disconnect()
        return
    assert first["type"] == "error" and "learners" not in first
    assert await communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": outcome}


@pytest.mark.django_db(transaction=True)
async def test_an_unknown_class_is_forbidden_and_laptop_mode_has_none(klass, settings):
    _, clients = klass
    communicator, first = await watch(clients, "teacher", 999999)
    assert await communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": CLOSE_FORBIDDEN}
    settings.KUBEVIZ_CLASSROOM = False
    communicator, first = await watch(clients, "teacher", 999999)
    assert await communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": CLOSE_NOT_FOUND}


def test_the_snapshot(klass):
    classroom, _ = klass
    ada = Learner.objects.get(display_name="Ada")
    snapshot = grid.snapshot(classroom)
    assert [lesson["slug"] for lesson in snapshot["lessons"]] == ["why-jobs", "retries"]
    steps = snapshot["lessons"][1]["steps"]
    assert [s["id"] for s in steps] == ["never", "on-failure", "always-refused", "predict-give-up"]
    assert steps[3]["predict"] == {"question": "One minute from now, what does kubectl get job give-up show under "
                                               "STATUS?", "choices": ["Running", "Complete", "Failed"],
                                   "answer": "Failed"}
    assert steps[0]["predict"] is None and steps[0]["hints"] == 1
    rows = {row["name"]: row for row in snapshot["learners"]}
    assert list(rows) == ["Ada", "Bob"] and rows["Bob"]["lessons"] == {}
    cell = rows["Ada"]["lessons"]["why-jobs"]
    assert cell == {"cluster": Sandbox.objects.get(learner=ada).cluster.name, "step": 0, "passed": [],
                    "stepStarted": cell["stepStarted"], "hints": {}, "predictions": {}, "lastError": None,
                    "idle": False, "paused": True}


def run_reducer(messages: list[dict]) -> dict:
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is required to test static/js/grid/state.js", pytrace=False)
    driver = """
import { readFileSync } from "node:fs";
const input = JSON.parse(readFileSync(0, "utf8"));
const { initialState, reduce, predictionTally } = await import(input.module);
let state = initialState();
for (const message of input.messages) {
  const before = JSON.stringify(state);
  const next = reduce(state, Object.freeze(message));
  if (JSON.stringify(state) !== before) throw new Error("reduce changed its input state");
  state = next;
}
process.stdout.write(JSON.stringify({ state, tally: predictionTally(state) }));
"""
    result = subprocess.run([node, "--input-type=module", "-e", driver], capture_output=True, text=True, timeout=60,
                            input=json.dumps({"module": GRID_STATE_JS.as_uri(), "messages": messages}))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _comparable(state: dict) -> dict:
    """A grid state without what differs between two reads of the same rows (when they were read)."""
    learners = {key: {k: v for k, v in row.items() if k != "v"} for key, row in state["learners"].items()}
    return {"klass": state["klass"], "lessons": state["lessons"], "learners": learners}


@pytest.mark.django_db(transaction=True)
async def test_a_write_refused_through_the_kubernetes_api_shows_on_the_grid(klass):
    """Ada works with kubectl (her kubeconfig's capability URL): a Job the API server refuses is her last error on
    the teacher's grid, named with the door it came by; her next accepted write clears it; a dry run counts for
    nothing."""
    classroom, clients = klass
    communicator, _ = await watch(clients, "teacher", classroom.pk)
    ada = await sync_to_async(Learner.objects.get)(display_name="Ada")
    sandbox = await sync_to_async(Sandbox.objects.select_related("cluster").get)(learner=ada)
    token = (await sync_to_async(Capability.objects.get)(cluster=sandbox.cluster, learner=ada)).token
    kubectl = Client(HTTP_USER_AGENT="kubectl/v1.34.1 (linux/amd64) kubernetes/abcdef")
    jobs = f"/k/{token}/apis/batch/v1/namespaces/default/jobs"

    def create(body, query=""):
        return kubectl.post(jobs + query, json.dumps(body), content_type="application/json")

    refused = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "always"}, "spec": {"template": {
        "spec": {"restartPolicy": "Always", "containers": [{"name": "c", "image": "busybox"}]}}}}
    assert (await sync_to_async(create)(refused, "?dryRun=All")).status_code == 422
    assert (await sync_to_async(create)(refused)).status_code == 422
    message = json.loads(await communicator.receive_from(timeout=10))
    error = message["learner"]["lessons"]["why-jobs"]["lastError"]
    assert error["message"].startswith('kubectl: Job.batch "always" is invalid: spec.template.spec.restartPolicy: ')
    accepted = dict(refused, spec={"template": {"spec": {"restartPolicy": "Never", "containers": [
        {"name": "c", "image": "busybox"}]}}})
    assert (await sync_to_async(create)(accepted)).status_code == 201
    message = json.loads(await communicator.receive_from(timeout=10))
    assert message["learner"]["lessons"]["why-jobs"]["lastError"] is None
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_the_grid_shows_which_sandboxes_are_paused(klass):
    classroom, clients = klass
    communicator, snapshot = await watch(clients, "teacher", classroom.pk)
    (ada,) = [row for row in snapshot["learners"] if row["name"] == "Ada"]
    assert ada["lessons"]["why-jobs"]["paused"] is True  # a lesson's sandbox starts paused
    sandbox = await sync_to_async(Sandbox.objects.select_related("cluster").get)(learner_id=ada["id"])
    clock = f"/sim/clusters/{sandbox.cluster.name}/clock"

    def patch(paused):
        response = clients["a"].patch(clock, json.dumps({"paused": paused}), content_type="application/json")
        assert response.status_code == 200

    await sync_to_async(patch)(False)
    row = json.loads(await communicator.receive_from(timeout=10))["learner"]
    assert row["name"] == "Ada" and row["lessons"]["why-jobs"]["paused"] is False
    await sync_to_async(patch)(False)  # no change: nothing sent
    assert await communicator.receive_nothing(timeout=0.3)
    await sync_to_async(patch)(True)
    assert json.loads(await communicator.receive_from(timeout=10))["learner"]["lessons"]["why-jobs"]["paused"] is True
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_the_grid_follows_the_class_live(klass):
    classroom, clients = klass
    communicator, snapshot = await watch(clients, "teacher", classroom.pk)
    a, b = clients["a"], clients["b"]
    messages = [snapshot]

    async def expect(kind="learner"):
        message = json.loads(await communicator.receive_from(timeout=10))
        assert message["type"] == kind, message
        messages.append(message)
        return message

    # Bob starts the retries lesson: his row gets the lesson.
    await sync_to_async(start)(b, "retries")
    row = (await expect())["learner"]
    assert row["name"] == "Bob" and row["lessons"]["retries"]["step"] == 0
    # Bob goes to the predict step (the step begun: a row), asks for a hint (a row), predicts wrong (a row).
    await sync_to_async(post_json)(b, "/lessons/retries/api/step", {"step": 3})
    assert (await expect())["learner"]["lessons"]["retries"]["step"] == 3
    await sync_to_async(post_json)(b, "/lessons/retries/api/hint")
    assert (await expect())["learner"]["lessons"]["retries"]["hints"] == {"3": 1}
    answer = await sync_to_async(post_json)(b, "/lessons/retries/api/predict", {"value": "Running"})
    assert answer.status_code == 200
    cell = (await expect())["learner"]["lessons"]["retries"]
    assert cell["predictions"] == {"3": {"value": "Running", "actual": "Failed", "correct": False}}
    # The prediction's checks all hold after its minute: the step passes (its own row).
    assert (await expect())["learner"]["lessons"]["retries"]["passed"] == [3]
    # Ada's apply is refused: her row shows the error; a script-like name is only data.
    ada = await sync_to_async(Learner.objects.get)(display_name="Ada")
    sandbox = await sync_to_async(Sandbox.objects.select_related("cluster").get)(learner=ada)
    await sync_to_async(a.post)(f"/sim/clusters/{sandbox.cluster.name}/apply", REFUSED,
                                content_type="application/yaml")
    error = (await expect())["learner"]["lessons"]["why-jobs"]["lastError"]
    assert 'spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"' in error["message"]
    # Someone joins; Ada is reset (her row loses the lesson); Bob is removed.
    carol = Client(HTTP_ACCEPT_LANGUAGE="en")
    await sync_to_async(join)(carol, classroom.join_code, '<img src=x onerror=alert(1)>')
    assert (await expect())["learner"]["name"] == '<img src=x onerror=alert(1)>'
    teacher = clients["teacher"]
    bob = await sync_to_async(Learner.objects.get)(display_name="Bob")
    assert (await sync_to_async(teacher.post)(f"/teach/{classroom.pk}/learners/{ada.pk}/reset")).status_code == 302
    assert (await expect())["learner"]["lessons"] == {}
    await sync_to_async(teacher.post)(f"/teach/{classroom.pk}/learners/{bob.pk}/remove")
    await expect("learner")  # his reset first
    assert (await expect("learner.removed"))["id"] == bob.pk
    assert await communicator.receive_nothing(timeout=0.3)

    # The page's reducer: the snapshot and every message since == a fresh snapshot. A row read before the one
    # shown and delivered late is dropped; a removed learner's late row too.
    fresh = await sync_to_async(grid.snapshot)(await sync_to_async(Classroom.objects.get)(pk=classroom.pk))
    stale = dict(messages[-3]["learner"], v=0)
    live = run_reducer([*messages, {"type": "learner", "learner": stale},
                        {"type": "learner", "learner": dict(row, v=10**20)}])
    assert _comparable(live["state"]) == _comparable(run_reducer([fresh])["state"])
    assert live["tally"] == [{"slug": "retries", "lesson": "Failures and retries", "index": 3,
                              "question": fresh["lessons"][1]["steps"][3]["predict"]["question"], "answer": "Failed",
                              "choices": ["Running", "Complete", "Failed"], "committed": 0, "right": 0,
                              "answers": []}]  # Bob, who predicted, was removed
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_class_wide_change_sends_a_fresh_snapshot_and_a_deleted_class_closes(klass):
    classroom, clients = klass
    communicator, _ = await watch(clients, "teacher", classroom.pk)
    teacher = clients["teacher"]
    await sync_to_async(teacher.post)(f"/teach/{classroom.pk}/reset")
    snapshot = json.loads(await communicator.receive_from(timeout=10))
    assert snapshot["type"] == "snapshot"
    assert all(row["lessons"] == {} for row in snapshot["learners"])
    await sync_to_async(teacher.post)(f"/teach/{classroom.pk}/delete")
    assert json.loads(await communicator.receive_from(timeout=10)) == {"type": "error",
                                                                         "message": "the class was deleted"}
    assert await communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": CLOSE_NOT_FOUND}


def test_the_tally_counts_each_answer(klass):
    classroom, clients = klass
    for name, value in (("Cy", "Failed"), ("Di", "Failed"), ("Ed", "Running")):
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        join(client, classroom.join_code, name)
        start(client, "retries")
        post_json(client, "/lessons/retries/api/step", {"step": 3})
        assert post_json(client, "/lessons/retries/api/predict", {"value": value}).status_code == 200
    tally = run_reducer([grid.snapshot(classroom)])["tally"]
    assert tally[0]["committed"] == 3 and tally[0]["right"] == 2
    assert tally[0]["answers"] == [{"value": "Running", "count": 1, "correct": 0},
                                   {"value": "Failed", "count": 2, "correct": 2}]


# --- pausing and playing every sandbox -----------------------------------------------------------------------------


def test_pause_and_play_every_sandbox_of_the_class(klass):
    classroom, clients = klass
    start(clients["b"], "why-jobs")
    names = list(Sandbox.objects.filter(learner__classroom=classroom).values_list("cluster__name", flat=True))
    assert len(names) == 2
    teacher = clients["teacher"]
    played = teacher.post(f"/teach/{classroom.pk}/clock", {"paused": "false"}, HTTP_ACCEPT="application/json")
    assert played.json() == {"ok": True, "paused": False, "changed": 2}
    assert not Cluster.objects.filter(name__in=names, paused=True).exists()
    paused = teacher.post(f"/teach/{classroom.pk}/clock", {"paused": "true"})
    assert paused.status_code == 302 and paused["Location"] == f"/teach/{classroom.pk}/"
    assert Cluster.objects.filter(name__in=names, paused=True).count() == 2
    assert teacher.post(f"/teach/{classroom.pk}/clock", {"paused": "maybe"}).status_code == 400
    assert teacher.get(f"/teach/{classroom.pk}/clock").status_code == 405
    # Only the class's own teacher; a learner is sent to log in.
    assert clients["other_teacher"].post(f"/teach/{classroom.pk}/clock", {"paused": "false"}).status_code == 404
    assert clients["a"].post(f"/teach/{classroom.pk}/clock", {"paused": "false"}).status_code == 302
    assert Cluster.objects.filter(name__in=names, paused=True).count() == 2


# --- a learner's sandbox, read-only ----------------------------------------------------------------------------------


def test_the_teacher_opens_a_sandbox_read_only_and_no_write_goes_through(klass):
    classroom, clients = klass
    teacher = clients["teacher"]
    sandbox = Sandbox.objects.select_related("cluster").get(learner__display_name="Ada")
    name = sandbox.cluster.name
    page = teacher.get(f"/teach/{classroom.pk}/view/{name}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-read-only="true"' in html and "Read-only: Ada's sandbox" in html
    config = json.loads(html.split('id="kubeviz-config" type="application/json">')[1].split("</script>")[0])
    token = config["bearer"]
    assert config["readOnly"] is True and config["api"] == f"/k/{token}"
    assert Capability.objects.get(token=token).access == Capability.Access.READ
    # The page's own requests carry that token: reads go through, every write is refused.
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert teacher.get(f"/sim/clusters/{name}/clock", **bearer).status_code == 200
    assert teacher.get(f"/k/{token}/api/v1/namespaces/default/pods", **bearer).status_code == 200
    refused = [
        teacher.post(f"/sim/clusters/{name}/apply", REFUSED, content_type="application/yaml", **bearer),
        teacher.patch(f"/sim/clusters/{name}/clock", {"paused": False}, content_type="application/json", **bearer),
        teacher.post(f"/sim/clusters/{name}/clock/advance", {"seconds": 5}, content_type="application/json", **bearer),
        teacher.post(f"/sim/clusters/{name}/nodes", {"name": "node-9"}, content_type="application/json", **bearer),
        teacher.post(f"/sim/clusters/{name}/console", {"command": "kubectl get pods"},
                     content_type="application/json", **bearer),
        teacher.delete(f"/k/{token}/api/v1/nodes/node-1", **bearer),
        teacher.post(f"/k/{token}/apis/batch/v1/namespaces/default/jobs", {"metadata": {"name": "x"}},
                     content_type="application/json", **bearer),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    assert refused[0].json()["message"] == (f'clusters "{name}" is forbidden: User "kubeviz:teacher:ms-lee" cannot '
                                            'create resource "clusters/apply" in API group "" at the cluster scope')
    assert refused[-1].json()["message"] == ('jobs.batch is forbidden: User "kubeviz:teacher:ms-lee" cannot create '
                                             'resource "jobs" in API group "batch" in the namespace "default"')
    cluster = Cluster.objects.get(name=name)
    assert cluster.paused and not cluster.stored_objects.filter(kind="Job").exists()
    # The projector's view is the same, large.
    present = teacher.get(f"/teach/{classroom.pk}/present/{name}/").content.decode()
    assert 'data-present="true"' in present and 'data-read-only="true"' in present
    # Not another teacher's, not a cluster outside the class, not a learner.
    assert clients["other_teacher"].get(f"/teach/{classroom.pk}/view/{name}/").status_code == 404
    assert teacher.get(f"/teach/{classroom.pk}/view/default/").status_code == 404
    assert clients["a"].get(f"/teach/{classroom.pk}/view/{name}/").status_code == 302


def test_the_live_page(klass):
    classroom, clients = klass
    page = clients["teacher"].get(f"/teach/{classroom.pk}/live/")
    assert page.status_code == 200
    html = page.content.decode()
    config = json.loads(html.split('id="grid-config" type="application/json">')[1].split("</script>")[0])
    assert config == {"ws": f"/ws/classes/{classroom.pk}/", "stuckMinutes": 5, "urls": {
        "view": f"/teach/{classroom.pk}/view/CLUSTER/", "present": f"/teach/{classroom.pk}/present/CLUSTER/",
        "reset": f"/teach/{classroom.pk}/learners/0/reset", "clock": f"/teach/{classroom.pk}/clock"}}
    assert f'href="/teach/{classroom.pk}/live/"' in clients["teacher"].get(f"/teach/{classroom.pk}/").content.decode()
    assert clients["other_teacher"].get(f"/teach/{classroom.pk}/live/").status_code == 404


# --- CSRF on the new POSTs -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who, path, body, content_type", [
    ("teacher", "/teach/{pk}/clock", "paused=true", "application/x-www-form-urlencoded"),
    ("a", "/lessons/why-jobs/api/hint", "{}", "application/json"),
    ("a", "/lessons/why-jobs/api/predict", '{"value": 1}', "application/json"),
])
def test_every_new_post_needs_the_csrf_token(klass, who, path, body, content_type):
    classroom, clients = klass
    client = Client(enforce_csrf_checks=True, HTTP_ORIGIN=ORIGIN)
    client.cookies = clients[who].cookies
    client.cookies["csrftoken"] = "A" * 32
    path = path.format(pk=classroom.pk)
    before = (list(LessonProgress.objects.values_list("hints", flat=True)),
              list(Cluster.objects.values_list("paused", flat=True)))
    response = client.post(path, body, content_type=content_type)
    assert response.status_code == 403
    assert "CSRF verification failed" in response.content.decode()
    assert (list(LessonProgress.objects.values_list("hints", flat=True)),
            list(Cluster.objects.values_list("paused", flat=True))) == before
    assert client.post(path, body, content_type=content_type, HTTP_X_CSRFTOKEN="A" * 32).status_code in (200, 302,
                                                                                                           409)


def test_what_a_cell_shows():
    """``cellView``: passed, the step a learner is on (stuck once on it ``stuckMinutes``), not reached, no lesson."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is required to test static/js/grid/state.js", pytrace=False)
    driver = """
const { cellView } = await import(process.argv[1]);
const cell = {step: 2, passed: [0, 1], stepStarted: "2025-01-01T10:00:00Z", hints: {"2": 3},
              predictions: {"1": {value: "Failed", actual: "Failed", correct: true}}};
const at = (minutes) => Date.parse("2025-01-01T10:00:00Z") + minutes * 60000;
process.stdout.write(JSON.stringify([cellView(cell, 0, at(1), 5), cellView(cell, 1, at(1), 5),
  cellView(cell, 2, at(4.9), 5), cellView(cell, 2, at(7), 5), cellView(cell, 3, at(7), 5),
  cellView(undefined, 0, at(7), 5)]));
"""
    result = subprocess.run([node, "--input-type=module", "-e", driver, GRID_STATE_JS.as_uri()], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    views = json.loads(result.stdout)
    assert [(v["state"], v["minutes"], v["hints"]) for v in views] == [
        ("passed", 0, 0), ("passed", 0, 0), ("current", 4, 3), ("stuck", 7, 3), ("todo", 0, 0), ("none", 0, 0)]
    assert views[1]["prediction"] == {"value": "Failed", "actual": "Failed", "correct": True}
