"""Classroom mode's gate: every request is authorized here, before any view runs, by the family of its path.

Nothing is reachable without a login or a capability; what is not listed below needs a login. Laptop mode passes
everything through untouched (and costs nothing: the setting is read, nothing else).

=============================  ================================================================================
``/static/``, ``/join/``,      open (the join form, the teacher's login, the language switch, the page assets)
``/accounts/``, ``/i18n/``
``/k/<token>/...``             the Kubernetes API through a capability: an unknown token is 401 Unauthorized, a
                               bearer token sent beside it must be the same one, a read-only one may only read
                               (403 Forbidden, upstream's words)
``/clusters/<name>/...``       the Kubernetes API by name: only with ``Authorization: Bearer <token>`` of a
                               capability for that cluster; without, 403 for ``system:anonymous`` (whether or not
                               the cluster exists); a token not accepted, 401
``/sim/clusters``              a login or a bearer token; creating a cluster is for teachers
``/sim/clusters/<name>/...``   a login or a bearer token for that cluster, with the access the method needs:
                               401 or 403 Status otherwise (the console, the clock, apply, the kubeconfig)
``/c/<name>/``                 a login that reaches the cluster; nobody is sent to the login page, anyone else
                               gets a 403 page
``/``                          the ``default`` cluster: teachers; learners are sent to their class, nobody to join
``/lessons/...``               a login (pages send nobody to join; the panel's API answers 401 JSON)
``/teach/...``                 teachers (others are sent to the login page)
``/class/...``                 learners (others are sent to join)
anything else                  a login; nobody gets the server's 404 Status
=============================  ================================================================================

The websocket stream is authorized by its consumer (``kubeviz.live.consumers``, ``stream_refusal`` below).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlencode

from asgiref.sync import iscoroutinefunction, sync_to_async
from django.conf import settings
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils.decorators import sync_and_async_middleware

from apiserver import errors, requestinfo
from kubeviz.api.views import status_response
from kubeviz.store.models import Cluster

from .access import (
    NOBODY,
    Access,
    Principal,
    bearer_token,
    capability_principal,
    classroom_mode,
    cluster_access,
    find_capability,
    request_principal,
    touch_cluster,
)

OPEN = re.compile(r"^/(static/|join/|accounts/|i18n/)")
CAPABILITY = re.compile(r"^/k/(?P<token>[^/]+)(?P<rest>/.*)?$")
KUBE = re.compile(r"^/clusters/(?P<cluster>[^/]+)(?P<rest>/.*)?$")
SIM_LIST = re.compile(r"^/sim/clusters/?$")
SIM = re.compile(r"^/sim/clusters/(?P<cluster>[^/]+)(?P<rest>/.*)?$")
PAGE = re.compile(r"^/c/(?P<cluster>[^/]+)/")
TEACH = re.compile(r"^/teach(/|$)")
LEARN = re.compile(r"^/class(/|$)")
LESSON_API = re.compile(r"^/lessons/[^/]+/api/")
LESSONS = re.compile(r"^/lessons(/|$)")

LOGIN_URL = "/accounts/login/"
JOIN_URL = "/join/"


def _redirect(to: str, request) -> HttpResponseRedirect:
    return HttpResponseRedirect(f"{to}?{urlencode({'next': request.get_full_path()})}")


def _find_cluster(name: str) -> Cluster | None:
    return Cluster.objects.filter(name=name).first()


def _grant(request, principal: Principal, cluster: Cluster) -> None:
    """Let the request through to ``cluster``; what it used marks the sandbox as in use."""
    request.kubeviz_principal = principal
    request.kubeviz_cluster = cluster
    touch_cluster(cluster.pk)


# -- the Kubernetes API ------------------------------------------------------------------------------------------


def _kube_refusal(request, principal: Principal, cluster: Cluster | None, rest: str):
    try:
        info = requestinfo.new_request_info(request.method, rest or "/", parse_qs(request.META.get("QUERY_STRING", "")))
    except ValueError as exc:
        return status_response(errors.bad_request(str(exc)))
    needed = Access.READ if info.reads else Access.WRITE
    if cluster_access(principal, cluster) < needed:
        return status_response(requestinfo.forbidden(principal.username, info))
    _grant(request, principal, cluster)
    return None


def _kube_capability(request, token: str, rest: str | None):
    capability = find_capability(token)
    bearer = bearer_token(request)
    if capability is None or (bearer is not None and bearer != token):
        return status_response(requestinfo.unauthorized())
    return _kube_refusal(request, capability_principal(capability), capability.cluster, rest or "/")


def _kube_by_name(request, cluster: str, rest: str | None):
    token = bearer_token(request)
    principal = NOBODY
    if token is not None:
        capability = find_capability(token)
        if capability is None:
            return status_response(requestinfo.unauthorized())
        principal = capability_principal(capability)
    # An unknown cluster is refused as a forbidden one: a name tells nothing.
    found = _find_cluster(cluster) if principal.authenticated else None
    return _kube_refusal(request, principal, found, rest or "/")


# -- the simulator's endpoints -----------------------------------------------------------------------------------


def _sim_principal(request):
    """A bearer token if the request carries one (scripts), else the browser's session; or a 401 answer."""
    token = bearer_token(request)
    if token is not None:
        capability = find_capability(token)
        if capability is None:
            return None, status_response(requestinfo.unauthorized())
        return capability_principal(capability), None
    principal = request_principal(request)
    if not principal.authenticated:
        return None, status_response(requestinfo.unauthorized())
    return principal, None


