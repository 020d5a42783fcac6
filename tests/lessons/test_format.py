"""Lesson files: every kind of mistake is reported at its file, line and column, and nothing is half-loaded."""

import textwrap

import pytest

from kubeviz.lessons.format import LessonError, load_lessons, parse_field_path, parse_lesson

MINIMAL = textwrap.dedent(
    """\
    apiVersion: kubeviz.io/v1alpha1
    kind: Lesson
    slug: tiny
    order: 1
    level: beginner
    minutes: 5
    title: {zh-Hans: 小课, en: Tiny}
    summary: {zh-Hans: 一课, en: A lesson}
    steps:
    - id: one
      title: {zh-Hans: 一, en: One}
      text: {zh-Hans: 文字, en: Text}
      manifests:
      - name: pod.yaml
        yaml: |
          apiVersion: v1
          kind: Pod
          metadata:
            name: p
          spec:
            containers:
            - name: c
              image: busybox
      solution:
        apply: [pod.yaml]
      actions:
      - advance: 30s
      checks:
      - count: {kind: Pod, value: 1}
        message: {zh-Hans: 应该有一个 Pod, en: One pod}
    """
)


def problems(text, file="lessons/99-tiny.yaml"):
    with pytest.raises(LessonError) as caught:
        parse_lesson(text, file=file)
    return [str(p) for p in caught.value.problems]


def test_a_minimal_lesson_loads_with_defaults_filled_in():
    lesson = parse_lesson(MINIMAL, file="lessons/99-tiny.yaml")
    assert lesson.slug == "tiny"
    assert lesson.content["cluster"] == {"nodes": 3, "controlPlane": True, "seed": 0,
                                         "start": "2025-01-01T00:00:00Z", "speed": 1.0, "recording": None}
    step = lesson.steps[0]
    assert step["actions"] == [{"type": "advance", "advance": 30.0, "timeout": 600.0}]
    assert step["checks"][0]["count"]["op"] == "=="
    assert step["checks"][0]["count"]["namespace"] == "default"
    assert step["hints"] == [] and step["setup"] == []
    assert len(lesson.content_hash) == 64


def test_the_content_hash_follows_the_content():
    a = parse_lesson(MINIMAL).content_hash
    b = parse_lesson(MINIMAL.replace("minutes: 5", "minutes: 6")).content_hash
    assert a != b and a == parse_lesson(MINIMAL).content_hash


CHECK = "  - count: {kind: Pod, value: 1}"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(CHECK, '  - count: {kind: Pod, op: "=~", value: 1}',
                     'lessons/99-tiny.yaml:29:24: steps[0].checks[0].count.op: unknown value "=~", expected one of '
                     '"==", "!=", "<", "<=", ">", ">=", "in", "notIn", "contains", "startsWith", "endsWith", '
                     '"matches", "exists", "absent"', id="unknown operator"),
        pytest.param("level: beginner", "level: expert",
                     'lessons/99-tiny.yaml:5:1: level: unknown value "expert", expected one of "beginner", '
                     '"intermediate", "advanced"', id="unknown level"),
        pytest.param("minutes: 5", "minutes: five",
                     "lessons/99-tiny.yaml:6:1: minutes: expected an integer, got a string", id="wrong type"),
        pytest.param("order: 1\n", "", 'lessons/99-tiny.yaml:1:1: the field "order" is required',
                     id="missing field"),
        pytest.param("minutes: 5", "minutes: 5\ncolour: blue",
                     'lessons/99-tiny.yaml:7:1: colour: unknown field "colour", expected one of "apiVersion", '
                     '"kind", "slug", "order", "level", "minutes", "title", "summary", "cluster", "steps"',
                     id="unknown field"),
        pytest.param("title: {zh-Hans: 小课, en: Tiny}", "title: {en: Tiny}",
                     'lessons/99-tiny.yaml:7:1: title: the "zh-Hans" text is missing', id="missing language"),
        pytest.param("title: {zh-Hans: 小课, en: Tiny}", "title: {zh-Hans: 小课, en: Tiny, fr: Petit}",
                     'lessons/99-tiny.yaml:7:32: title.fr: unknown language "fr", expected "zh-Hans", "en"',
                     id="unknown language"),
        pytest.param("  - advance: 30s", "  - advance: soon",
                     "lessons/99-tiny.yaml:27:5: steps[0].actions[0].advance: expected a duration such as 30s, 2m "
                     'or 1h30m, got "soon"', id="bad duration"),
        pytest.param("  - advance: 30s", "  - hover: 30s",
                     'lessons/99-tiny.yaml:27:5: steps[0].actions[0].hover: unknown action "hover", expected one '
                     'of "advance", "apply", "addNode", "removeNode", "labelNode", "taintNode", "untaintNode", '
                     '"cordonNode", "uncordonNode", "failNode", "recoverNode", "patch", "delete", "undo", '
                     '"waitFor", "timeout", "note"', id="unknown action"),
        pytest.param("    apply: [pod.yaml]", "    apply: [job.yaml]",
                     'lessons/99-tiny.yaml:25:13: steps[0].solution.apply[0]: no manifest "job.yaml" in this step '
                     "or an earlier one", id="unknown manifest"),
        pytest.param(CHECK, "  - count: {kind: Pod, selector: 'a in (', value: 1}",
                     "lessons/99-tiny.yaml:29:24: steps[0].checks[0].count.selector: not a label selector: ",
                     id="bad selector"),
        pytest.param(CHECK, '  - count: {kind: Pod, op: "<", value: 1, at: sometimes}',
                     'lessons/99-tiny.yaml:29:43: steps[0].checks[0].count.at: unknown value "sometimes", expected '
                     'one of "now", "always", "ever"', id="unknown moment"),
        pytest.param(CHECK, "  - field: {kind: Pod, name: p, path: 'status..phase', value: 1}",
                     "lessons/99-tiny.yaml:29:33: steps[0].checks[0].field.path: cannot read the field path "
                     "'status..phase': '..' or a leading '.'", id="bad field path"),
        pytest.param(CHECK, "  - field: {kind: Pod, name: p, path: status.phase, op: '>', value: high}",
                     'lessons/99-tiny.yaml:29:62: steps[0].checks[0].field.value: the operator ">" compares numbers, '
                     "got a string", id="operator and value disagree"),
        pytest.param(CHECK, CHECK + "\n    field: {kind: Pod, name: p, path: x}",
                     'lessons/99-tiny.yaml:30:5: steps[0].checks[0].field: a check has one kind only: "count" and '
                     '"field" given', id="two check kinds"),
        pytest.param("    message: {zh-Hans: 应该有一个 Pod, en: One pod}\n", "",
                     'lessons/99-tiny.yaml:29:5: steps[0].checks[0]: the field "message" is required',
                     id="check without a message"),
        pytest.param(CHECK, "  - count: {kind: Pods, value: 1}",
                     'lessons/99-tiny.yaml:29:13: steps[0].checks[0].count.kind: unknown value "Pods"',
                     id="unknown kind"),
        pytest.param("      kind: Pod\n", "      kind: Pod\n       bad: [\n",
                     "lessons/99-tiny.yaml:18:11: steps[0].manifests[0].yaml: the manifest does not parse: ",
                     id="embedded manifest does not parse"),
        pytest.param("- id: one", "- id: One!",
                     "lessons/99-tiny.yaml:10:3: steps[0].id: \"One!\" is not a step id", id="bad step id"),
    ],
)
def test_each_mistake_is_reported_at_its_place(old, new, expected):
    assert old in MINIMAL
    found = problems(MINIMAL.replace(old, new, 1))
    assert any(p.startswith(expected) for p in found), found


