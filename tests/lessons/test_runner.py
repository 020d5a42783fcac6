"""The runner: actions on a real in-memory cluster, waiting in simulated time, the step API the player uses."""

import textwrap

import pytest

from kubeviz.lessons.format import parse_lesson
from kubeviz.lessons.runner import LessonRun, database_lesson_cluster, memory_lesson_cluster, run_lesson

HEAD = textwrap.dedent(
    """\
    apiVersion: kubeviz.io/v1alpha1
    kind: Lesson
    slug: runner-test
    order: 1
    level: beginner
    minutes: 5
    title: {zh-Hans: 测试, en: Test}
    summary: {zh-Hans: 测试, en: Test}
    cluster:
      nodes:
      - name: worker-a
        labels: {disk: ssd}
      - name: worker-b
        taints: [{key: dedicated, value: db, effect: NoSchedule}]
      controlPlane: false
      seed: 3
    steps:
    """
)
MSG = "{zh-Hans: 不对, en: wrong}"
TEXT = "{zh-Hans: 文字, en: text}"
SLEEPER = """\
      apiVersion: batch/v1
      kind: Job
      metadata:
        name: sleeper
      spec:
        template:
          spec:
            containers:
            - name: s
              image: busybox
              command: ["sleep", "20"]
            restartPolicy: Never
"""
AGENT = """\
      apiVersion: apps/v1
      kind: DaemonSet
      metadata:
        name: agent
      spec:
        selector:
          matchLabels: {app: agent}
        template:
          metadata:
            labels: {app: agent}
          spec:
            containers:
            - name: a
              image: busybox:1.36
              command: ["sleep", "infinity"]
"""


def lesson(steps: str):
    return parse_lesson(HEAD + textwrap.dedent(steps), file="test.yaml")


def step(id_, *, manifests="", solution="", actions="", checks="", setup=""):
    text = f"- id: {id_}\n  title: {TEXT}\n  text: {TEXT}\n"
    for key, value in (("manifests", manifests), ("setup", setup), ("solution", solution), ("actions", actions),
                       ("checks", checks)):
        if value:
            text += f"  {key}:\n" + textwrap.indent(textwrap.dedent(value), "    " if key == "solution" else "  ")
    return text


