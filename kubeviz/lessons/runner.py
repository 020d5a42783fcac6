"""Running a lesson against a cluster: headless here (``lessons check``), in the browser player later.

The runner only talks to a cluster through ``LessonCluster``, a small interface over kubeviz's registry: apply
YAML, advance the clock, patch, delete, add/fail/recover nodes, and the read side that checks need
(``checks.ClusterView``). ``RegistryCluster`` implements it for any registry-backed cluster: ``memory_cluster``
(headless, tests) through ``memory_lesson_cluster`` and a stored cluster (the browser player) through
``database_lesson_cluster``.

A ``LessonRun`` walks a lesson step by step. For each step: ``begin_step`` marks where the step began (so
history, event and trace checks look only at what happened since) and runs its ``setup`` actions; the learner's
work is either their own applies (``apply``) or the step's solution (``show_me``); then ``run_step_actions``;
then ``evaluate`` answers each check. ``run_lesson`` does all of it headlessly, which is what
``manage.py lessons check`` and the tests use.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Protocol

from controllers.apimachinery.timeutil import format_rfc3339, parse_rfc3339

from apiserver import errors
from apiserver.apply import apply_manifests
from apiserver.manifests import ManifestError
from apiserver.registry import Registry
from apiserver.kinds import RESOURCE_TYPES
from kubeviz.store import actor as actors

from .checks import (
    MISSING,
    ApplyRecord,
    CheckResult,
    ClusterView,
    Context,
    StepWindow,
    evaluate,
    measure,
    object_filter,
    same_answer,
    show_value,
)
from .format import Lesson

BY_KIND = {r.kind: r for r in RESOURCE_TYPES}
PATCH_CONTENT_TYPES = {"strategic": "application/strategic-merge-patch+json",
                       "merge": "application/merge-patch+json", "json": "application/json-patch+json"}
# How often a waiting action looks at its condition, in simulated seconds.
WAIT_POLL_SECONDS = 1.0


class LessonCluster(ClusterView, Protocol):
    """What a lesson does to a cluster (the read side is ``checks.ClusterView``)."""

    def apply(self, source: str) -> list: ...

    def advance(self, seconds: float) -> None: ...

    def patch(self, kind: str, namespace: str, name: str, body, patch_type: str) -> dict: ...

    def delete(self, kind: str, namespace: str, name: str) -> None: ...

    def add_node(self, name: str, *, labels: dict, taints: list, control_plane: bool) -> dict: ...

    def set_node_ready(self, name: str, ready: bool) -> dict: ...


def apply_records(manifest: str, *, results: list | None = None,
                  error: ManifestError | None = None) -> list[ApplyRecord]:
    """What ``apply`` checks know of an apply: each document's outcome (``apply.DocumentResult``), or one rejected
    record when the whole stream was refused."""
    if error is not None:
        return [ApplyRecord(manifest, "", "", "rejected", [error.message])]
    records = []
    for result in results or []:
        messages = [e["message"] for e in result.errors]
        if result.status:
            messages.append(result.status.get("message", ""))
        records.append(ApplyRecord(manifest, result.kind, result.name, result.action if result.ok else "rejected",
                                   messages))
    return records


class ActionError(Exception):
    """An action could not be done (its object is missing, the API refused it, its wait timed out)."""


class PredictionError(ValueError):
    """A prediction that does not answer the step's question (not one of its choices, not a whole number)."""


#: The largest count a learner may predict.
MAX_PREDICTED_COUNT = 1_000_000

#: The check a predict step adds before its own: the learner committed a prediction.
PREDICT_MESSAGE = {"zh-Hans": "先提交你的预测，再让时钟走。", "en": "Commit your prediction before the clock moves."}


@dataclass
class Prediction:
    """A learner's answer to a predict step, graded by the simulation: ``actual`` is what the step's ``measure``
    showed once the clock had moved ``after`` seconds past the commitment (None when the object was missing)."""

    value: object
    actual: object
    correct: bool
    detail: str
    at: str  # simulated time of the grading, RFC 3339

    def as_json(self) -> dict:
        return {"value": self.value, "actual": self.actual, "correct": self.correct, "detail": self.detail,
                "at": self.at}

    @classmethod
    def from_json(cls, data: dict) -> "Prediction":
        return cls(data["value"], data.get("actual"), bool(data.get("correct")), data.get("detail", ""),
                   data.get("at", ""))


