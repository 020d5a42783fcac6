"""The lesson player: the lesson list, and a lesson page that gives each learner a sandbox cluster of their own.

In laptop mode a learner is known by a signed cookie holding ``{slug: {"cluster": name, "step": index}}``.
Opening ``/lessons/<slug>/`` re-opens the cluster named there, or creates a fresh one from the lesson's
``cluster`` section (so does ``POST start``). In classroom mode a learner is the one who joined the class in this
session, and their run of a lesson is their sandbox (``kubeviz.classroom``): opening the page without one shows a
Start button, and only ``POST /lessons/<slug>/start`` makes it; a teacher's previews stay in the cookie. The page is the dashboard for that cluster plus a lesson panel; the panel talks to
``/lessons/<slug>/api/...``:

- ``GET api/step``: the current step (title, text as safe HTML, kubectl commands, manifests, hints, progress);
- ``POST api/step`` ``{"step": i}``: go to step ``i`` (its window starts now; its ``setup`` actions run);
- ``POST api/check``: evaluate the step's checks now, messages in the active language;
- ``POST api/show-me``: apply the solution, then run every remaining action of the step at once, waiting in
  simulated time for ``waitFor`` conditions (advancing the clock) exactly as ``lessons check`` does;
- ``POST api/actions``: while the learner works by hand, run the step's actions that are due: an action with a
  ``waitFor`` runs once its condition holds, an ``advance`` counts as done once the learner's clock has moved that
  far. The panel polls this, and ``api/check`` does it first;
- ``POST api/hint``: reveal the step's next hint (the step shows only those asked for; the teacher sees how many);
- ``POST api/predict`` ``{"value": ...}``: commit the prediction of a predict step (once): the clock moves the
  step's ``after`` and the simulation grades it (the step's question never carries its answer);
- ``GET api/progress``: the step, whether it passed, and its checks as last evaluated, by Check or by the server
  as the cluster changed (``recheck``); the panel polls it until the step passes, and turns green by itself.

Where each step began (``StepWindow``) is stored in ``LessonProgress`` so history, event and trace checks keep
working across requests, reloads and server restarts.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta

from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST
from django.urls import reverse
from django.utils.translation import get_language, gettext as _

from apiserver.manifests import load_json
from kubeviz.api.views import JSON
from kubeviz.classroom.access import classroom_mode, kube_api_prefix, request_principal
from kubeviz.classroom.models import Sandbox
from kubeviz.classroom.services import SandboxExists, cluster_discard, sandbox_create
from kubeviz.dashboard.catalogue import js_catalogue
from kubeviz.dashboard.views import CONTROLLERS, EXAMPLES, SPEEDS, page_config
from kubeviz.runtime.forwarding import served_elsewhere
from kubeviz.runtime.host import host
from kubeviz.store.actor import display_name
from kubeviz.store.models import Cluster

from .markdown import render_markdown
from .models import Lesson, LessonProgress
from .runner import ActionError, LessonRun, PredictionError, create_database_cluster, describe_action
from .services import (
    PredictionCommitted,
    add_applies,
    hint_reveal,
    prediction_commit,
    progress_begin_step,
    progress_evaluate,
    progress_run,
)

COOKIE = "kubeviz_lessons"
COOKIE_SALT = "kubeviz.lessons.progress"
COOKIE_MAX_AGE = 365 * 24 * 3600


# --- language ---------------------------------------------------------------------------------------------


def _lang() -> str:
    return "zh-Hans" if (get_language() or "").lower().startswith("zh") else "en"


def _text(value) -> str:
    if isinstance(value, dict):
        return value.get(_lang()) or value.get("en") or next(iter(value.values()), "")
    return value or ""


# --- the learner's cookie -------------------------------------------------------------------------------------


def _read_cookie(request) -> dict:
    raw = request.get_signed_cookie(COOKIE, default=None, salt=COOKIE_SALT)
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _write_cookie(request, response, progress: LessonProgress) -> None:
    if request_principal(request).is_learner:  # a learner's runs are their sandboxes, not a cookie's
        return
    data = _read_cookie(request)
    data[progress.lesson.slug] = {"cluster": progress.cluster.name, "step": progress.step}
    response.set_signed_cookie(COOKIE, json.dumps(data, separators=(",", ":")), salt=COOKIE_SALT,
                               max_age=COOKIE_MAX_AGE, httponly=True, samesite="Lax")


# --- runs -----------------------------------------------------------------------------------------------------


def _cluster_name(slug: str) -> str:
    short = slug[:20].rstrip("-")
    return f"l-{short}-{secrets.token_hex(3)}"


def _who(request) -> str | None:
    """Whom a lesson's writes are made for: the learner (or the teacher previewing) asking, in classroom mode."""
    return display_name(request_principal(request))


