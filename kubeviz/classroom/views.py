"""The classroom's pages: joining a class, a learner's class page, the teacher's classes and their live grid, a
learner's sandbox read-only (and on the projector), and the Kubernetes API through a capability (``/k/<token>/...``).

Every form posts with Django's CSRF token; every change is a POST answered with a redirect (or, to the grid's
script, which asks for JSON, with JSON). Names (classes, learners) reach pages through Django's templates only,
which escape them, and the grid's script through ``textContent``.
"""

from __future__ import annotations

import functools
import io
from datetime import datetime

import segno
from django.conf import settings
from django.contrib import auth
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apiserver import requestinfo
from kubeviz.api.views import status_response
from kubeviz.dashboard.catalogue import js_catalogue
from kubeviz.dashboard.views import CONTROLLERS, EXAMPLES, SPEEDS, page_config
from kubeviz.lessons.models import Lesson, LessonProgress
from kubeviz.lessons.views import _text

from . import services
from .access import (
    LEARNER_SESSION_KEY,
    Access,
    bearer_token,
    capability_for,
    classroom_mode,
    find_capability,
    request_principal,
)
from .models import Classroom, Learner, Sandbox


def classroom_only(view):
    """A page of classroom mode: in laptop mode there are no classes (everything is open), and it says so."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not classroom_mode():
            return render(request, "classroom/off.html", status=404)
        return view(request, *args, **kwargs)

    return wrapper


# -- the Kubernetes API through a capability ------------------------------------------------------------------


def through_capability(view):
    """A Kubernetes API view served under ``/k/<token>`` instead of ``/clusters/<name>``: the token names the
    cluster. In classroom mode the middleware has found and authorized it already."""

    @functools.wraps(view)  # keeps csrf_exempt: kubectl sends no CSRF token
    def wrapper(request, token, **kwargs):
        cluster = getattr(request, "kubeviz_cluster", None)
        if cluster is None:
            capability = find_capability(token)
            bearer = bearer_token(request)
            if capability is None or (bearer is not None and bearer != token):
                return status_response(requestinfo.unauthorized())
            cluster = capability.cluster
        return view(request, cluster=cluster.name, **kwargs)

    return wrapper


# -- joining --------------------------------------------------------------------------------------------------


def _safe_next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return default


#: How long (seconds) wrong join codes are counted against a client address.
JOIN_FAILURE_WINDOW = 600


def _join_failures_key(request) -> str:
    return f"kubeviz:join-failures:{request.META.get('REMOTE_ADDR', '')}"


def _count_join_failure(request) -> None:
    key = _join_failures_key(request)
    if not cache.add(key, 1, JOIN_FAILURE_WINDOW):
        try:
            cache.incr(key)
        except ValueError:  # expired in between
            cache.add(key, 1, JOIN_FAILURE_WINDOW)


@classroom_only
def join(request, code: str = ""):
    """The join form (``/join/``, or ``/join/<code>/`` from the QR code): a class code and a display name. An
    address that tried too many wrong codes is refused for a while (429), so codes cannot be guessed."""
    values = {"code": code or request.GET.get("code", ""), "name": ""}
    if request.method == "POST":
        values = {"code": request.POST.get("code", ""), "name": request.POST.get("name", "")}
    asks = request.method == "POST" or code  # a code in the link is looked up (and counted) as a posted one is
    if asks and cache.get(_join_failures_key(request), 0) >= settings.KUBEVIZ_JOIN_FAILURES:
        error = _("Too many wrong class codes were tried from this network. Wait a few minutes, then try again "
                  "with the code your teacher shows.")
        return render(request, "classroom/join.html", {"values": values, "error": error}, status=429)
    error = None
    classroom = services.find_class(values["code"]) if asks else None
    if asks and classroom is None:
        _count_join_failure(request)
        error = _("There is no class with this code. Check it with your teacher.")
    elif request.method == "POST":
        try:
            learner = services.learner_join(classroom=classroom, display_name=values["name"])
        except services.ClassroomError as exc:
            error = str(exc)
        else:
            auth.logout(request)  # one identity per browser: a teacher who joins is logged out
            request.session.cycle_key()
            request.session[LEARNER_SESSION_KEY] = learner.pk
            return HttpResponseRedirect(_safe_next(request, reverse("classroom:learner")))
    return render(request, "classroom/join.html", {"values": values, "error": error},
                  status=400 if error and request.method == "POST" else 200)


@classroom_only
@require_POST
def leave(request):
    """Forget the learner on this browser (they can join again with the same code and name)."""
    request.session.flush()
    return HttpResponseRedirect(reverse("classroom:join"))


# -- the learner's class page ---------------------------------------------------------------------------------


@classroom_only
def learner_home(request):
    learner: Learner = request_principal(request).learner
    classroom = learner.classroom
    sandboxes = {s.lesson_id: s for s in Sandbox.objects.filter(learner=learner).select_related("cluster")}
    progress = {p.cluster_id: p for p in LessonProgress.objects.filter(
        cluster_id__in=[s.cluster_id for s in sandboxes.values()])}
    rows = []
    for lesson in classroom.ordered_lessons():
        sandbox = sandboxes.get(lesson.pk)
        step = progress.get(sandbox.cluster_id) if sandbox else None
        rows.append({
            "lesson": lesson, "title": _text(lesson.title), "summary": _text(lesson.summary),
            "steps": len(lesson.content.get("steps") or []), "sandbox": sandbox,
            "step": step.step + 1 if step else None, "passed": len(step.passed) if step else 0,
        })
    return render(request, "classroom/learner.html", {
        "learner": learner, "classroom": classroom, "rows": rows, "open": classroom.is_open(),
    })


# -- teachers ---------------------------------------------------------------------------------------------------


class LoginView(auth_views.LoginView):
    template_name = "classroom/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        self.request.session.pop(LEARNER_SESSION_KEY, None)  # one identity per browser
        return super().form_valid(form)


class LogoutView(auth_views.LogoutView):
    pass


def _parse_when(raw: str) -> datetime | None:
    """A ``datetime-local`` field's value (the teacher's wall clock is taken as the server's zone, UTC)."""
    raw = (raw or "").strip()
    if not raw:
        return None
    value = parse_datetime(raw)
    if value is None:
        raise services.ClassroomError(_("Times are written as 2025-09-01 09:00."))
    return timezone.make_aware(value) if timezone.is_naive(value) else value


