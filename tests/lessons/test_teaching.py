"""Checks that teach, in the player: hints one at a time (counted), predict steps through the panel's API, the
checks evaluated again by the server as the cluster changes, and the last refused apply kept for the teacher."""

import json

import pytest
from django.conf import settings
from django.test import Client

from kubeviz.lessons import recheck
from kubeviz.lessons.format import load_lessons, lessons_dir
from kubeviz.lessons.models import LessonProgress
from kubeviz.lessons.services import lessons_sync
from kubeviz.lessons.signals import progress_changed
from kubeviz.store.models import Cluster


@pytest.fixture
def lessons(db):
    lessons_sync(report=load_lessons(lessons_dir(), base=settings.BASE_DIR))


@pytest.fixture
def client(lessons):
    return Client(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def changes():
    """Every ``progress_changed`` sent: (progress id, step, passed)."""
    sent = []

    def receiver(sender, progress, **kwargs):
        sent.append((progress.pk, progress.step, list(progress.passed)))

    progress_changed.connect(receiver, dispatch_uid="test-teaching")
    yield sent
    progress_changed.disconnect(dispatch_uid="test-teaching")


def post(client, path, body=None):
    return client.post(path, json.dumps(body or {}), content_type="application/json")


def open_step(client, slug, index):
    client.get(f"/lessons/{slug}/")
    step = post(client, f"/lessons/{slug}/api/step", {"step": index}).json()
    return step, LessonProgress.objects.get(lesson__slug=slug)


def sim(client, cluster, path, body, content_type="application/json"):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(f"/sim/clusters/{cluster}/{path}", data, content_type=content_type)


# --- hints ------------------------------------------------------------------------------------------------------


def test_hints_are_revealed_one_at_a_time_and_counted(client, changes):
    step, progress = open_step(client, "retries", 3)
    assert step["id"] == "predict-give-up"
    assert step["hints"] == [] and step["hintCount"] == 2  # none shown before they are asked for
    first = post(client, "/lessons/retries/api/hint").json()
    assert first == {"hints": ["backoffLimit counts retries, not runs."], "hintCount": 2}
    second = post(client, "/lessons/retries/api/hint").json()
    assert len(second["hints"]) == 2
    assert post(client, "/lessons/retries/api/hint").json() == second  # no third: nothing more counted
    progress.refresh_from_db()
    assert progress.hints == {"predict-give-up": 2}
    assert [c[0] for c in changes].count(progress.pk) == 4  # steps 1 and 4 begun, then two hints
    # a reload shows the hints already revealed, in the page's language
    zh = client.get("/lessons/retries/api/step", HTTP_ACCEPT_LANGUAGE="zh-Hans").json()
    assert zh["hints"][0] == "backoffLimit 数的是重试，不是运行次数。"
    assert client.get("/lessons/retries/api/hint").status_code == 405


# --- predict steps ----------------------------------------------------------------------------------------------


def test_a_predict_step_stops_the_clock_hides_its_answer_and_grades_once(client, changes):
    client.get("/lessons/parallel-jobs/")
    cluster = LessonProgress.objects.get().cluster
    Cluster.objects.filter(pk=cluster.pk).update(paused=False)  # the learner had played the clock
    step = post(client, "/lessons/parallel-jobs/api/step", {"step": 5}).json()
    cluster.refresh_from_db()
    assert cluster.paused  # predict first, then the clock moves
    assert step["predict"] == {"question": "Twenty seconds from now, how many paral-3 pods show STATUS Running?",
                               "choices": [], "after": 20.0, "committed": None}
    assert "answer" not in json.dumps(step["predict"])
    assert step["evaluation"] is None
    before = cluster.sim_now

    bad = post(client, "/lessons/parallel-jobs/api/predict", {"value": "many"})
    assert bad.status_code == 422 and bad.json() == {"error": "the answer is a whole number"}
    assert post(client, "/lessons/parallel-jobs/api/predict", {}).status_code == 422
    cluster.refresh_from_db()
    assert cluster.sim_now == before  # nothing moved

    graded = post(client, "/lessons/parallel-jobs/api/predict", {"value": 6})
    assert graded.status_code == 200
    body = graded.json()
    assert body["predict"]["committed"] == {
        "value": 6, "actual": 3, "correct": False,
        "explain": body["predict"]["committed"]["explain"],
    }
    assert body["predict"]["committed"]["explain"].startswith("parallelism caps how many run at once.")
    assert body["checks"][0] == {"passed": True, "message": "Commit your prediction before the clock moves.",
                                 "detail": "predicted 6; the simulation showed 3", "type": "predict"}
    cluster.refresh_from_db()
    assert (cluster.sim_now - before).total_seconds() == 20

    again = post(client, "/lessons/parallel-jobs/api/predict", {"value": 3})
    assert again.status_code == 409 and again.json()["predict"]["committed"]["value"] == 6
    progress = LessonProgress.objects.get()
    assert progress.predictions["predict-parallelism"]["value"] == 6
    assert progress.predictions["predict-parallelism"]["correct"] is False
    # Back to the step later: the prediction stands, and the clock is not stopped again.
    post(client, "/lessons/parallel-jobs/api/step", {"step": 4})
    Cluster.objects.filter(pk=cluster.pk).update(paused=False)
    assert post(client, "/lessons/parallel-jobs/api/step", {"step": 5}).json()["predict"]["committed"]["value"] == 6
    cluster.refresh_from_db()
    assert not cluster.paused


def test_a_step_without_a_prediction_refuses_one(client):
    client.get("/lessons/parallel-jobs/")
    answer = post(client, "/lessons/parallel-jobs/api/predict", {"value": 1})
    assert answer.status_code == 409


def test_a_choice_prediction_in_chinese(client):
    zh = Client(HTTP_ACCEPT_LANGUAGE="zh-Hans")
    zh.get("/lessons/retries/")
    step = post(zh, "/lessons/retries/api/step", {"step": 3}).json()
    assert step["predict"]["question"] == "一分钟后，kubectl get job give-up 的 STATUS 列显示什么？"
    assert step["predict"]["choices"] == ["Running", "Complete", "Failed"]
    assert post(zh, "/lessons/retries/api/predict", {"value": "Done"}).status_code == 422
    body = post(zh, "/lessons/retries/api/predict", {"value": "Failed"}).json()
    assert body["predict"]["committed"]["correct"] is True
    assert body["passed"] is True  # the Job failed within the minute: every check of the step holds


# --- checks the server evaluates again as the cluster changes ------------------------------------------------------


PARAL_1 = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: paral-1
spec:
  completions: 8
  parallelism: 2
  template:
    spec:
      containers:
      - name: pi
        image: ubuntu
        command: ["/bin/sh"]
        args: ["-c", "sleep 30; date"]
      restartPolicy: OnFailure
"""


def test_the_step_turns_green_by_itself_as_the_cluster_changes(client, changes):
    client.get("/lessons/parallel-jobs/")
    progress = LessonProgress.objects.get()
    name = progress.cluster.name
    assert recheck.runs_due() == [progress.pk]  # never evaluated in this step
    assert recheck.recheck_round() == []
    progress.refresh_from_db()
    assert progress.evaluation["passed"] is False and progress.passed == []
    assert recheck.runs_due() == []  # nothing changed since: nothing to do

    # The learner works without pressing Check: applies the Job (say with kubectl), and lets the clock run.
    assert sim(client, name, "apply", PARAL_1, "application/yaml").status_code == 200
    assert recheck.runs_due() == [progress.pk]
    recheck.recheck_round()
    partial = client.get("/lessons/parallel-jobs/api/progress").json()
    assert partial["passed"] is False
    assert [c["passed"] for c in partial["evaluation"]["checks"]] == [True, False, False, False]
    assert sim(client, name, "clock/advance", {"seconds": 300, "wait": 60}).status_code == 200
    assert recheck.recheck_round() == [progress.pk]

    now = client.get("/lessons/parallel-jobs/api/progress").json()
    assert now["passed"] is True and now["index"] == 0
    assert now["evaluation"]["passed"] is True
    assert now["steps"][0]["passed"] is True
    assert (progress.pk, 0, [0]) in changes  # the teacher's grid is told
    # A passed step is evaluated no more, whatever changes.
    sim(client, name, "clock/advance", {"seconds": 10, "wait": 60})
    assert recheck.runs_due() == []
    # Check still answers now, and the page shows the last evaluation on load.
    assert post(client, "/lessons/parallel-jobs/api/check").json()["passed"] is True
    assert client.get("/lessons/parallel-jobs/api/step").json()["evaluation"]["passed"] is True


def test_progress_is_read_only_and_needs_a_run(client):
    assert client.get("/lessons/parallel-jobs/api/progress").status_code == 404
    client.get("/lessons/parallel-jobs/")
    assert post(client, "/lessons/parallel-jobs/api/progress").status_code == 405
    body = client.get("/lessons/parallel-jobs/api/progress").json()
    assert body == {"index": 0, "passed": False, "evaluation": None, "steps": body["steps"]}


def test_a_round_goes_on_past_a_run_whose_cluster_is_gone(client):
    client.get("/lessons/parallel-jobs/")
    Client().get("/lessons/retries/")
    gone = LessonProgress.objects.get(lesson__slug="retries")
    Cluster.objects.filter(pk=gone.cluster_id).delete()
    assert recheck.recheck_round() == []
    assert LessonProgress.objects.get().evaluation["passed"] is False


# --- the last refused apply -----------------------------------------------------------------------------------------


def test_the_last_refused_apply_is_kept_until_one_is_accepted(client, changes):
    client.get("/lessons/retries/")
    progress = LessonProgress.objects.get()
    name = progress.cluster.name
    refused = PARAL_1.replace("OnFailure", "Always")
    sim(client, name, "apply", refused, "application/yaml")
    progress.refresh_from_db()
    assert 'spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"' in \
        progress.last_error["message"]
    assert progress.last_error["at"]
    sim(client, name, "apply", "kind: [", "application/yaml")
    progress.refresh_from_db()
    assert progress.last_error["message"]
    sim(client, name, "apply", PARAL_1, "application/yaml")
    progress.refresh_from_db()
    assert progress.last_error == {}
    assert [c[0] for c in changes].count(progress.pk) == 4  # begun, refused, refused, accepted again