def _run(request, progress: LessonProgress) -> LessonRun:
    return progress_run(progress, who=_who(request))


def _start(lesson: Lesson, *, quota: dict | None = None, who: str | None = None) -> LessonProgress:
    for _attempt in range(5):
        name = _cluster_name(lesson.slug)
        if not Cluster.objects.filter(name=name).exists():
            break
    cluster = create_database_cluster(lesson.parsed(), name=name, quota=quota)
    progress = LessonProgress.objects.create(cluster=cluster, lesson=lesson)
    progress_begin_step(progress, progress_run(progress, who=who), 0)
    return progress


def _cookie_progress(request, lesson: Lesson) -> LessonProgress | None:
    entry = _read_cookie(request).get(lesson.slug)
    if isinstance(entry, dict) and isinstance(entry.get("cluster"), str):
        return (LessonProgress.objects.select_related("cluster", "lesson")
                .filter(cluster__name=entry["cluster"], lesson=lesson).first())
    return None


def _classroom_progress(request, lesson: Lesson) -> LessonProgress | None:
    """Classroom mode: a learner's run is their sandbox for the lesson (whatever the browser); a teacher's is a
    preview kept in the cookie as in laptop mode, never a learner's sandbox."""
    principal = request_principal(request)
    if principal.is_learner:
        sandbox = Sandbox.objects.filter(learner=principal.learner, lesson=lesson).first()
        if sandbox is None:
            return None
        return (LessonProgress.objects.select_related("cluster", "lesson")
                .filter(cluster_id=sandbox.cluster_id).first())
    progress = _cookie_progress(request, lesson) if principal.is_teacher else None
    if progress is None or Sandbox.objects.filter(cluster_id=progress.cluster_id).exists():
        return None
    return progress


def _progress(request, lesson: Lesson, *, create: bool) -> LessonProgress | None:
    """The learner's run of ``lesson``; in laptop mode made when ``create`` (opening the page), in classroom mode
    only by Start (``lesson_start``)."""
    classroom = classroom_mode()
    progress = _classroom_progress(request, lesson) if classroom else _cookie_progress(request, lesson)
    if progress is not None:
        if progress.step >= len(lesson.content["steps"]):  # the lesson lost steps since
            progress_begin_step(progress, _run(request, progress), 0)
        return progress
    return _start(lesson) if create and not classroom else None


# --- what the panel shows ------------------------------------------------------------------------------------


def _predict_json(progress: LessonProgress, step: dict) -> dict | None:
    """A predict step's question as the panel shows it: never its answer, until the learner committed theirs."""
    predict = step.get("predict")
    if predict is None:
        return None
    committed = progress.predictions.get(step["id"])
    return {
        "question": _text(predict["question"]),
        "choices": [str(c).lower() if isinstance(c, bool) else str(c) for c in predict.get("choices") or []],
        "after": predict["after"],
        "committed": None if committed is None else {
            "value": committed["value"], "actual": committed.get("actual"), "correct": committed.get("correct"),
            "explain": _text(predict.get("explain")) if predict.get("explain") else "",
        },
    }


def _evaluation_json(progress: LessonProgress) -> dict | None:
    """The step's checks as last evaluated (by Check, or by the server as the cluster changed), in the page's
    language; None when they were not evaluated in this step yet."""
    evaluation = progress.evaluation
    if not evaluation or evaluation.get("step") != progress.step:
        return None
    return {
        "passed": evaluation["passed"],
        "checks": [{"passed": r["passed"], "message": _text(r["message"]), "detail": r["detail"], "type": r["type"]}
                   for r in evaluation["results"]],
    }