def prediction_value(predict: dict, raw) -> object:
    """The learner's answer as the step takes it: one of its ``choices`` (as the lesson writes it), or a whole
    number for a count. Raises ``PredictionError``."""
    choices = predict.get("choices")
    if choices:
        text = raw if isinstance(raw, str) else json.dumps(raw) if isinstance(raw, bool) else str(raw)
        for choice in choices:
            shown = json.dumps(choice) if isinstance(choice, bool) else str(choice)
            if shown == text:
                return choice
        raise PredictionError("pick one of the answers offered")
    if isinstance(raw, str) and raw.strip().isdigit():
        raw = int(raw.strip())
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= MAX_PREDICTED_COUNT:
        raise PredictionError("the answer is a whole number")
    return raw


class RegistryCluster:
    """``LessonCluster`` over a ``Registry``; ``advance`` and ``traces`` come from whoever runs the engine."""

    def __init__(self, registry: Registry, *, advance: Callable[[float], None], traces: Callable[[], list],
                 atomic=None, who: str | None = None):
        self.registry = registry
        # A lesson's writes are the learner's, through the lesson's door (``kubeviz.store.actor``).
        self.actor = actors.user(actors.LESSON, who)
        self.storage = registry.storage
        self._advance = advance
        self._traces = traces
        self._atomic = atomic

    # -- reading -----------------------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.storage.now()

    def objects(self, kind: str) -> list[dict]:
        resource = BY_KIND[kind]
        items, _ = self.storage.list(resource)
        for item in items:
            item.setdefault("apiVersion", resource.api_version)
            item.setdefault("kind", resource.kind)
        return items

    def resource_version(self) -> int:
        return self.storage.current_resource_version()

    def changes_since(self, resource_version: int) -> list[tuple[str, str, dict]]:
        return [(e.type, e.resource.kind, e.object) for e in self.storage.changes_since(resource_version)]

    def traces(self) -> list[dict]:
        return [record.as_json() for record in self._traces()]

    def read_log(self, namespace, pod, uid, container, restart_count):
        return self.storage.read_log(namespace, pod, uid, container, restart_count)

    # -- writing -----------------------------------------------------------------------------------------

    def apply(self, source: str) -> list:
        with actors.acting_as(self.actor):
            return apply_manifests(self.registry, source, atomic_document=self._atomic)

    def advance(self, seconds: float) -> None:
        self._advance(seconds)

    def patch(self, kind, namespace, name, body, patch_type="strategic") -> dict:
        resource = BY_KIND[kind]
        try:
            with actors.acting_as(self.actor):
                return self.registry.patch(resource, namespace if resource.namespaced else "", name,
                                           json.dumps(body), PATCH_CONTENT_TYPES[patch_type]).object
        except errors.StatusError as error:
            raise ActionError(error.message) from None

    def delete(self, kind, namespace, name) -> None:
        resource = BY_KIND[kind]
        try:
            # kubectl deletes with propagationPolicy Background
            with actors.acting_as(self.actor):
                self.registry.delete(resource, namespace if resource.namespaced else "", name,
                                     propagation_policy="Background")
        except errors.StatusError as error:
            raise ActionError(error.message) from None

    def add_node(self, name, *, labels, taints, control_plane=False) -> dict:
        from kubeviz.store.services import node_register

        try:
            with actors.acting_as(self.actor):
                return node_register(self.registry, name=name, labels=labels, taints=taints,
                                     control_plane=control_plane)
        except errors.StatusError as error:
            raise ActionError(error.message) from None

    def set_node_ready(self, name, ready) -> dict:
        from kubeviz.store.services import node_conditions

        try:
            current = self.registry.get(BY_KIND["Node"], "", name)
            status = dict(current.get("status") or {})
            status["conditions"] = node_conditions(status.get("conditions") or [], ready=ready,
                                                   now=format_rfc3339(self.now()))
            with actors.acting_as(self.actor):
                return self.registry.update(BY_KIND["Node"], "", name, dict(current, status=status),
                                            subresource="status").object
        except errors.StatusError as error:
            raise ActionError(error.message) from None