@classroom_only
def teacher_home(request):
    """The teacher's classes, and the form that creates one (POST)."""
    teacher = request.user
    lessons = list(Lesson.objects.all())
    error = None
    values = {"name": "", "lessons": [lesson.slug for lesson in lessons], "opens_at": "", "closes_at": "",
              "quota": ""}
    if request.method == "POST":
        values = {"name": request.POST.get("name", ""), "lessons": request.POST.getlist("lessons"),
                  "opens_at": request.POST.get("opens_at", ""), "closes_at": request.POST.get("closes_at", ""),
                  "quota": request.POST.get("quota", "")}
        chosen = [lesson for lesson in lessons if lesson.slug in set(values["lessons"])]
        try:
            classroom = services.class_create(
                teacher=teacher, name=values["name"], lessons=chosen,
                opens_at=_parse_when(values["opens_at"]), closes_at=_parse_when(values["closes_at"]),
                quota=values["quota"])
        except services.ClassroomError as exc:
            error = str(exc)
        else:
            return HttpResponseRedirect(reverse("classroom:class", args=[classroom.pk]))
    classes = Classroom.objects.filter(teacher=teacher).prefetch_related("learners")
    return render(request, "classroom/teacher.html", {
        "classes": classes, "lessons": [{"slug": l.slug, "title": _text(l.title)} for l in lessons],
        "values": values, "error": error, "default_quota": _hard_text(settings.KUBEVIZ_DEFAULT_QUOTA),
    }, status=400 if error else 200)


def _hard_text(hard: dict) -> str:
    """Hard limits as ``kubectl create quota --hard`` takes them."""
    return ",".join(f"{key}={value}" for key, value in hard.items())


def _own_class(request, pk: int) -> Classroom:
    return get_object_or_404(Classroom, pk=pk, teacher=request.user)


def _join_url(request, classroom: Classroom) -> str:
    return request.build_absolute_uri(reverse("classroom:join-code", args=[classroom.join_code]))


@classroom_only
def class_detail(request, pk: int):
    """One class: its join code, link and QR code; its learners and their sandboxes, with resets."""
    classroom = _own_class(request, pk)
    learners = list(classroom.learners.all())
    sandboxes = (Sandbox.objects.filter(learner__classroom=classroom)
                 .select_related("cluster", "lesson", "cluster__lesson_progress"))
    by_learner: dict[int, list] = {}
    for sandbox in sandboxes:
        progress = getattr(sandbox.cluster, "lesson_progress", None)
        by_learner.setdefault(sandbox.learner_id, []).append({
            "sandbox": sandbox, "title": _text(sandbox.lesson.title),
            "step": progress.step + 1 if progress else None,
            "steps": len(sandbox.lesson.content.get("steps") or []),
            "paused_idle": sandbox.idle_paused_at is not None,
        })
    return render(request, "classroom/class.html", {
        "classroom": classroom, "join_url": _join_url(request, classroom),
        "live_url": reverse("classroom:class-live", args=[classroom.pk]),
        "lessons": [_text(l.title) for l in classroom.ordered_lessons()],
        "quota": _hard_text(classroom.quota or settings.KUBEVIZ_DEFAULT_QUOTA),
        "learners": [{"learner": l, "sandboxes": by_learner.get(l.pk, [])} for l in learners],
        "open": classroom.is_open(),
    })


@classroom_only
def class_qr(request, pk: int):
    """The join link as a QR code (SVG), for the projector."""
    classroom = _own_class(request, pk)
    out = io.BytesIO()
    segno.make(_join_url(request, classroom), error="m").save(out, kind="svg", scale=8, border=2, xmldecl=False,
                                                              title=classroom.join_code)
    response = HttpResponse(out.getvalue(), content_type="image/svg+xml")
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _wants_json(request) -> bool:
    """The grid's script asks for JSON (``Accept: application/json``); a form's post asks for a page."""
    return "application/json" in request.headers.get("Accept", "")