def _step_json(progress: LessonProgress) -> dict:
    lesson = progress.lesson
    steps = lesson.content["steps"]
    step = steps[progress.step]
    actions = [*step["actions"], *step["solution"]["actions"]]
    hints = step.get("hints") or []
    return {
        "lesson": lesson.slug,
        "cluster": progress.cluster.name,
        "index": progress.step,
        "count": len(steps),
        "id": step["id"],
        "title": _text(step["title"]),
        "html": str(render_markdown(_text(step["text"]))),
        "kubectl": list(step.get("kubectl") or []),
        "manifests": [{"name": m["name"], "yaml": m["yaml"]} for m in step.get("manifests") or []],
        # Hints are shown one at a time, on request (the teacher sees how many were asked for).
        "hints": [_text(h) for h in hints[:progress.hints.get(step["id"], 0)]],
        "hintCount": len(hints),
        "predict": _predict_json(progress, step),
        "notes": [_text(a["note"]) for a in actions if a.get("note")],
        "steps": [{"index": i, "title": _text(s["title"]), "passed": i in progress.passed}
                  for i, s in enumerate(steps)],
        "passed": progress.step in progress.passed,
        "evaluation": _evaluation_json(progress),
    }


def _checks_json(progress: LessonProgress, run: LessonRun) -> dict:
    progress_evaluate(progress, run)
    return _evaluation_json(progress)


def _run_due_actions(progress: LessonProgress, run: LessonRun) -> list[str]:
    """The step's actions that are due while the learner drives the clock themselves (see the module doc)."""
    actions = run.step["actions"]
    done = []
    since = datetime.fromisoformat(progress.window.get("actions_since") or run.window.started.isoformat())
    while progress.actions_done < len(actions):
        action = actions[progress.actions_done]
        if action["type"] == "advance":
            if run.cluster.now() < since + timedelta(seconds=action["advance"]):
                break
        else:
            if not run.action_ready(action):
                break
            try:
                run.perform(action)
            except ActionError as error:
                done.append(f"{describe_action(action)}: {error}")
                break
            done.append(describe_action(action))
        progress.actions_done += 1
        since = run.cluster.now()
    if done or progress.actions_done:
        progress.window = dict(progress.window, actions_since=since.isoformat())
        progress.save(update_fields=["actions_done", "window", "updated_at"])
    return done


# --- pages ---------------------------------------------------------------------------------------------------


def _lesson_row(lesson: Lesson, cookie: dict) -> dict:
    entry = cookie.get(lesson.slug)
    return {
        "slug": lesson.slug, "title": _text(lesson.title), "summary": _text(lesson.summary),
        "level": lesson.level, "level_label": _(lesson.get_level_display()), "minutes": lesson.minutes,
        "steps": len(lesson.content.get("steps") or []), "url": reverse("lessons:lesson", args=[lesson.slug]),
        "started": isinstance(entry, dict),
        "step": (entry.get("step", 0) + 1) if isinstance(entry, dict) else None,
    }


def lesson_list(request):
    if request_principal(request).is_learner:  # a learner's lessons are their class's
        return HttpResponseRedirect(reverse("classroom:learner"))
    cookie = _read_cookie(request)
    return render(request, "lessons/list.html", {"lessons": [_lesson_row(l, cookie) for l in Lesson.objects.all()]})


def _not_found(request, slug: str):
    return render(request, "lessons/404.html",
                  {"missing": slug, "lessons": [_lesson_row(l, {}) for l in Lesson.objects.all()]}, status=404)


