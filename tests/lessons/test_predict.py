"""Predict steps: the format, grading by the simulation, and ``lessons check`` proving the lesson's answer is what the
simulation produces."""

import textwrap
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from kubeviz.lessons.format import LessonError, load_lessons, lessons_dir, parse_lesson
from kubeviz.lessons.runner import LessonRun, PredictionError, memory_lesson_cluster, prediction_value, run_lesson

HEAD = textwrap.dedent(
    """\
    apiVersion: kubeviz.io/v1alpha1
    kind: Lesson
    slug: predict-test
    order: 1
    level: beginner
    minutes: 5
    title: {zh-Hans: 预测, en: Predict}
    summary: {zh-Hans: 预测, en: Predict}
    cluster: {nodes: 2, seed: 3}
    steps:
    - id: guess
      title: {zh-Hans: 猜, en: Guess}
      text: {zh-Hans: 猜一猜, en: Guess}
      manifests:
      - name: pair.yaml
        yaml: |
          apiVersion: batch/v1
          kind: Job
          metadata:
            name: pair
          spec:
            completions: 4
            parallelism: 2
            template:
              spec:
                containers:
                - name: s
                  image: busybox
                  command: ["sleep", "30"]
                restartPolicy: Never
      setup:
      - apply: pair.yaml
      checks:
      - field: {kind: Job, name: pair, path: metadata.name, value: pair}
        message: {zh-Hans: 有 pair, en: pair exists}
    """
)
COUNT = """\
  predict:
    question: {zh-Hans: 几个？, en: How many?}
    measure:
      count: {kind: Pod, selector: job-name=pair, status: Running}
    after: 15s
    answer: ANSWER
"""
STATUS = """\
  predict:
    question: {zh-Hans: 状态？, en: Status?}
    choices: [Running, Complete, Failed]
    measure:
      field: {kind: Job, name: pair, column: STATUS}
    after: 2m
    answer: ANSWER
    explain: {zh-Hans: 两批, en: Two batches}
"""


def lesson(predict: str, answer):
    return parse_lesson(HEAD + predict.replace("ANSWER", str(answer)), file="lessons/99-predict.yaml")


def problems(text):
    with pytest.raises(LessonError) as caught:
        parse_lesson(HEAD + text, file="lessons/99-predict.yaml")
    return [str(p) for p in caught.value.problems]


def test_a_predict_step_is_read_with_its_defaults():
    step = lesson(COUNT, 2).steps[0]
    assert step["predict"] == {
        "question": {"zh-Hans": "几个？", "en": "How many?"},
        "measure": {"type": "count", "count": {"kind": "Pod", "namespace": "default", "selector": "job-name=pair",
                                               "fieldSelector": "", "status": "Running", "where": []}},
        "after": 15.0, "answer": 2,
    }
    assert "predict" not in parse_lesson(HEAD, file="x.yaml").steps[0]  # a step without one has none


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(COUNT.replace("ANSWER", "two"), "steps[0].predict.answer: a count measure answers a whole number, "
                     'got "two"', id="count answered with text"),
        pytest.param(STATUS.replace("ANSWER", "Done"), 'steps[0].predict.answer: the answer "Done" is not one of the '
                     "choices", id="answer not a choice"),
        pytest.param(STATUS.replace("ANSWER", "Failed").replace("    choices: [Running, Complete, Failed]\n", ""),
                     'steps[0].predict: a field measure needs "choices"', id="field without choices"),
        pytest.param(STATUS.replace("ANSWER", "Failed").replace("[Running, Complete, Failed]", "[Failed, Failed]"),
                     'steps[0].predict.choices[1]: the choice "Failed" is listed twice', id="choice twice"),
        pytest.param(COUNT.replace("ANSWER", "1").replace("count: {kind", "count: {op: '>', kind"),
                     'steps[0].predict.measure.count.op: unknown field "op"', id="a measure compares nothing"),
        pytest.param(COUNT.replace("    answer: ANSWER\n", ""), 'steps[0].predict: the field "answer" is required',
                     id="no answer"),
    ],
)
def test_predict_mistakes_are_reported_at_their_place(text, expected):
    found = problems(text)
    assert any(expected in p for p in found), found
    assert all(p.startswith("lessons/99-predict.yaml:") for p in found)


def _run(source):
    run = LessonRun(source, memory_lesson_cluster(source))
    run.begin_step(0)
    return run


