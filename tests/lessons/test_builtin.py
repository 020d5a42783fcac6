"""The built-in lessons: valid, passing with their solutions, and every step's checks depend on that step."""

import re
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from kubeviz.lessons.format import LANGUAGES, load_lessons, lessons_dir
from kubeviz.lessons.runner import run_lesson

SLUGS = ["why-jobs", "retries", "parallel-jobs", "cronjob", "daemonset", "daemonset-update", "inside-a-controller",
         "resource-quota"]


@pytest.fixture(scope="module")
def builtin():
    report = load_lessons(lessons_dir(), base=settings.BASE_DIR)
    assert report.problems == []
    return {lesson.slug: lesson for lesson in report.lessons}


def test_the_eight_lessons_in_order(builtin):
    assert list(builtin) == SLUGS
    assert [lesson.order for lesson in builtin.values()] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert all(lesson.source.startswith("lessons/") for lesson in builtin.values())


def test_every_step_teaches_in_both_languages_and_shows_kubectl(builtin):
    for lesson in builtin.values():
        for step in lesson.steps:
            assert set(step["text"]) == set(LANGUAGES)
            assert step["kubectl"], f"{lesson.slug}/{step['id']} shows no kubectl command"
            assert all(c.startswith("kubectl ") for c in step["kubectl"])
            assert step["checks"], f"{lesson.slug}/{step['id']} checks nothing"
            # Chinese text is really Chinese, not the English pasted twice
            assert re.search(r"[\u4e00-\u9fff]", step["text"]["zh-Hans"])


def test_the_seed_articles_demos_are_all_there(builtin):
    manifests = "\n".join(m["yaml"] for lesson in builtin.values() for step in lesson.steps
                          for m in step["manifests"])
    assert 'command: ["perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"]' in manifests  # a1, a6-a7
    assert "name: paral-1\nspec:\n  completions: 8\n  parallelism: 2" in manifests  # a8-a12
    assert 'schedule: "*/1 * * * *"' in manifests and "Hello from the Kubernetes cluster" in manifests  # a13-a15
    assert "name: fluentd-elasticsearch\n  namespace: kube-system" in manifests  # a18, a21-a24
    texts = "\n".join(step["text"]["en"] for lesson in builtin.values() for step in lesson.steps)
    assert 'spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"' in texts
    assert "The real values are `Allow`, `Forbid` and\n`Replace`" in texts
    assert "orchestration on top of Kubernetes" in texts


def test_no_machine_paths_in_lesson_files():
    checkout = str(lessons_dir().resolve().parent)
    for path in lessons_dir().glob("*"):
        assert checkout not in path.read_text(), path


@pytest.mark.parametrize("slug", SLUGS)
def test_each_lesson_passes_with_its_solutions(builtin, slug):
    report = run_lesson(builtin[slug])
    failures = [(s.id, s.errors, [c.detail for c in s.checks if not c.passed]) for s in report.steps if not s.passed]
    assert failures == []


def _steps_with_checks():
    report = load_lessons(lessons_dir())
    return [pytest.param(lesson.slug, index, id=f"{lesson.slug}/{step['id']}")
            for lesson in report.lessons for index, step in enumerate(lesson.steps) if step["checks"]]


@pytest.mark.parametrize(("slug", "index"), _steps_with_checks())
def test_skipping_a_step_makes_one_of_its_checks_fail(builtin, slug, index):
    """A check that passes without its step's work checks nothing: run everything before the step, then the
    step without its setup, solution and actions."""
    report = run_lesson(builtin[slug], skip=index)
    step = report.steps[-1]
    assert step.skipped and step.index == index
    assert any(not c.passed for c in step.checks), [c.detail for c in step.checks]


def test_lessons_check_command_prints_each_step(builtin):
    out = StringIO()
    call_command("lessons", "check", "why-jobs", "retries", stdout=out)
    text = out.getvalue()
    assert "why-jobs: Why Jobs\n  PASS step 1 bare-pod: 2/2 checks\n" in text
    assert "retries: Failures and retries\n" in text
    assert text.endswith("2 lesson(s) passed\n")