def _class_action(action):
    """A teacher's POST about one of their classes: answered with a redirect to the class page (or ``next``), or
    with ``{"ok": true}`` and what the action answered to a script that asks for JSON."""
    @classroom_only
    @functools.wraps(action)
    def view(request, pk: int, **kwargs):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        classroom = _own_class(request, pk)
        answer = action(request, classroom, **kwargs)
        if isinstance(answer, HttpResponse):
            return answer
        if _wants_json(request):
            return JsonResponse({"ok": True, **(answer or {})})
        return HttpResponseRedirect(_safe_next(request, reverse("classroom:class", args=[classroom.pk])))
    return view


@_class_action
def class_reset(request, classroom):
    services.class_reset(classroom=classroom)


@_class_action
def class_delete(request, classroom):
    services.class_delete(classroom=classroom)
    return HttpResponseRedirect(reverse("classroom:teacher"))


@_class_action
def learner_reset(request, classroom, learner: int):
    services.learner_reset(learner=get_object_or_404(Learner, pk=learner, classroom=classroom))


@_class_action
def learner_remove(request, classroom, learner: int):
    services.learner_remove(learner=get_object_or_404(Learner, pk=learner, classroom=classroom))


@_class_action
def learner_merge(request, classroom, learner: int):
    """``learner`` joined twice: merge them into the learner ``into`` (their sandboxes and kubeconfigs move)."""
    duplicate = get_object_or_404(Learner, pk=learner, classroom=classroom)
    into_id = request.POST.get("into", "")
    into = Learner.objects.filter(pk=into_id, classroom=classroom).first() if into_id.isdigit() else None
    if into is None or into.pk == duplicate.pk:
        message = _("Choose another learner of this class to merge into.")
        if _wants_json(request):
            return JsonResponse({"error": message}, status=400)
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
    return {"deleted": services.learner_merge(duplicate=duplicate, into=into)}


@_class_action
def class_clock(request, classroom):
    """Pause (``paused=true``) or play (``paused=false``) every sandbox of the class."""
    paused = request.POST.get("paused", "").lower()
    if paused not in ("true", "false"):
        return JsonResponse({"error": "paused must be true or false"}, status=400)
    return {"paused": paused == "true",
            "changed": services.class_clock(classroom=classroom, paused=paused == "true")}


# -- the live grid -------------------------------------------------------------------------------------------------


@classroom_only
def class_live(request, pk: int):
    """The class's live grid: learners × steps, the class's predictions, pause or play every sandbox. Its rows
    come over the class's websocket (``consumers.ClassConsumer``)."""
    classroom = _own_class(request, pk)
    config = {
        "ws": f"/ws/classes/{classroom.pk}/",
        "stuckMinutes": settings.KUBEVIZ_STUCK_MINUTES,
        "urls": {
            "view": reverse("classroom:sandbox-view", args=[classroom.pk, "CLUSTER"]),
            "present": reverse("classroom:sandbox-present", args=[classroom.pk, "CLUSTER"]),
            "reset": reverse("classroom:learner-reset", args=[classroom.pk, 0]),
            "clock": reverse("classroom:class-clock", args=[classroom.pk]),
        },
    }
    return render(request, "classroom/live.html", {
        "classroom": classroom, "config": config, "catalogue": js_catalogue(),
        "class_url": reverse("classroom:class", args=[classroom.pk]),
    })


def _class_sandbox(request, pk: int, cluster: str) -> tuple[Classroom, Sandbox]:
    classroom = _own_class(request, pk)
    sandbox = (Sandbox.objects.select_related("cluster", "learner")
               .filter(learner__classroom=classroom, cluster__name=cluster).first())
    if sandbox is None:
        raise Http404("no such sandbox in this class")
    return classroom, sandbox


def _read_only_page(request, pk: int, cluster: str, *, present: bool):
    """A learner's sandbox as its dashboard, read-only: every control that writes is left out, and every request
    the page makes carries the teacher's read-only capability for the cluster, so the server refuses any write."""
    classroom, sandbox = _class_sandbox(request, pk, cluster)
    capability = capability_for(request_principal(request), sandbox.cluster, Access.READ)
    config = page_config(sandbox.cluster, api=f"/k/{capability.token}")
    config.update(readOnly=True, bearer=capability.token)
    return render(request, "dashboard/cluster.html", {
        "cluster": sandbox.cluster, "config": config, "catalogue": js_catalogue(), "speeds": SPEEDS,
        "examples": EXAMPLES, "controllers": CONTROLLERS, "read_only": True, "present": present,
        "owner": sandbox.learner.display_name, "back_url": reverse("classroom:class-live", args=[classroom.pk]),
    })


@classroom_only
def sandbox_view(request, pk: int, cluster: str):
    return _read_only_page(request, pk, cluster, present=False)


@classroom_only
def sandbox_present(request, pk: int, cluster: str):
    """One sandbox on the projector: the cluster alone, large, read-only."""
    return _read_only_page(request, pk, cluster, present=True)
