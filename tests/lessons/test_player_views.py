"""The lesson player's pages and JSON API: a sandbox cluster per learner, kept in a signed cookie."""

import json

import pytest
from django.conf import settings
from django.test import Client

from kubeviz.lessons.format import load_lessons, lessons_dir
from kubeviz.lessons.markdown import render_markdown
from kubeviz.lessons.models import LessonProgress
from kubeviz.lessons.services import lessons_sync
from kubeviz.lessons.views import COOKIE
from kubeviz.store.models import Cluster

SLUG = "parallel-jobs"


@pytest.fixture
def lessons(db):
    lessons_sync(report=load_lessons(lessons_dir(), base=settings.BASE_DIR))


@pytest.fixture
def client(lessons):
    return Client(HTTP_ACCEPT_LANGUAGE="en")


def post(client, path, body=None):
    return client.post(path, json.dumps(body or {}), content_type="application/json")


def test_the_list_shows_every_lesson_in_the_active_language(client):
    page = client.get("/lessons/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Parallel and sequential Jobs" in html
    assert 'href="/lessons/parallel-jobs/"' in html
    assert "25 minutes" in html and "Intermediate" in html
    zh = Client(HTTP_ACCEPT_LANGUAGE="zh-Hans").get("/lessons/").content.decode()
    assert "并行与串行的 Job" in zh


def test_the_lesson_page_creates_a_cluster_and_sets_the_cookie(client):
    before = Cluster.objects.count()
    page = client.get(f"/lessons/{SLUG}/")
    assert page.status_code == 200
    assert Cluster.objects.count() == before + 1
    progress = LessonProgress.objects.get()
    assert progress.cluster.name.startswith("l-parallel-jobs-")
    assert progress.step == 0
    cookie = page.cookies[COOKIE]
    assert cookie["httponly"]
    html = page.content.decode()
    assert 'data-testid="lesson-panel"' in html
    assert "completions 8, parallelism 2" in html
    assert "<code>completions: 8</code>" in html  # Markdown rendered
    assert f"/clusters/{progress.cluster.name}" in html  # the dashboard is for the learner's cluster
    # the page says which nodes the lesson asked for
    assert progress.cluster.stored_objects.filter(kind="Node").count() == 4


def test_reload_keeps_the_same_cluster_and_step(client):
    client.get(f"/lessons/{SLUG}/")
    first = LessonProgress.objects.get().cluster.name
    moved = post(client, f"/lessons/{SLUG}/api/step", {"step": 2})
    assert moved.status_code == 200 and moved.json()["index"] == 2
    again = client.get(f"/lessons/{SLUG}/")
    assert again.status_code == 200
    assert LessonProgress.objects.count() == 1
    assert LessonProgress.objects.get().cluster.name == first
    assert client.get(f"/lessons/{SLUG}/api/step").json()["index"] == 2
    assert "An Indexed Job" in again.content.decode()
    # Another learner (no cookie) gets a cluster of their own.
    other = Client(HTTP_ACCEPT_LANGUAGE="en")
    other.get(f"/lessons/{SLUG}/")
    assert LessonProgress.objects.count() == 2
    assert len({p.cluster.name for p in LessonProgress.objects.all()}) == 2


def test_a_tampered_cookie_is_ignored(client):
    client.cookies[COOKIE] = json.dumps({SLUG: {"cluster": "default", "step": 3}})
    assert client.get(f"/lessons/{SLUG}/api/step").status_code == 404
    page = client.get(f"/lessons/{SLUG}/")
    assert page.status_code == 200
    assert LessonProgress.objects.get().cluster.name.startswith("l-")


def test_check_fails_before_the_solution_and_passes_after_show_me(client):
    client.get(f"/lessons/{SLUG}/")
    before = post(client, f"/lessons/{SLUG}/api/check").json()
    assert before["passed"] is False
    failed = [c for c in before["checks"] if not c["passed"]]
    assert failed and "COMPLETIONS should read 8/8" in " ".join(c["message"] for c in failed)
    shown = post(client, f"/lessons/{SLUG}/api/show-me").json()
    assert shown["passed"] is True, shown
    assert "apply paral-1.yaml: job/paral-1 created" in shown["log"]
    after = post(client, f"/lessons/{SLUG}/api/check").json()
    assert after["passed"] is True, after
    assert after["steps"][0]["passed"] is True


def _always_step(client):
    """The retries lesson at its step whose check is an apply the API server refuses."""
    client.get("/lessons/retries/")
    step = post(client, "/lessons/retries/api/step", {"step": 2}).json()
    (manifest,) = step["manifests"]
    assert "restartPolicy: Always" in manifest["yaml"]
    return LessonProgress.objects.get(lesson__slug="retries"), manifest["yaml"]


def test_an_apply_from_the_editor_counts_for_the_step_and_stays_counted(client):
    progress, yaml = _always_step(client)
    before = post(client, "/lessons/retries/api/check").json()
    assert before["passed"] is False
    assert "Job hello-always was not applied in this step" in [c["detail"] for c in before["checks"]]
    # The player's editor applies through the cluster's apply endpoint, as the dashboard's does.
    applied = client.post(f"/sim/clusters/{progress.cluster.name}/apply", yaml, content_type="application/yaml")
    assert applied.status_code == 422
    for _ in range(2):  # a second Check still sees the apply (it is kept with the learner's progress)
        body = post(client, "/lessons/retries/api/check").json()
        assert body["passed"] is True, body
    # A dry run (validation while typing) is no apply; a new step starts with none.
    post(client, "/lessons/retries/api/step", {"step": 1})
    post(client, "/lessons/retries/api/step", {"step": 2})
    client.post(f"/sim/clusters/{progress.cluster.name}/apply?dryRun=All", yaml, content_type="application/yaml")
    assert post(client, "/lessons/retries/api/check").json()["passed"] is False


def test_a_stream_the_api_refuses_whole_is_a_rejected_apply(client):
    progress, _ = _always_step(client)
    client.post(f"/sim/clusters/{progress.cluster.name}/apply", "kind: Job\n  bad: [", content_type="application/yaml")
    progress.refresh_from_db()
    assert [(a["manifest"], a["kind"], a["outcome"]) for a in progress.applies] == [("editor", "", "rejected")]
    assert post(client, "/lessons/retries/api/check").json()["passed"] is False


def test_an_apply_is_answered_even_when_recording_it_fails(client, monkeypatch, caplog):
    progress, yaml = _always_step(client)

    def broken(*args, **kwargs):
        raise RuntimeError("database is locked")

    monkeypatch.setattr("kubeviz.lessons.services.add_applies", broken)
    fixed = yaml.replace("restartPolicy: Always", "restartPolicy: Never")
    applied = client.post(f"/sim/clusters/{progress.cluster.name}/apply", fixed, content_type="application/yaml")
    assert applied.status_code == 200 and applied.json()["results"][0]["action"] == "created"
    assert "recording an apply on" in caplog.text


def test_show_me_applies_count_for_later_checks(client):
    _always_step(client)
    shown = post(client, "/lessons/retries/api/show-me").json()
    assert shown["passed"] is True, shown
    assert post(client, "/lessons/retries/api/check").json()["passed"] is True


def test_check_messages_in_chinese(lessons):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-Hans")
    client.get(f"/lessons/{SLUG}/")
    body = post(client, f"/lessons/{SLUG}/api/check").json()
    assert any("COMPLETIONS 应该是 8/8" in c["message"] for c in body["checks"])


def test_show_me_runs_actions_that_wait_for_a_check(client):
    """The chain step: train is resumed once prepare has completed, waiting in simulated time."""
    client.get(f"/lessons/{SLUG}/")
    post(client, f"/lessons/{SLUG}/api/step", {"step": 4})
    body = post(client, f"/lessons/{SLUG}/api/show-me").json()
    assert body["passed"] is True, body
    assert "patch job train" in body["log"]


def test_actions_run_when_due_while_the_learner_drives_the_clock(client):
    from kubeviz.runtime.host import host

    client.get(f"/lessons/{SLUG}/")
    post(client, f"/lessons/{SLUG}/api/step", {"step": 4})
    progress = LessonProgress.objects.get()
    step = progress.lesson.content["steps"][4]
    yaml = step["manifests"][0]["yaml"]
    assert client.post(f"/sim/clusters/{progress.cluster.name}/apply", yaml,
                       content_type="application/yaml").status_code in (200, 201)
    assert post(client, f"/lessons/{SLUG}/api/actions").json() == {"done": [], "pending": 2}
    host.advance(progress.cluster, 120)
    assert post(client, f"/lessons/{SLUG}/api/actions").json()["done"] == ["patch job train"]
    host.advance(progress.cluster, 120)
    body = post(client, f"/lessons/{SLUG}/api/check").json()
    assert body["passed"] is True, body


def test_step_api_validates_and_needs_the_page_first(client):
    assert client.get(f"/lessons/{SLUG}/api/step").status_code == 404
    client.get(f"/lessons/{SLUG}/")
    assert post(client, f"/lessons/{SLUG}/api/step", {"step": 99}).status_code == 422
    assert post(client, f"/lessons/{SLUG}/api/step", {"step": "1"}).status_code == 422
    assert client.get(f"/lessons/{SLUG}/api/check").status_code == 405
    step = client.get(f"/lessons/{SLUG}/api/step").json()
    assert step["count"] == 6 and step["manifests"][0]["name"] == "paral-1.yaml"
    assert step["kubectl"][0] == "kubectl apply -f paral-1.yaml"


def test_unknown_lesson_is_a_friendly_404(client):
    page = client.get("/lessons/no-such-lesson/")
    assert page.status_code == 404
    html = page.content.decode()
    assert "no-such-lesson" in html and "Parallel and sequential Jobs" in html
    assert post(client, "/lessons/no-such-lesson/api/check").status_code == 404


def test_markdown_is_safe():
    html = render_markdown("Hi <script>alert(1)</script> **bold** `a<b`\n\n- one\n- two\n\n```yaml\nx: <y>\n```")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<strong>bold</strong>" in html and "<code>a&lt;b</code>" in html
    assert "<ul><li>one</li><li>two</li></ul>" in html
    assert '<pre><code class="language-yaml">x: &lt;y&gt;</code></pre>' in html