def lesson_page(request, slug: str):
    lesson = Lesson.objects.filter(slug=slug).first()
    if lesson is None:
        return _not_found(request, slug)
    progress = _progress(request, lesson, create=True)
    if progress is None:  # classroom mode: a sandbox is made by Start (a POST), never by opening a page
        return _start_page(request, lesson)
    cluster = progress.cluster
    config = page_config(cluster, api=kube_api_prefix(request_principal(request), cluster))
    lesson_config = {"api": reverse("lessons:api-step", args=[slug]).rsplit("/", 1)[0], "step": _step_json(progress)}
    response = render(request, "lessons/player.html", {
        "cluster": cluster, "config": config, "catalogue": js_catalogue(), "speeds": SPEEDS,
        "examples": EXAMPLES, "controllers": CONTROLLERS, "lesson": lesson,
        "lesson_title": _text(lesson.title), "lesson_config": lesson_config, "step": lesson_config["step"],
    })
    _write_cookie(request, response, progress)
    return response


def _start_refusal(request, lesson: Lesson) -> str | None:
    """Why this learner may not start ``lesson`` now (None: they may, as may everyone else)."""
    principal = request_principal(request)
    if not principal.is_learner:
        return None
    classroom = principal.learner.classroom
    if not classroom.lessons.filter(pk=lesson.pk).exists():
        return _("This lesson is not one of your class's.")
    if not classroom.is_open():
        return _("Your class is not open now: ask your teacher.")
    return None


def _start_page(request, lesson: Lesson, *, status: int = 200):
    refusal = _start_refusal(request, lesson)
    return render(request, "lessons/start.html", {
        "lesson": lesson, "lesson_title": _text(lesson.title), "summary": _text(lesson.summary),
        "refusal": refusal, "learner": request_principal(request).learner,
    }, status=403 if refusal else status)


@require_POST
def lesson_start(request, slug: str):
    """Start the lesson: the learner's sandbox cluster is made here, and only here in classroom mode. Starting a
    lesson already started goes on with it."""
    lesson = Lesson.objects.filter(slug=slug).first()
    if lesson is None:
        return _not_found(request, slug)
    progress = _progress(request, lesson, create=False)
    if progress is None:
        if _start_refusal(request, lesson):
            return _start_page(request, lesson)
        principal = request_principal(request)
        # a class's sandboxes take its quota (none set: the server's default)
        progress = _start(lesson, quota=(principal.learner.classroom.quota or None) if principal.is_learner else None,
                          who=display_name(principal))
        if principal.is_learner:
            try:
                sandbox_create(learner=principal.learner, progress=progress)
            except SandboxExists:  # a second Start raced this one: keep the first sandbox
                cluster_discard(progress.cluster.name)
                progress = _progress(request, lesson, create=False)
    response = HttpResponseRedirect(reverse("lessons:lesson", args=[slug]))
    _write_cookie(request, response, progress)
    return response


# --- the panel's API -----------------------------------------------------------------------------------------


def _api(handler):
    def view(request, slug: str):
        lesson = Lesson.objects.filter(slug=slug).first()
        if lesson is None:
            return JsonResponse({"error": _("No lesson called “%(slug)s”.") % {"slug": slug}}, status=404)
        progress = _progress(request, lesson, create=False)
        if progress is None:
            return JsonResponse({"error": _("Open the lesson page first: it creates your cluster.")}, status=404)
        elsewhere = served_elsewhere(request, progress.cluster.name)  # another server process runs its engine
        if elsewhere is not None:
            return elsewhere
        body = {}
        if request.method == "POST" and request.body:
            if (request.content_type or "").lower() != JSON:
                return JsonResponse({"error": "the body must be application/json"}, status=415)
            try:
                body = load_json(request.body)
            except (ValueError, UnicodeDecodeError):
                return JsonResponse({"error": "invalid JSON"}, status=400)
            if not isinstance(body, dict):
                return JsonResponse({"error": "expected a JSON object"}, status=400)
        with host.transaction(progress.cluster.name):  # actions and checks drive the engine: its lock first
            result = handler(request, progress, body)
        if isinstance(result, JsonResponse):
            return result
        response = JsonResponse(result)
        _write_cookie(request, response, progress)
        return response

    view.__name__ = handler.__name__
    view.__doc__ = handler.__doc__
    return view