def memory_lesson_cluster(lesson: Lesson) -> RegistryCluster:
    """A fresh in-memory cluster as the lesson's ``cluster`` section describes it, with the default ResourceQuota
    a stored one gets (``cluster_create``), so a lesson checks here as it plays in the browser."""
    from django.conf import settings

    from kubeviz.runtime.memory import memory_cluster
    from kubeviz.store.services import default_quota_create, node_register

    spec = lesson.content["cluster"]
    nodes = spec["nodes"]
    memory = memory_cluster(nodes=nodes if isinstance(nodes, int) else 0, seed=spec["seed"],
                            start=parse_rfc3339(spec["start"]), control_plane=spec["controlPlane"])
    if settings.KUBEVIZ_DEFAULT_QUOTA:
        default_quota_create(memory.registry, hard=settings.KUBEVIZ_DEFAULT_QUOTA)
    if isinstance(nodes, list):
        for node in nodes:
            node_register(memory.registry, name=node["name"], labels=node["labels"], taints=node["taints"])
    cluster = RegistryCluster(memory.registry, advance=memory.advance, traces=lambda: memory.engine.traces)
    cluster.memory = memory
    return cluster


def create_database_cluster(lesson: Lesson, *, name: str, paused: bool = True):
    """A stored cluster for a lesson (what the browser player starts from): its nodes, seed, start and speed."""
    from django.db import transaction

    from kubeviz.store.actor import acting_as
    from kubeviz.store.services import BOOTSTRAP, cluster_create, node_register, registry_for

    spec = lesson.content["cluster"]
    nodes = spec["nodes"]
    with transaction.atomic(), acting_as(BOOTSTRAP):
        cluster = cluster_create(name=name, nodes=nodes if isinstance(nodes, int) else 0, seed=spec["seed"],
                                 start=parse_rfc3339(spec["start"]), paused=paused, speed=spec["speed"],
                                 control_plane=spec["controlPlane"])
        if isinstance(nodes, list):
            registry = registry_for(cluster)
            for node in nodes:
                node_register(registry, name=node["name"], labels=node["labels"], taints=node["taints"])
    return cluster


def database_lesson_cluster(cluster, *, who: str | None = None) -> RegistryCluster:
    """``LessonCluster`` over a stored cluster; the engine is the server's (``kubeviz.runtime.host``)."""
    from django.db import transaction

    from kubeviz.runtime.host import host
    from kubeviz.store.services import registry_for

    return RegistryCluster(
        registry_for(cluster),
        advance=lambda seconds: host.advance(cluster, seconds),
        traces=lambda: list(host.engine_for(cluster).traces),
        atomic=transaction.atomic,
        who=who,
    )


# --- reports ------------------------------------------------------------------------------------------------


@dataclass
class StepReport:
    index: int
    id: str
    title: dict
    checks: list[CheckResult] = field(default_factory=list)
    log: list[str] = field(default_factory=list)  # what was applied and done, in order
    errors: list[str] = field(default_factory=list)  # actions that could not be done
    skipped: bool = False

    @property
    def passed(self) -> bool:
        return not self.errors and all(c.passed for c in self.checks)

    def as_json(self) -> dict:
        return {"index": self.index, "id": self.id, "passed": self.passed, "skipped": self.skipped,
                "checks": [c.as_json() for c in self.checks], "log": self.log, "errors": self.errors}


@dataclass
class LessonReport:
    slug: str
    steps: list[StepReport] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(step.passed for step in self.steps)


# --- running ------------------------------------------------------------------------------------------------


def _history_kinds(checks: list[dict]) -> set[str]:
    kinds = set()
    for check in checks:
        body = check.get(check["type"]) or {}
        if check["type"] in ("field", "count") and body.get("at", "now") != "now":
            kinds.add(body["kind"])
    return kinds


