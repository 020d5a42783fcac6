"""What keeps a page on another site from acting through a learner's browser.

kubeviz answers anyone who can reach it (on a laptop, that is the laptop's own browser), so the danger is a hostile
page open in that browser sending requests to it. Three guards, each for one kind of request:

- ``cross_site_refusal`` (every URL, the Kubernetes API included): a request that a browser sent for a page on
  another origin (``Sec-Fetch-Site`` says cross-site or same-site, or a write's ``Origin`` is not this server's)
  is refused with 403 before any view runs, unless it is a link to a page being followed. kubectl and the client
  libraries send neither header.
- Django's ``CsrfViewMiddleware`` (every view but the Kubernetes API's, which kubectl calls with no browser): its
  CSRF protection, token and origin, for every request that comes from a browser (``csrf_for_browsers``). A request with no cookie, no
  ``Origin`` and no ``Sec-Fetch-*`` header (curl, scripts, the test clients) carries no ambient authority a
  hostile page could borrow, so it is not asked for a token; every browser sends ``Origin`` on a POST.
- ``SameOriginWebsocket``: a websocket is accepted only when its ``Host`` is one the server answers to and its
  ``Origin``, when present (browsers always send one), is this same server: otherwise any page could read the live
  state of any cluster.

Together with the media types the simulator's endpoints accept (``views.request_body``: a cross-site page cannot
send ``application/json`` without asking first) and the response headers set in ``settings`` (frames denied, a
Content-Security-Policy without inline script, nosniff).
"""

from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import is_same_domain, split_domain_port, validate_host

from apiserver import errors
from kubeviz.api.middleware import refusing_middleware
from kubeviz.api.views import status_response

SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")
BROWSER_HEADERS = ("HTTP_ORIGIN", "HTTP_COOKIE", "HTTP_SEC_FETCH_SITE", "HTTP_SEC_FETCH_MODE")


def origin_allowed(origin: str, *, scheme: str, host: str) -> bool:
    """Whether a browser's ``Origin`` is this server's own (``scheme://host``, the ``Host`` the request came with)
    or one of ``CSRF_TRUSTED_ORIGINS`` (for a proxy in front that changes the scheme), as Django's CSRF check
    decides for HTTP."""
    if origin == f"{scheme}://{host}":
        return True
    try:
        parsed = urlsplit(origin)
    except ValueError:
        return False
    for trusted in settings.CSRF_TRUSTED_ORIGINS:
        pattern = urlsplit(trusted)
        if pattern.scheme == parsed.scheme and (trusted == origin or (
                "*" in pattern.netloc and is_same_domain(parsed.netloc, pattern.netloc.replace("*", "", 1)))):
            return True
    return False


def _cross_site(request) -> str | None:
    """Why a request comes from a page on another origin, or None.

    Any request that a page on another site makes its browser send is refused, reads included (an ``<img>`` of a
    lesson page would make a sandbox; a ``<script>`` of a JSON answer would try to read it), except following a
    link to one of the pages (a top-level navigation that reads): the Fetch Metadata resource isolation policy. A
    state-changing request must moreover come with this server's ``Origin`` when it carries one (browsers without
    ``Sec-Fetch-*``)."""
    meta = request.META
    site = meta.get("HTTP_SEC_FETCH_SITE")
    safe = request.method in SAFE_METHODS
    origin = meta.get("HTTP_ORIGIN")
    trusted = origin is not None and origin_allowed(origin, scheme=request.scheme, host=request.get_host())
    if site in ("cross-site", "same-site") and not trusted:
        if safe and meta.get("HTTP_SEC_FETCH_MODE") == "navigate" and meta.get("HTTP_SEC_FETCH_DEST") == "document":
            return None
        return f"the request was sent by a page on another site (Sec-Fetch-Site: {site})"
    if not safe and origin is not None and not trusted:
        return f"the request was sent by a page on another origin ({origin})"
    return None


def _forbidden(reason: str):
    return status_response(errors.StatusError(403, "Forbidden", f"forbidden: {reason}", {}))


def _refuse_cross_site(request):
    """Refuse what a browser sent for a page on another origin (403 Forbidden, a Status): see ``_cross_site``."""
    reason = _cross_site(request)
    return _forbidden(reason) if reason else None


cross_site_refusal = refusing_middleware(_refuse_cross_site)


def from_browser(request) -> bool:
    """Whether a request carries what only a browser sends (a cookie, ``Origin``, ``Sec-Fetch-*``)."""
    return any(request.META.get(header) for header in BROWSER_HEADERS)


def _mark_for_csrf(request):
    """Placed just before Django's ``CsrfViewMiddleware``: a request that no browser sent is not asked for a CSRF
    token (Django's own switch for that, ``_dont_enforce_csrf_checks``, is the one its test client uses)."""
    if not from_browser(request):
        request._dont_enforce_csrf_checks = True


csrf_for_browsers = refusing_middleware(_mark_for_csrf)


def csrf_failure(request, reason=""):
    """``CSRF_FAILURE_VIEW``: a Status, like every other refusal of the API (no HTML page)."""
    return _forbidden(f"CSRF verification failed: {reason}; reload the page")


class SameOriginWebsocket:
    """ASGI middleware for websockets: accept only a known ``Host`` and, when present, this server's ``Origin``."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        headers = {name: value.decode("latin1") for name, value in scope.get("headers", ())}
        host, origin = headers.get(b"host"), headers.get(b"origin")
        scheme = "https" if scope.get("scheme") == "wss" else "http"
        # A browser always sends Host and Origin; a client without a Host (a test's communicator) is no browser.
        if host is not None and not validate_host(split_domain_port(host)[0], settings.ALLOWED_HOSTS):
            return await WebsocketDenier()(scope, receive, send)
        if origin is not None and (host is None or not origin_allowed(origin, scheme=scheme, host=host)):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)
