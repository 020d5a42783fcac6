"""A lesson whose cluster starts from a recording: the recording is read (and checked) with the lesson file, the
stored lesson carries it, and both the headless check and a learner's Start rebuild the recorded cluster."""

import json
import textwrap

import pytest
from django.test import Client

from kubeviz.lessons.format import LessonError, load_lesson_file
from kubeviz.lessons.runner import run_lesson
from kubeviz.lessons.services import lessons_sync
from kubeviz.lessons.format import load_lessons
from kubeviz.lessons.models import LessonProgress
from tests.manifests import failing_pi

LESSON = textwrap.dedent(
    """\
    apiVersion: kubeviz.io/v1alpha1
    kind: Lesson
    slug: from-recording
    order: 50
    level: beginner
    minutes: 5
    title: {zh-Hans: 从录制开始, en: From a recording}
    summary: {zh-Hans: 一个已经运行过的 Job, en: A Job that already ran}
    cluster:
      recording: recordings/failed-pi.kubeviz.json
      speed: 4
    steps:
    - id: read
      title: {zh-Hans: 读状态, en: Read its status}
      text: {zh-Hans: 文字, en: Text}
      checks:
      - field: {kind: Job, name: pi, path: status.failed, value: 3}
        message: {zh-Hans: 失败了三次, en: It failed three times}
    """
)


@pytest.fixture
def recorded(db, cluster, tmp_path):
    """A lesson directory with the lesson above and the recording of the test cluster, where a Job with
    backoffLimit 2 failed three times; answers (directory, the Job as the test cluster left it)."""
    client = Client()
    assert client.post("/sim/clusters/test/apply", failing_pi(2), content_type="application/yaml").status_code == 200
    assert client.post("/sim/clusters/test/clock/advance", json.dumps({"seconds": 120}),
                       content_type="application/json").status_code == 200
    job = client.get("/clusters/test/apis/batch/v1/namespaces/default/jobs/pi").json()
    assert job["status"]["failed"] == 3
    (tmp_path / "recordings").mkdir()
    (tmp_path / "recordings" / "failed-pi.kubeviz.json").write_bytes(client.get("/sim/clusters/test/recording").content)
    (tmp_path / "50-from-recording.yaml").write_text(LESSON)
    return tmp_path, job


def test_the_lesson_checks_headlessly_on_the_recorded_cluster(recorded):
    directory, _ = recorded
    lesson = load_lesson_file(directory / "50-from-recording.yaml")
    assert lesson.content["cluster"]["recordingData"]["kind"] == "KubevizRecording"
    report = run_lesson(lesson)
    assert report.passed and len(report.steps) == 1, report


def test_a_learner_starts_the_lesson_on_the_recorded_cluster(recorded, settings):
    directory, original = recorded
    settings.KUBEVIZ_LESSONS_DIR = directory
    report = load_lessons(directory)
    assert report.ok, report.problems
    lessons_sync(report=report)
    browser = Client()
    assert browser.post("/lessons/from-recording/start").status_code == 302
    progress = LessonProgress.objects.select_related("cluster").get(lesson__slug="from-recording")
    name = progress.cluster.name
    assert (progress.cluster.paused, progress.cluster.speed) == (True, 4)
    job = browser.get(f"/clusters/{name}/apis/batch/v1/namespaces/default/jobs/pi").json()
    # object for object the recorded one: uid, resourceVersion and status
    for field in ("uid", "resourceVersion", "creationTimestamp"):
        assert job["metadata"][field] == original["metadata"][field]
    assert job["status"] == original["status"]
    assert browser.get("/lessons/from-recording/api/step").json()["cluster"] == name


@pytest.mark.parametrize("change, message", [
    (lambda d: (d / "recordings" / "failed-pi.kubeviz.json").unlink(),
     "recordings/failed-pi.kubeviz.json: No such file or directory"),
    (lambda d: (d / "recordings" / "failed-pi.kubeviz.json").write_text('{"kind": "KubevizRecording", "version": 99}'),
     "recordings/failed-pi.kubeviz.json: "),
    (lambda d: (d / "50-from-recording.yaml").write_text(
        LESSON.replace("recording: recordings/failed-pi.kubeviz.json", "recording: ../elsewhere.json")),
     "the recording must be a path beside the lesson file (no absolute path, no '..')"),
    (lambda d: (d / "50-from-recording.yaml").write_text(LESSON.replace("  speed: 4", "  speed: 4\n  seed: 7")),
     "a cluster that starts from a recording takes its nodes, control plane, seed and start from the recording"),
], ids=["missing", "newer format", "outside", "seed given too"])
def test_a_bad_recording_is_the_lessons_problem(recorded, change, message):
    directory, _ = recorded
    change(directory)
    with pytest.raises(LessonError) as caught:
        load_lesson_file(directory / "50-from-recording.yaml")
    (problem,) = caught.value.problems
    assert message in problem.message
    assert problem.path in ("cluster.recording", "cluster.seed") and problem.line is not None