def test_the_simulation_grades_a_count_prediction_after_the_clock_moved():
    source = lesson(COUNT, 2)
    run = _run(source)
    started = run.cluster.now()
    before = [r.passed for r in run.evaluate()]
    assert before == [False, True]  # the predict check first: nothing committed yet
    assert run.evaluate()[0].detail == "no prediction committed yet"
    prediction = run.predict("3")  # typed as text: read as the number it is
    assert (run.cluster.now() - started).total_seconds() == 15
    assert prediction.value == 3 and prediction.actual == 2 and not prediction.correct
    assert prediction.detail == "Pods in default selector job-name=pair STATUS Running: 2"
    assert prediction.at == "2025-01-01T00:00:15Z"
    # Committed, right or wrong, the step's first check passes: the point was to think first.
    results = run.evaluate()
    assert [r.passed for r in results] == [True, True]
    assert results[0].detail == "predicted 3; the simulation showed 2"


def test_a_right_prediction_among_choices():
    run = _run(lesson(STATUS, "Complete"))
    prediction = run.predict("Complete")
    assert prediction.correct and prediction.actual == "Complete"
    assert prediction.detail == 'Job default/pair STATUS is "Complete"'


@pytest.mark.parametrize("raw", ["Done", "", None, 3])
def test_an_answer_that_is_not_a_choice_is_refused_and_nothing_moves(raw):
    run = _run(lesson(STATUS, "Complete"))
    started = run.cluster.now()
    with pytest.raises(PredictionError, match="pick one of the answers offered"):
        run.predict(raw)
    assert run.cluster.now() == started and run.prediction is None


@pytest.mark.parametrize("raw", [-1, 2.5, True, "two", "", None, 10_000_000])
def test_a_count_is_a_whole_number(raw):
    predict = lesson(COUNT, 2).steps[0]["predict"]
    with pytest.raises(PredictionError, match="the answer is a whole number"):
        prediction_value(predict, raw)
    assert prediction_value(predict, " 7 ") == 7


def test_lessons_check_proves_the_answer_is_what_the_simulation_does():
    assert run_lesson(lesson(COUNT, 2)).passed
    report = run_lesson(lesson(COUNT, 4))
    (step,) = report.steps
    assert not step.passed
    assert step.errors == ["predict: the lesson's answer is 4, but the simulation shows Pods in default selector "
                           "job-name=pair STATUS Running: 2"]
    assert run_lesson(lesson(STATUS, "Complete")).passed
    assert not run_lesson(lesson(STATUS, "Failed")).passed


def test_skipping_a_predict_step_leaves_its_prediction_uncommitted():
    report = run_lesson(lesson(COUNT, 2), skip=0)
    assert [c.check["type"] for c in report.steps[0].checks if not c.passed][0] == "predict"


def test_the_command_fails_a_lesson_whose_answer_the_simulation_contradicts(tmp_path):
    source = (lessons_dir() / "03-parallel-jobs.yaml").read_text()
    assert "    answer: 3\n" in source
    (tmp_path / "03-parallel-jobs.yaml").write_text(source.replace("    answer: 3\n", "    answer: 2\n"))
    out = StringIO()
    with pytest.raises(CommandError, match=r"1 step\(s\) failed"):
        call_command("lessons", "check", "--dir", str(tmp_path), stdout=out)
    assert ("  FAIL step 6 predict-parallelism: 2/3 checks\n"
            "       ! predict: the lesson's answer is 2, but the simulation shows Pods in default selector "
            "job-name=paral-3 STATUS Running: 3\n") in out.getvalue()


def test_two_builtin_lessons_ask_for_predictions_and_their_answers_hold():
    lessons = load_lessons(lessons_dir()).lessons
    predicting = {l.slug: [s["id"] for s in l.steps if s.get("predict")] for l in lessons}
    predicting = {slug: ids for slug, ids in predicting.items() if ids}
    assert predicting == {"retries": ["predict-give-up"], "parallel-jobs": ["predict-parallelism"]}
    out = StringIO()
    call_command("lessons", "check", *predicting, verbosity=2, stdout=out)
    text = out.getvalue()
    assert '       ✓ predict: predicted "Failed"; the simulation showed "Failed"\n' in text
    assert "       ✓ predict: predicted 3; the simulation showed 3\n" in text
    assert '       · predicted "Failed": Job default/give-up STATUS is "Failed" (right)\n' in text
