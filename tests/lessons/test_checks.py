"""Each check kind, passing and failing, evaluated against a fake cluster view (checks are pure)."""

from datetime import datetime, timezone

import pytest

from kubeviz.lessons.checks import ApplyRecord, Context, StepWindow, compare, evaluate
from kubeviz.lessons.format import CHECK, MISSING, _Errors

NOW = datetime(2025, 1, 1, 0, 5, tzinfo=timezone.utc)
MESSAGE = {"zh-Hans": "不对", "en": "Not right"}


def check(body: dict) -> dict:
    """A check as the format normalises it (defaults filled in)."""
    errors = _Errors()
    normalised = CHECK({**body, "message": MESSAGE}, [], errors)
    assert not errors.items, errors.items
    return normalised


def pod(name, *, phase="Running", ready=True, node="node-1", labels=None, deleting=False, image="busybox",
        restarts=0, uid=None, namespace="default"):
    meta = {"name": name, "namespace": namespace, "uid": uid or f"uid-{name}", "labels": labels or {},
            "creationTimestamp": "2025-01-01T00:00:00Z"}
    if deleting:
        meta["deletionTimestamp"] = "2025-01-01T00:04:00Z"
    state = {"running": {"startedAt": "2025-01-01T00:00:05Z"}} if phase == "Running" else {
        "terminated": {"exitCode": 0 if phase == "Succeeded" else 1,
                       "reason": "Completed" if phase == "Succeeded" else "Error"}}
    return {
        "apiVersion": "v1", "kind": "Pod", "metadata": meta,
        "spec": {"nodeName": node, "containers": [{"name": "c", "image": image}]},
        "status": {"phase": phase,
                   "conditions": [{"type": "Ready", "status": "True" if ready and phase == "Running" else "False"}],
                   "containerStatuses": [{"name": "c", "ready": ready and phase == "Running",
                                          "restartCount": restarts, "state": state}]},
    }


JOB = {
    "apiVersion": "batch/v1", "kind": "Job",
    "metadata": {"name": "pi", "namespace": "default", "uid": "uid-pi", "creationTimestamp": "2025-01-01T00:00:00Z"},
    "spec": {"completions": 1, "parallelism": 1, "template": {"spec": {"containers": [{"name": "pi", "image": "perl"}]}}},
    "status": {"succeeded": 1, "startTime": "2025-01-01T00:00:00Z", "completionTime": "2025-01-01T00:00:10Z",
               "conditions": [{"type": "SuccessCriteriaMet", "status": "True", "reason": "CompletionsReached"},
                              {"type": "Complete", "status": "True", "reason": "CompletionsReached"}]},
}


class FakeView:
    def __init__(self, objects=None, changes=(), traces=(), logs=None, rv=100):
        self._objects = objects or {}
        self._changes = list(changes)  # (rv, type, kind, obj)
        self._traces = list(traces)
        self._logs = logs or {}
        self._rv = rv

    def now(self):
        return NOW

    def objects(self, kind):
        return list(self._objects.get(kind, []))

    def resource_version(self):
        return self._rv

    def changes_since(self, rv):
        return [(t, k, o) for r, t, k, o in self._changes if r > rv]

    def traces(self):
        return list(self._traces)

    def read_log(self, namespace, pod, uid, container, restart_count):
        return self._logs.get((uid, container, restart_count))


def run(body, view, *, window=None, applies=()):
    window = window or StepWindow(resource_version=10, trace_sequence=5, started=NOW)
    return evaluate(check(body), Context(view, window, list(applies)))


@pytest.mark.parametrize(("spec", "passed"), [
    ({"kind": "Job", "name": "pi", "path": "status.succeeded", "value": 1}, True),
    ({"kind": "Job", "name": "pi", "path": "status.succeeded", "value": 8}, False),
    ({"kind": "Job", "name": "pi", "path": "status.conditions[type=Complete].reason", "value": "CompletionsReached"},
     True),
    ({"kind": "Job", "name": "pi", "path": "status.conditions[type=Failed].reason", "op": "exists"}, False),
    ({"kind": "Job", "name": "pi", "path": "status.failed", "op": "absent"}, True),
    ({"kind": "Job", "name": "pi", "column": "COMPLETIONS", "value": "1/1"}, True),
    ({"kind": "Job", "name": "pi", "column": "DURATION", "value": "10s"}, True),
    ({"kind": "Job", "name": "pi", "column": "STATUS", "value": "Running"}, False),
    ({"kind": "Job", "name": "other", "path": "status.succeeded", "value": 1}, False),
    ({"kind": "Job", "name": "pi", "namespace": "kube-system", "path": "status.succeeded", "value": 1}, False),
])
def test_field(spec, passed):
    result = run({"field": spec}, FakeView({"Job": [JOB]}))
    assert result.passed is passed, result.detail
    if not passed:
        assert result.message == MESSAGE