def _sim_info(request, name: str = "", subresource: str = "") -> requestinfo.RequestInfo:
    """The request to ``/sim`` in the authorizer's terms: the resource ``clusters``, its subresource (``clock``,
    ``console``...) and the cluster's name."""
    verb = requestinfo.METHOD_VERBS.get(request.method, request.method.lower())
    if verb == "get" and not name:
        verb = "list"
    return requestinfo.RequestInfo(path=request.path, verb=verb, is_resource_request=True, resource="clusters",
                                   subresource=subresource, name=name)


def _sim_list(request):
    principal, refusal = _sim_principal(request)
    if refusal is not None:
        return refusal
    if request.method not in ("GET", "HEAD") and not principal.is_teacher:
        return status_response(requestinfo.forbidden(principal.username, _sim_info(request)))
    request.kubeviz_principal = principal
    return None


def _sim_cluster(request, cluster: str, rest: str | None):
    principal, refusal = _sim_principal(request)
    if refusal is not None:
        return refusal
    found = _find_cluster(cluster)
    needed = Access.READ if request.method in ("GET", "HEAD") else Access.WRITE
    if cluster_access(principal, found) < needed:
        subresource = (rest or "").strip("/").split("/", 1)[0]
        return status_response(requestinfo.forbidden(principal.username, _sim_info(request, cluster, subresource)))
    _grant(request, principal, found)
    return None


# -- pages -------------------------------------------------------------------------------------------------------


def forbidden_page(request, principal: Principal):
    return render(request, "classroom/forbidden.html", {"principal": principal}, status=403)


def _page(request, cluster: str):
    principal = request_principal(request)
    if not principal.authenticated:
        return _redirect(LOGIN_URL, request)
    found = _find_cluster(cluster)
    if cluster_access(principal, found) < Access.READ:
        return forbidden_page(request, principal)
    _grant(request, principal, found)
    return None


def _index(request):
    principal = request_principal(request)
    if principal.is_teacher:
        return _page(request, "default")
    if principal.is_learner:
        return HttpResponseRedirect("/class/")
    return HttpResponseRedirect(JOIN_URL)


def _refusal(request):
    """The answer to a request classroom mode refuses, or None to let it through."""
    path = request.path_info
    if OPEN.match(path):
        return None
    if match := CAPABILITY.match(path):
        return _kube_capability(request, **match.groupdict())
    if match := KUBE.match(path):
        return _kube_by_name(request, **match.groupdict())
    if SIM_LIST.match(path):
        return _sim_list(request)
    if match := SIM.match(path):
        return _sim_cluster(request, **match.groupdict())
    if match := PAGE.match(path):
        return _page(request, match["cluster"])
    if path == "/":
        return _index(request)
    principal = request_principal(request)
    if TEACH.match(path):
        return None if principal.is_teacher else _redirect(LOGIN_URL, request)
    if LEARN.match(path):
        return None if principal.is_learner else _redirect(JOIN_URL, request)
    if LESSON_API.match(path) and not principal.authenticated:
        return JsonResponse({"error": "join a class first"}, status=401)
    if LESSONS.match(path) and not principal.authenticated:
        return _redirect(JOIN_URL, request)
    if not principal.authenticated:  # any other path: the server's 404, whatever is there
        return status_response(errors.not_found_path())
    return None


@sync_and_async_middleware
def classroom_authorization(get_response):
    """In classroom mode, answer what may not go on (``_refusal``); in laptop mode, nothing."""
    if iscoroutinefunction(get_response):
        async def middleware(request):
            if classroom_mode():
                refused = await sync_to_async(_refusal)(request)
                if refused is not None:
                    return refused
            return await get_response(request)
    else:
        def middleware(request):
            if classroom_mode():
                refused = _refusal(request)
                if refused is not None:
                    return refused
            return get_response(request)
    return middleware


# -- the websocket ----------------------------------------------------------------------------------------------

#: Close codes of a stream refused in classroom mode: 4000 + the HTTP status, as ``CLOSE_NOT_FOUND`` (4404).
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403


def stream_refusal(scope, cluster_name: str) -> tuple[int, str] | None:
    """Whether the websocket of ``scope`` may watch ``cluster_name``: None, or (close code, message). Run on
    Django's database thread."""
    if not classroom_mode():
        return None
    from .access import session_principal

    principal = session_principal(scope.get("session"), scope.get("user"))
    if not principal.authenticated:
        return CLOSE_UNAUTHORIZED, "log in or join a class to watch a cluster"
    found = _find_cluster(cluster_name)
    if cluster_access(principal, found) < Access.READ:
        return CLOSE_FORBIDDEN, f'{principal.username} may not watch cluster "{cluster_name}"'
    touch_cluster(found.pk)
    return None


def _mark_secure(request, response):
    if request.is_secure():
        for name in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME):
            if name in response.cookies:
                response.cookies[name]["secure"] = True
    return response


@sync_and_async_middleware
def secure_cookies_over_tls(get_response):
    """The session and CSRF cookies of a request that came over HTTPS are Secure (HttpOnly and SameSite=Lax come
    from the settings): a laptop on plain HTTP keeps working, a server behind TLS never leaks them to HTTP."""
    if iscoroutinefunction(get_response):
        async def middleware(request):
            return _mark_secure(request, await get_response(request))
    else:
        def middleware(request):
            return _mark_secure(request, get_response(request))
    return middleware