@_api
def api_step(request, progress, body):
    """GET: the current step. POST {"step": i}: go to step i."""
    if request.method == "POST":
        index = body.get("step")
        count = len(progress.lesson.content["steps"])
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < count:
            return JsonResponse({"error": f"step must be an integer from 0 to {count - 1}"}, status=422)
        problems = progress_begin_step(progress, _run(request, progress), index)
        return dict(_step_json(progress), problems=problems)
    if request.method != "GET":
        return JsonResponse({"error": "method not allowed"}, status=405)
    return _step_json(progress)


def _post_only(request):
    if request.method != "POST":
        return JsonResponse({"error": "method not allowed"}, status=405)
    return None


@_api
def api_check(request, progress, body):
    """Run the actions that are due, then evaluate the step's checks now."""
    refused = _post_only(request)
    if refused:
        return refused
    run = _run(request, progress)
    done = _run_due_actions(progress, run)
    return dict(_checks_json(progress, run), done=done, steps=_step_json(progress)["steps"])


@_api
def api_actions(request, progress, body):
    """Run the step's actions that are due (the panel polls this while the learner works)."""
    refused = _post_only(request)
    if refused:
        return refused
    run = _run(request, progress)
    done = _run_due_actions(progress, run)
    left = len(run.step["actions"]) - progress.actions_done
    return {"done": done, "pending": left}


@_api
def api_show_me(request, progress, body):
    """Apply the step's solution, then run its remaining actions at once (waiting in simulated time)."""
    refused = _post_only(request)
    if refused:
        return refused
    run = _run(request, progress)
    before = len(run.applies)
    problems = run.show_me()
    add_applies(progress, run.applies[before:])
    if not problems:
        problems = run.run_actions(run.step["actions"][progress.actions_done:])
    progress.actions_done = len(run.step["actions"])
    progress.window = dict(progress.window, actions_since=run.cluster.now().isoformat())
    progress.save(update_fields=["actions_done", "window", "updated_at"])
    return dict(_checks_json(progress, run), log=list(run.log), problems=problems,
                steps=_step_json(progress)["steps"])


@_api
def api_hint(request, progress, body):
    """Reveal the step's next hint: answers the hints revealed so far."""
    refused = _post_only(request)
    if refused:
        return refused
    hint_reveal(progress)
    step = _step_json(progress)
    return {"hints": step["hints"], "hintCount": step["hintCount"]}


@_api
def api_predict(request, progress, body):
    """Commit the learner's prediction ``{"value": ...}`` for a predict step: the clock moves the step's
    ``after``, the simulation grades it, and the checks are evaluated. A prediction is made once (409 after)."""
    refused = _post_only(request)
    if refused:
        return refused
    run = _run(request, progress)
    if run.step.get("predict") is None:
        return JsonResponse({"error": _("This step asks for no prediction.")}, status=409)
    if "value" not in body:
        return JsonResponse({"error": "value is required"}, status=422)
    try:
        prediction_commit(progress, run, body["value"])
    except PredictionCommitted:
        return JsonResponse({"error": _("You committed your prediction already."),
                             "predict": _step_json(progress)["predict"]}, status=409)
    except PredictionError as error:
        return JsonResponse({"error": _(str(error))}, status=422)
    step = _step_json(progress)
    return dict(_checks_json(progress, run), predict=step["predict"], steps=step["steps"])


def api_progress(request, slug: str):
    """GET: where the learner's run stands, cheaply (no engine lock, no evaluation): the step, whether it passed,
    and its checks as last evaluated. The panel polls it while its step has not passed, to turn green when the
    server's re-evaluation (``recheck``) saw the checks pass."""
    if request.method != "GET":
        return JsonResponse({"error": "method not allowed"}, status=405)
    lesson = Lesson.objects.filter(slug=slug).first()
    progress = _progress(request, lesson, create=False) if lesson is not None else None
    if progress is None:
        return JsonResponse({"error": _("Open the lesson page first: it creates your cluster.")}, status=404)
    steps = progress.lesson.content["steps"]
    return JsonResponse({
        "index": progress.step, "passed": progress.step in progress.passed, "evaluation": _evaluation_json(progress),
        "steps": [{"index": i, "title": _text(s["title"]), "passed": i in progress.passed}
                  for i, s in enumerate(steps)],
    })