def test_field_detail_says_what_was_seen():
    result = run({"field": {"kind": "Job", "name": "pi", "path": "status.succeeded", "value": 8}}, FakeView({"Job": [JOB]}))
    assert result.detail == "Job default/pi status.succeeded is 1, expected == 8"
    missing = run({"field": {"kind": "Job", "name": "nope", "column": "COMPLETIONS", "value": "1/1"}}, FakeView())
    assert (missing.passed, missing.detail) == (False, "Job default/nope does not exist")


PODS = [
    pod("a", labels={"job-name": "x"}), pod("b", labels={"job-name": "x"}, phase="Succeeded"),
    pod("c", labels={"job-name": "x"}, deleting=True, node="node-2"), pod("d", labels={"job-name": "y"}, node="node-2"),
    pod("e", labels={"job-name": "x"}, namespace="kube-system", node="node-3"),
]


@pytest.mark.parametrize(("spec", "passed"), [
    ({"kind": "Pod", "selector": "job-name=x", "value": 3}, True),
    ({"kind": "Pod", "selector": "job-name=x", "namespace": "*", "value": 4}, True),
    ({"kind": "Pod", "selector": "job-name=x", "active": True, "value": 1}, True),
    ({"kind": "Pod", "selector": "job-name=x", "status": "Completed", "value": 1}, True),
    ({"kind": "Pod", "selector": "job-name=x", "status": "Terminating", "value": 1}, True),
    ({"kind": "Pod", "fieldSelector": "spec.nodeName=node-2", "value": 2}, True),
    ({"kind": "Pod", "fieldSelector": "status.phase=Running", "ready": True, "value": 3}, True),
    ({"kind": "Pod", "distinct": "spec.nodeName", "value": 2}, True),
    ({"kind": "Pod", "where": [{"path": "metadata.name", "op": "in", "value": ["a", "d"]}], "value": 2}, True),
    ({"kind": "Pod", "selector": "job-name in (x,y)", "op": ">", "value": 4}, False),
    ({"kind": "Pod", "selector": "job-name=z", "op": ">=", "value": 1}, False),
])
def test_count(spec, passed):
    result = run({"count": spec}, FakeView({"Pod": PODS}))
    assert result.passed is passed, result.detail


def history_view():
    """Pods of job x: the step begins with one active pod; a second arrives, then both finish."""
    a, b = pod("a", labels={"job-name": "x"}), pod("b", labels={"job-name": "x"})
    a_done, b_done = pod("a", labels={"job-name": "x"}, phase="Succeeded"), pod("b", labels={"job-name": "x"},
                                                                                  phase="Succeeded")
    changes = [(11, "ADDED", "Pod", b), (12, "MODIFIED", "Pod", a_done), (13, "MODIFIED", "Pod", b_done),
               (14, "ADDED", "Event", {"metadata": {"name": "e1", "namespace": "default"}})]
    window = StepWindow(resource_version=10, trace_sequence=0, started=NOW, snapshot={"Pod": [a]})
    return FakeView({"Pod": [a_done, b_done]}, changes), window


@pytest.mark.parametrize(("spec", "passed"), [
    ({"kind": "Pod", "selector": "job-name=x", "active": True, "op": "<=", "value": 2, "at": "always"}, True),
    ({"kind": "Pod", "selector": "job-name=x", "active": True, "op": "<=", "value": 1, "at": "always"}, False),
    ({"kind": "Pod", "selector": "job-name=x", "active": True, "value": 2, "at": "ever"}, True),
    ({"kind": "Pod", "selector": "job-name=x", "active": True, "value": 3, "at": "ever"}, False),
    ({"kind": "Pod", "selector": "job-name=x", "active": True, "value": 0, "at": "now"}, True),
])
def test_count_over_the_steps_history(spec, passed):
    view, window = history_view()
    result = run({"count": spec}, view, window=window)
    assert result.passed is passed, result.detail


def test_history_detail_lists_the_counts_seen():
    view, window = history_view()
    result = run({"count": {"kind": "Pod", "selector": "job-name=x", "active": True, "value": 3, "at": "ever"}},
                 view, window=window)
    assert result.detail == "Pods in default selector job-name=x active: never == 3 (counts seen: 1 → 2 → 1 → 0)"


def test_field_over_the_steps_history():
    view, window = history_view()
    ever = {"kind": "Pod", "name": "a", "path": "status.phase", "value": "Running", "at": "ever"}
    always = dict(ever, at="always")
    assert run({"field": ever}, view, window=window).passed
    assert not run({"field": always}, view, window=window).passed


EVENTS = [
    (9, "ADDED", "Event", {"metadata": {"name": "old", "namespace": "default"}, "reason": "SuccessfulCreate",
                           "message": "Created pod: pi-aaaaa", "type": "Normal",
                           "involvedObject": {"kind": "Job", "name": "pi"}}),
    (12, "ADDED", "Event", {"metadata": {"name": "new", "namespace": "default"}, "reason": "BackoffLimitExceeded",
                            "message": "Job has reached the specified backoff limit", "type": "Warning",
                            "involvedObject": {"kind": "Job", "name": "pi"}}),
]