def test_duplicate_step_ids_point_at_the_second():
    text = MINIMAL + textwrap.dedent(
        """\
        - id: one
          title: {zh-Hans: 二, en: Two}
          text: {zh-Hans: 文字, en: Text}
        """
    )
    assert problems(text) == ['lessons/99-tiny.yaml:31:3: steps[1].id: the step id "one" is already used by steps[0]']


def test_every_problem_is_reported_at_once_in_file_order():
    text = MINIMAL.replace("level: beginner", "level: expert").replace("minutes: 5", "minutes: -1")
    assert [p.split(": ")[0] for p in problems(text)] == ["lessons/99-tiny.yaml:5:1", "lessons/99-tiny.yaml:6:1"]


def test_syntax_errors_and_several_documents_are_refused():
    assert problems("slug: [", file="x.yaml")[0].startswith("x.yaml:2:1: ")
    assert problems(MINIMAL + "---\nslug: other\n", file="x.yaml") == [
        "x.yaml:32:1: a lesson file holds one YAML document, found several"]
    assert problems("", file="x.yaml") == ["x.yaml: the file is empty"]


def test_a_broken_file_is_left_out_and_the_rest_load(tmp_path):
    (tmp_path / "01-good.yaml").write_text(MINIMAL)
    (tmp_path / "02-broken.yaml").write_text(MINIMAL.replace("slug: tiny", "slug: broken").replace("minutes: 5",
                                                                                                   "minutes: x"))
    (tmp_path / "03-twin.yaml").write_text(MINIMAL)
    report = load_lessons(tmp_path, base=tmp_path)
    assert [lesson.slug for lesson in report.lessons] == ["tiny"]
    assert [str(p) for p in report.problems] == [
        "02-broken.yaml:6:1: minutes: expected an integer, got a string",
        '03-twin.yaml: slug: the slug "tiny" is already used by 01-good.yaml',
    ]


@pytest.mark.parametrize(("path", "parts"), [
    ("status.succeeded", ["status", "succeeded"]),
    ("status.conditions[type=Complete].reason", ["status", "conditions", (("type", "Complete"),), "reason"]),
    ("spec.taints[key=a,effect=NoExecute]", ["spec", "taints", (("key", "a"), ("effect", "NoExecute"))]),
    ("spec.containers[0].image", ["spec", "containers", 0, "image"]),
    ("metadata.labels[batch.kubernetes.io/job-name]", ["metadata", "labels", "batch.kubernetes.io/job-name"]),
])
def test_field_paths(path, parts):
    assert parse_field_path(path) == parts


@pytest.mark.parametrize("path", ["", "a..b", ".a", "a.", "[0]", "a[]", "a[=x]"])
def test_bad_field_paths(path):
    with pytest.raises(ValueError):
        parse_field_path(path)