class LessonRun:
    """One run of one lesson on one cluster. Not thread-safe; one per learner session."""

    def __init__(self, lesson: Lesson, cluster: LessonCluster, *, started: tuple[int, int] | None = None):
        """``started``: where the lesson began, (resourceVersion, last trace sequence), for a run carried on
        (read from the cluster when not given: the lesson begins now)."""
        self.lesson = lesson
        self.cluster = cluster
        if started is None:
            started = (cluster.resource_version(), self._last_trace_sequence())
        self.lesson_rv, self.lesson_trace = started
        self.step_index: int | None = None
        self.window: StepWindow | None = None
        self.applies: list[ApplyRecord] = []
        self.log: list[str] = []
        # The current predict step's committed prediction (None: not yet, or not a predict step).
        self.prediction: Prediction | None = None

    @property
    def step(self) -> dict:
        return self.lesson.steps[self.step_index]

    def _last_trace_sequence(self) -> int:
        traces = self.cluster.traces()
        return traces[-1]["sequence"] if traces else 0

    def begin_step(self, index: int, *, setup: bool = True) -> list[str]:
        """Enter step ``index``: mark its window, forget the previous step's applies, run its setup actions.
        Answers the problems of setup actions that could not be done."""
        self.step_index = index
        self.applies, self.log = [], []
        self.prediction = None
        kinds = _history_kinds(self.lesson.steps[index]["checks"]) | {
            k for a in self._all_actions(index) if a.get("waitFor") for k in _history_kinds([a["waitFor"]])}
        self.window = StepWindow(
            resource_version=self.cluster.resource_version(), trace_sequence=self._last_trace_sequence(),
            started=self.cluster.now(), lesson_resource_version=self.lesson_rv,
            lesson_trace_sequence=self.lesson_trace,
            snapshot={kind: self.cluster.objects(kind) for kind in sorted(kinds)},
        )
        return self.run_actions(self.step["setup"]) if setup else []

    def _all_actions(self, index: int) -> list[dict]:
        step = self.lesson.steps[index]
        return [*step["setup"], *step["actions"], *step["solution"]["actions"]]

    # -- the learner's work ------------------------------------------------------------------------------

    def apply(self, source: str, *, manifest: str = "editor") -> list[ApplyRecord]:
        """Apply YAML as the editor does, recording each document's outcome for ``apply`` checks."""
        try:
            records = apply_records(manifest, results=self.cluster.apply(source))
        except ManifestError as error:
            records = apply_records(manifest, error=error)
        for record in records:
            what = f"{record.kind.lower()}/{record.name} " if record.kind else ""
            said = f": {record.messages[0]}" if record.messages else ""
            self.log.append(f"apply {manifest}: {what}{record.outcome}{said}")
        self.applies.extend(records)
        return records

    def apply_manifest(self, name: str) -> list[ApplyRecord]:
        manifest = self.lesson.manifest(name, before_step=self.step_index)
        if manifest is None:
            raise ActionError(f'no manifest "{name}" in this step or an earlier one')
        return self.apply(manifest["yaml"], manifest=name)

    def show_me(self) -> list[str]:
        """What "show me" does when a learner is stuck: apply the step's solution manifests, run its actions."""
        problems = []
        for name in self.step["solution"]["apply"]:
            self.apply_manifest(name)
        problems += self.run_actions(self.step["solution"]["actions"])
        return problems

    def run_step_actions(self) -> list[str]:
        return self.run_actions(self.step["actions"])

    # -- actions -----------------------------------------------------------------------------------------

    def context(self) -> Context:
        return Context(self.cluster, self.window, list(self.applies))

    def condition_holds(self, check: dict) -> bool:
        return evaluate(check, self.context()).passed

    def action_ready(self, action: dict) -> bool:
        """Whether an action's ``waitFor`` holds now (always true without one): the player polls this."""
        return action.get("waitFor") is None or self.condition_holds(action["waitFor"])

    def run_actions(self, actions: list[dict]) -> list[str]:
        """Run actions in order, each after its wait; answers the problems (and stops at the first)."""
        for action in actions:
            try:
                self.run_action(action)
            except ActionError as error:
                message = f"{describe_action(action)}: {error}"
                self.log.append("failed: " + message)
                return [message]
        return []

    def run_action(self, action: dict) -> None:
        """Wait (in simulated time) for the action's ``waitFor``, then do it. Raises ``ActionError``."""
        if action.get("waitFor") is not None:
            deadline = self.cluster.now() + timedelta(seconds=action["timeout"])
            while not self.condition_holds(action["waitFor"]):
                if self.cluster.now() >= deadline:
                    detail = evaluate(action["waitFor"], self.context()).detail
                    raise ActionError(f"waited {action['timeout']:g}s and the condition never held ({detail})")
                self.cluster.advance(min(WAIT_POLL_SECONDS, (deadline - self.cluster.now()).total_seconds()))
            self.log.append(f"waited until {self.cluster.now():%H:%M:%S}")
        self.perform(action)

    def perform(self, action: dict) -> None:
        """Do one action now, ignoring its ``waitFor``. Raises ``ActionError``."""
        kind = action["type"]
        body = action[kind]
        cluster = self.cluster
        if kind == "advance":
            cluster.advance(body)
        elif kind == "apply":
            self.apply_manifest(body)
        elif kind == "addNode":
            cluster.add_node(body["name"], labels={k: v for k, v in body["labels"].items() if v is not None},
                             taints=body["taints"], control_plane=body["controlPlane"])
        elif kind == "removeNode":
            cluster.delete("Node", "", body)
        elif kind == "labelNode":
            cluster.patch("Node", "", body["node"], {"metadata": {"labels": body["labels"]}}, "merge")
        elif kind in ("taintNode", "untaintNode"):
            node = self._get("Node", "", body["node"])
            taints = [t for t in (node.get("spec") or {}).get("taints") or []
                      if not (t.get("key") == body["key"] and (not body.get("effect") or t.get("effect") == body["effect"]))]
            if kind == "taintNode":
                taint = {"key": body["key"], "effect": body["effect"]}
                if body.get("value"):
                    taint["value"] = body["value"]
                taints.append(taint)
            cluster.patch("Node", "", body["node"], {"spec": {"taints": taints or None}}, "merge")
        elif kind in ("cordonNode", "uncordonNode"):
            cluster.patch("Node", "", body, {"spec": {"unschedulable": True if kind == "cordonNode" else None}},
                          "merge")
        elif kind in ("failNode", "recoverNode"):
            cluster.set_node_ready(body, kind == "recoverNode")
        elif kind == "patch":
            cluster.patch(body["kind"], body["namespace"], body["name"], body["patch"], body["type"])
        elif kind == "delete":
            self._delete(body)
        elif kind == "undo":
            self._undo(body)
        else:  # the format refuses unknown actions; this guards the two staying in step
            raise ActionError(f"unknown action {kind!r}")
        self.log.append(describe_action(action))

    def _get(self, kind: str, namespace: str, name: str) -> dict:
        for obj in self.cluster.objects(kind):
            meta = obj.get("metadata") or {}
            if meta.get("name") == name and (not BY_KIND[kind].namespaced or meta.get("namespace") == namespace):
                return obj
        raise ActionError(f'{kind} "{name}" not found')

    def _delete(self, body: dict) -> None:
        if body.get("name"):
            self.cluster.delete(body["kind"], body["namespace"], body["name"])
            return
        spec = {"kind": body["kind"], "namespace": body["namespace"], "selector": body.get("selector") or "",
                "fieldSelector": body.get("fieldSelector") or ""}
        chosen = [o for o in self.cluster.objects(body["kind"]) if object_filter(spec)(o)
                  and not o["metadata"].get("deletionTimestamp")]
        if not chosen:
            raise ActionError(f"no {body['kind']} matches {spec['selector']} {spec['fieldSelector']}".rstrip())
        for obj in chosen:
            self.cluster.delete(body["kind"], obj["metadata"].get("namespace", ""), obj["metadata"]["name"])

    def _undo(self, body: dict) -> None:
        """``kubectl rollout undo daemonset/<name> [--to-revision=N]``: patch the template of a stored revision
        back in (the DaemonSet controller then records it as the newest revision)."""
        ds = self._get("DaemonSet", body["namespace"], body["name"])
        uid = ds["metadata"]["uid"]
        revisions = sorted(
            (r for r in self.cluster.objects("ControllerRevision")
             if any(ref.get("uid") == uid for ref in r["metadata"].get("ownerReferences") or ())),
            key=lambda r: r.get("revision", 0))
        if body["toRevision"]:
            target = next((r for r in revisions if r.get("revision") == body["toRevision"]), None)
            if target is None:
                raise ActionError(f"unable to find specified revision {body['toRevision']} in history")
        else:
            if len(revisions) < 2:
                raise ActionError("no rollout history found for daemonset " + body["name"])
            target = revisions[-2]
        self.cluster.patch("DaemonSet", body["namespace"], body["name"], target["data"], "strategic")

    # -- predictions --------------------------------------------------------------------------------------

    def predict(self, raw) -> Prediction:
        """Commit the learner's prediction for this predict step: the clock moves the step's ``after``, then the
        simulation grades it with the step's ``measure``. Raises ``PredictionError`` for an answer that does not
        fit the question (nothing moves then)."""
        predict = self.step.get("predict")
        if predict is None:
            raise PredictionError("this step asks for no prediction")
        value = prediction_value(predict, raw)
        if predict["after"]:
            self.cluster.advance(predict["after"])
        actual, detail = measure(predict["measure"], self.context())
        correct = same_answer(value, actual)
        self.prediction = Prediction(value, None if actual is MISSING else actual, correct, detail,
                                     format_rfc3339(self.cluster.now()))
        self.log.append(f"predicted {show_value(value)}: {detail} ({'right' if correct else 'wrong'})")
        return self.prediction

    # -- checks --------------------------------------------------------------------------------------------

    def predict_result(self) -> CheckResult | None:
        """A predict step's first check: a prediction was committed (right or wrong: the step is to think first)."""
        predict = self.step.get("predict")
        if predict is None:
            return None
        prediction = self.prediction
        if prediction is None:
            detail = "no prediction committed yet"
        else:
            detail = (f"predicted {show_value(prediction.value)}; the simulation showed "
                      f"{show_value(MISSING if prediction.actual is None else prediction.actual)}")
        return CheckResult(prediction is not None, dict(PREDICT_MESSAGE), detail, {"type": "predict"})

    def evaluate(self) -> list[CheckResult]:
        ctx = self.context()
        predicted = self.predict_result()
        return [*([predicted] if predicted else []), *(evaluate(check, ctx) for check in self.step["checks"])]