@pytest.mark.parametrize(("spec", "passed"), [
    ({"reason": "BackoffLimitExceeded", "type": "Warning", "involvedName": "pi"}, True),
    ({"reason": "BackoffLimitExceeded", "type": "Normal"}, False),
    ({"message": "specified backoff limit", "involvedKind": "Job"}, True),
    ({"reason": "SuccessfulCreate"}, False),  # before the step began
    ({"reason": "SuccessfulCreate", "since": "lesson"}, True),
    ({"reason": "SuccessfulCreate", "op": "==", "value": 0}, True),
    ({"reason": "BackoffLimitExceeded", "namespace": "kube-system"}, False),
])
def test_event(spec, passed):
    result = run({"event": spec}, FakeView(changes=EVENTS))
    assert result.passed is passed, result.detail


def test_log():
    pi = pod("pi-abcde", labels={"job-name": "pi"}, phase="Succeeded", restarts=1)
    view = FakeView({"Pod": [pi]}, logs={("uid-pi-abcde", "c", 1): [["t", "3.14159"]],
                                        ("uid-pi-abcde", "c", 0): [["t", "first run"]]})
    assert run({"log": {"selector": "job-name=pi", "contains": "3.14159"}}, view).passed
    assert run({"log": {"pod": "pi-abcde", "matches": r"^3\.14"}}, view).passed
    assert run({"log": {"pod": "pi-abcde", "contains": "first run", "previous": True}}, view).passed
    assert not run({"log": {"pod": "pi-abcde", "contains": "first run"}}, view).passed
    assert not run({"log": {"pod": "pi-abcde", "contains": "2.718"}}, view).passed
    missing = run({"log": {"pod": "nope", "contains": "x"}}, view)
    assert (missing.passed, missing.detail) == (False, "no pod nope in default")


TRACES = [
    {"sequence": 4, "controller": "job", "object": "default/pi", "trigger": "", "observed": "active 0",
     "decision": "too few active pods: create 1 pod", "actions": ["create pod from generateName pi-"]},
    {"sequence": 6, "controller": "job", "object": "default/pi", "trigger": "", "observed": "succeeded 1",
     "decision": "job complete (CompletionsReached)", "actions": ["write status"]},
]


@pytest.mark.parametrize(("spec", "passed"), [
    ({"controller": "job", "object": "default/pi", "decision": "job complete"}, True),
    ({"controller": "job", "observed": "succeeded 1", "action": "write status"}, True),
    ({"controller": "job", "decision": "too few active pods"}, False),  # before the step began
    ({"controller": "job", "decision": "too few active pods", "since": "lesson"}, True),
    ({"controller": "daemonset", "decision": "job complete"}, False),
    ({"controller": "job", "decision": "job complete", "op": ">=", "value": 2}, False),
])
def test_trace(spec, passed):
    result = run({"trace": spec}, FakeView(traces=TRACES))
    assert result.passed is passed, result.detail


def test_apply():
    rejected = ApplyRecord("always.yaml", "Job", "hello-always", "rejected",
                           ['Job.batch "hello-always" is invalid: spec.template.spec.restartPolicy: Required value: '
                            'valid values: "OnFailure", "Never"'])
    created = ApplyRecord("pi.yaml", "Job", "pi", "created")
    view = FakeView()
    message = 'spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"'
    assert run({"apply": {"kind": "Job", "name": "hello-always", "outcome": "rejected", "message": message}}, view,
               applies=[rejected]).passed
    assert not run({"apply": {"name": "hello-always", "outcome": "accepted"}}, view, applies=[rejected]).passed
    assert run({"apply": {"manifest": "pi.yaml", "outcome": "accepted"}}, view, applies=[created]).passed
    assert run({"apply": {"name": "pi", "outcome": "created"}}, view, applies=[created]).passed
    nothing = run({"apply": {"name": "pi", "outcome": "created"}}, view)
    assert (nothing.passed, nothing.detail) == (False, "pi was not applied in this step")


@pytest.mark.parametrize(("actual", "op", "expected", "result"), [
    (1, "==", 1, True), ("True", "==", True, True), (True, "==", "true", True), (4, "==", "4", True),
    ("4", "==", "4.0", False), (MISSING, "!=", 1, True), (MISSING, "==", None, False), (None, "absent", None, True),
    (3, "<", 4, True), ("3", "<", 4, True), ("x", "<", 4, False), ([1, 2], "contains", 2, True),
    ("Running", "in", ["Pending", "Running"], True), ("Error", "notIn", ["Completed"], True),
    ("pi-abcde", "startsWith", "pi-", True), ("x.yaml", "endsWith", ".yml", False),
    ("pi-abcde", "matches", "^pi-[a-z]{5}$", True),
])
def test_compare(actual, op, expected, result):
    assert compare(actual, op, expected) is result