def test_the_lesson_cluster_has_the_listed_nodes():
    cluster = memory_lesson_cluster(lesson(step("one")))
    nodes = {n["metadata"]["name"]: n for n in cluster.objects("Node")}
    assert sorted(nodes) == ["worker-a", "worker-b"]
    assert nodes["worker-a"]["metadata"]["labels"]["disk"] == "ssd"
    assert nodes["worker-b"]["spec"]["taints"] == [{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]


def test_node_actions():
    checks_ = f"""\
    - count: {{kind: Pod, selector: app=agent, fieldSelector: spec.nodeName=worker-c, active: true, value: 1}}
      message: {MSG}
    - field: {{kind: Node, name: worker-a, path: spec.unschedulable, value: true}}
      message: {MSG}
    - field: {{kind: Node, name: worker-a, path: "metadata.labels[zone]", value: east}}
      message: {MSG}
    - field: {{kind: Node, name: worker-a, path: "metadata.labels[disk]", op: absent}}
      message: {MSG}
    - field: {{kind: Node, name: worker-b, path: spec.taints, op: absent}}
      message: {MSG}
    - field: {{kind: Node, name: worker-c, path: "spec.taints[key=team,effect=NoExecute].value", value: red}}
      message: {MSG}
    - field: {{kind: Node, name: worker-c, path: "status.conditions[type=Ready].status", value: "True"}}
      message: {MSG}
    - count: {{kind: Node, fieldSelector: metadata.name=worker-d, value: 0}}
      message: {MSG}
    """
    text = step("nodes", manifests=f"- name: agent.yaml\n  yaml: |\n{AGENT}", solution="apply: [agent.yaml]\n",
                actions="""\
                - addNode: {name: worker-c}
                - addNode: {name: worker-d}
                - advance: 30s
                - removeNode: worker-d
                - cordonNode: worker-a
                - labelNode: {node: worker-a, labels: {zone: east, disk: null}}
                - untaintNode: {node: worker-b, key: dedicated}
                - failNode: worker-c
                - advance: 5s
                - recoverNode: worker-c
                - taintNode: {node: worker-c, key: team, value: red, effect: NoExecute}
                - advance: 5s
                """, checks=checks_)
    report = run_lesson(lesson(text))
    (result,) = report.steps
    assert result.errors == []
    assert [c.passed for c in result.checks] == [False, True, True, True, True, True, True, True], \
        [c.detail for c in result.checks]
    # the untolerated NoExecute taint evicted the agent from worker-c: that first check fails for a good reason
    assert "spec.nodeName=worker-c active: 0" in result.checks[0].detail


def test_wait_for_a_condition_then_act():
    text = step("wait", manifests=f"- name: sleeper.yaml\n  yaml: |\n{SLEEPER}", solution="apply: [sleeper.yaml]\n",
                actions="""\
                - delete: {kind: Job, name: sleeper}
                  waitFor:
                    field: {kind: Job, name: sleeper, path: "status.conditions[type=Complete].status", value: "True"}
                  timeout: 2m
                """, checks=f"""\
                - count: {{kind: Job, value: 0}}
                  message: {MSG}
                """)
    lesson_ = lesson(text)
    cluster = memory_lesson_cluster(lesson_)
    start = cluster.now()
    (result,) = run_lesson(lesson_, cluster=cluster).steps
    assert result.passed, result.log
    waited = (cluster.now() - start).total_seconds()
    assert 20 < waited < 40  # the job's 20 s sleep plus start-up, waited in 1 s simulated polls
    assert result.log[1].startswith("waited until 00:00:")


def test_a_wait_that_never_holds_times_out_in_simulated_time():
    text = step("never", actions="""\
                - advance: 1s
                  waitFor:
                    count: {kind: Job, value: 1}
                  timeout: 90s
                """)
    lesson_ = lesson(text)
    cluster = memory_lesson_cluster(lesson_)
    (result,) = run_lesson(lesson_, cluster=cluster).steps
    assert not result.passed
    assert result.errors == ["advance the clock 1s: waited 90s and the condition never held "
                             "(Jobs in default: 0, expected == 1)"]
    assert (cluster.now() - cluster.memory.storage.now()).total_seconds() == 0


def test_failed_actions_are_reported_and_stop_the_step():
    text = step("bad", actions="""\
                - patch: {kind: Job, name: ghost, patch: {spec: {suspend: true}}}
                - advance: 10s
                """)
    (result,) = run_lesson(lesson(text)).steps
    assert result.errors == ['patch job ghost: jobs.batch "ghost" not found']
    assert not result.passed


def test_patch_delete_by_selector_and_undo():
    v2 = AGENT.replace("busybox:1.36", "busybox:1.37")
    text = (step("deploy", manifests=f"- name: agent.yaml\n  yaml: |\n{AGENT}", solution="apply: [agent.yaml]\n",
                 actions="- advance: 30s\n")
            + step("update", solution="""\
                   actions:
                   - patch:
                       kind: DaemonSet
                       name: agent
                       patch: {spec: {template: {spec: {containers: [{name: a, image: "busybox:1.37"}]}}}}
                   """, actions="- advance: 2m\n", checks=f"""\
                   - count: {{kind: Pod, selector: app=agent, where: [{{path: "spec.containers[0].image", value: "busybox:1.37"}}], value: 1}}
                     message: {MSG}
                   """)
            + step("undo", solution="""\
                   actions:
                   - undo: {kind: DaemonSet, name: agent}
                   - delete: {kind: Pod, selector: app=agent, fieldSelector: spec.nodeName=worker-a}
                   """, actions="- advance: 2m\n", checks=f"""\
                   - count: {{kind: Pod, selector: app=agent, where: [{{path: "spec.containers[0].image", value: "busybox:1.36"}}], value: 1}}
                     message: {MSG}
                   - count: {{kind: ControllerRevision, where: [{{path: revision, value: 3}}], value: 1}}
                     message: {MSG}
                   - event: {{reason: SuccessfulCreate, involvedName: agent, op: ">=", value: 1}}
                     message: {MSG}
                   """))
    assert v2  # the patch above carries the new image; worker-b's taint keeps the agent on worker-a only
    report = run_lesson(lesson(text))
    assert report.passed, [(s.errors, [c.detail for c in s.checks]) for s in report.steps]


def test_the_step_api_the_player_uses():
    text = (step("apply-it", manifests=f"- name: sleeper.yaml\n  yaml: |\n{SLEEPER}", solution="apply: [sleeper.yaml]\n",
                 actions="- advance: 60s\n", checks=f"""\
                 - apply: {{name: sleeper, outcome: created}}
                   message: {MSG}
                 - field: {{kind: Job, name: sleeper, column: STATUS, value: Complete}}
                   message: {MSG}
                 """))
    lesson_ = lesson(text)
    run = LessonRun(lesson_, memory_lesson_cluster(lesson_))
    assert run.begin_step(0) == []
    assert [c.passed for c in run.evaluate()] == [False, False]
    # the learner types their own YAML in the editor instead of pressing "show me"
    (record,) = run.apply(textwrap.dedent(SLEEPER), manifest="editor")
    assert (record.kind, record.name, record.outcome) == ("Job", "sleeper", "created")
    assert run.run_step_actions() == []
    assert [c.passed for c in run.evaluate()] == [True, True]
    # a new step forgets the previous step's applies
    run.begin_step(0)
    assert [c.passed for c in run.evaluate()] == [False, True]
    bad = run.apply("kind: [", manifest="editor")
    assert bad[0].outcome == "rejected"


def test_action_ready_is_what_a_real_time_player_polls():
    text = step("wait", manifests=f"- name: sleeper.yaml\n  yaml: |\n{SLEEPER}", actions="""\
                - advance: 1s
                  waitFor:
                    count: {kind: Pod, selector: job-name=sleeper, status: Completed, value: 1}
                """)
    lesson_ = lesson(text)
    cluster = memory_lesson_cluster(lesson_)
    run = LessonRun(lesson_, cluster)
    run.begin_step(0)
    action = lesson_.steps[0]["actions"][0]
    run.apply_manifest("sleeper.yaml")
    assert not run.action_ready(action)
    cluster.advance(60)
    assert run.action_ready(action)


def test_a_database_cluster_through_the_same_interface(db):
    from kubeviz.lessons.runner import create_database_cluster

    text = step("apply-it", manifests=f"- name: sleeper.yaml\n  yaml: |\n{SLEEPER}", solution="apply: [sleeper.yaml]\n",
                actions="- advance: 60s\n", checks=f"""\
                - field: {{kind: Job, name: sleeper, column: STATUS, value: Complete}}
                  message: {MSG}
                - trace: {{controller: job, object: default/sleeper, decision: "job complete"}}
                  message: {MSG}
                - count: {{kind: Pod, selector: job-name=sleeper, active: true, op: "<=", value: 1, at: always}}
                  message: {MSG}
                """)
    lesson_ = lesson(text)
    stored = create_database_cluster(lesson_, name="lesson-test")
    assert sorted(n["metadata"]["name"] for n in database_lesson_cluster(stored).objects("Node")) == [
        "worker-a", "worker-b"]
    report = run_lesson(lesson_, cluster=database_lesson_cluster(stored))
    assert report.passed, [(s.errors, [c.detail for c in s.checks]) for s in report.steps]


@pytest.mark.parametrize("skip", [0, 1])
def test_skip_runs_the_step_without_its_work_and_stops(skip):
    text = (step("one", manifests=f"- name: sleeper.yaml\n  yaml: |\n{SLEEPER}", solution="apply: [sleeper.yaml]\n")
            + step("two", actions="- advance: 60s\n", checks=f"""\
              - field: {{kind: Job, name: sleeper, column: STATUS, value: Complete}}
                message: {MSG}
              """))
    report = run_lesson(lesson(text), skip=skip)
    assert len(report.steps) == skip + 1
    assert report.steps[-1].skipped
    # step two's check depends on step one's apply or on its own clock: skipped, it cannot pass
    assert report.steps[-1].passed is (skip == 0)