def describe_action(action: dict) -> str:
    kind = action["type"]
    body = action[kind]
    if kind == "advance":
        return f"advance the clock {body:g}s"
    if kind in ("patch", "delete", "undo"):
        target = body.get("name") or " ".join(filter(None, [body.get("selector"), body.get("fieldSelector")]))
        return f"{kind} {body['kind'].lower()} {target}"
    if kind == "addNode":
        return f"add node {body['name']}"
    if isinstance(body, dict):
        return f"{kind} {body.get('node', '')}".strip()
    return f"{kind} {body}"


def run_lesson(lesson: Lesson, *, cluster: LessonCluster | None = None, skip: int | None = None,
               stop_after: int | None = None) -> LessonReport:
    """Run a lesson headlessly with its solutions: for each step, setup, the solution, the actions, the checks.

    ``skip`` runs that step without any of its setup, solution or actions (its checks are still evaluated) and
    stops there: the tests use it to show that every step's checks depend on the step.
    """
    cluster = cluster or memory_lesson_cluster(lesson)
    run = LessonRun(lesson, cluster)
    report = LessonReport(lesson.slug)
    last = len(lesson.steps) - 1 if stop_after is None else stop_after
    if skip is not None:
        last = min(last, skip)
    for index in range(last + 1):
        step = lesson.steps[index]
        step_report = StepReport(index, step["id"], step["title"], skipped=index == skip)
        if index == skip:
            run.begin_step(index, setup=False)
        else:
            problems = run.begin_step(index)
            if not problems:
                problems = run.show_me()
            if not problems and step.get("predict"):
                problems = _predict_the_answer(run, step["predict"])
            if not problems:
                problems = run.run_step_actions()
            step_report.errors = problems
        step_report.log = list(run.log)
        step_report.checks = run.evaluate()
        report.steps.append(step_report)
    return report


def _predict_the_answer(run: LessonRun, predict: dict) -> list[str]:
    """A headless run predicts the lesson's ``answer``: the simulation must grade it right, or the lesson teaches
    something the simulation does not do."""
    prediction = run.predict(predict["answer"])
    if prediction.correct:
        return []
    return [f"predict: the lesson's answer is {show_value(predict['answer'])}, but the simulation shows "
            f"{prediction.detail}"]