def test_lessons_check_in_chinese_and_verbose():
    out = StringIO()
    call_command("lessons", "check", "retries", "--lang", "zh-Hans", verbosity=2, stdout=out)
    text = out.getvalue()
    assert "retries: 失败与重试" in text
    assert "       · apply fail-never.yaml: job/fail-never created" in text
    assert "       ✓ field: Job default/fail-never status.failed is 3, expected == 3" in text


def test_lessons_check_fails_with_reasons(tmp_path):
    source = (lessons_dir() / "01-why-jobs.yaml").read_text()
    (tmp_path / "01-why-jobs.yaml").write_text(source.replace("value: 0/1}", "value: 5/1}"))
    out = StringIO()
    with pytest.raises(CommandError, match=r"1 step\(s\) failed, 0 problem\(s\) in lesson files"):
        call_command("lessons", "check", "--dir", str(tmp_path), stdout=out)
    assert "  FAIL step 3 pi-job: 1/2 checks\n" in out.getvalue()
    assert ('       ✗ field: Job default/pi COMPLETIONS is "0/1", expected == "5/1" — The new Job pi should show '
            'COMPLETIONS 0/1.') in out.getvalue()


def test_lessons_check_unknown_slug():
    with pytest.raises(CommandError, match="no lesson nope"):
        call_command("lessons", "check", "nope", stdout=StringIO())


def test_lessons_validate(tmp_path):
    out = StringIO()
    call_command("lessons", "validate", stdout=out)
    assert "ok   lessons/03-parallel-jobs.yaml (parallel-jobs, 6 steps)" in out.getvalue()
    broken = tmp_path / "03-parallel-jobs.yaml"
    broken.write_text((lessons_dir() / "03-parallel-jobs.yaml").read_text().replace('op: "<=", value: 2',
                                                                                   'op: "=~", value: 2'))
    err = StringIO()
    with pytest.raises(CommandError, match=r"1 problem\(s\) in lesson files"):
        call_command("lessons", "validate", str(broken), stdout=StringIO(), stderr=err)
    assert re.search(r'03-parallel-jobs\.yaml:\d+:\d+: steps\[0\]\.checks\[0\]\.count\.op: unknown value "=~", '
                     r'expected one of "==", ', err.getvalue())


def test_lessons_load_stores_and_updates(db, tmp_path):
    from kubeviz.lessons.models import Lesson

    out = StringIO()
    call_command("lessons", "load", stdout=out)
    assert out.getvalue() == "lessons: 8 created, 0 updated, 0 unchanged, 0 removed\n"
    assert list(Lesson.objects.values_list("slug", flat=True)) == SLUGS
    row = Lesson.objects.get(slug="why-jobs")
    assert row.title == {"zh-Hans": "为什么需要 Job", "en": "Why Jobs"} and row.minutes == 15
    assert row.parsed().steps[0]["id"] == "bare-pod"
    out = StringIO()
    call_command("lessons", "load", stdout=out)
    assert out.getvalue() == "lessons: 0 created, 0 updated, 8 unchanged, 0 removed\n"

    # a directory where one lesson changed, one broke, and the others are gone
    source = (lessons_dir() / "01-why-jobs.yaml").read_text()
    (tmp_path / "01-why-jobs.yaml").write_text(source.replace("minutes: 15", "minutes: 20"))
    (tmp_path / "02-retries.yaml").write_text((lessons_dir() / "02-retries.yaml").read_text()
                                              .replace("minutes: 15", "minutes: soon"))
    out, err = StringIO(), StringIO()
    call_command("lessons", "load", "--dir", str(tmp_path), stdout=out, stderr=err)
    assert "02-retries.yaml:6:1: minutes: expected an integer, got a string" in err.getvalue()
    assert out.getvalue().startswith("lessons: 0 created, 1 updated, 0 unchanged, 6 removed, 1 problem(s)")
    # the broken lesson keeps its last good version: never half-loaded
    assert Lesson.objects.get(slug="retries").minutes == 15
    assert Lesson.objects.get(slug="why-jobs").minutes == 20
    with pytest.raises(CommandError):
        call_command("lessons", "load", "--dir", str(tmp_path), "--strict", stdout=StringIO(), stderr=StringIO())
