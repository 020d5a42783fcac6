"""Middleware that answers some requests before any view runs.

``refusing_middleware`` makes one (for sync and async views alike) from a function that looks at a request and
answers a refusal or None. ``request_body_limit``: a request body over the server's limit is refused as the
Kubernetes API server refuses one (413 ``RequestEntityTooLarge``, a Status), for every URL: the API, the
simulator's endpoints, the console and the lesson panel. Views that read a body sent without a length catch
Django's ``RequestDataTooBig`` themselves (``views.api_endpoint``)."""

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.utils.decorators import sync_and_async_middleware

from apiserver import errors

from .views import status_response


def _refusal(request):
    """The 413 Status for a request whose declared body is over the limit, else None."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if request.path == settings.RECORDINGS_PATH:  # a recording may be larger (its view reads it with its own limit)
        limit = max(limit, settings.KUBEVIZ_MAX_RECORDING_BYTES)
    return status_response(errors.body_too_large(limit)) if length > limit else None


def refusing_middleware(refusal):
    """A middleware that answers ``refusal(request)`` when that is not None, and otherwise hands the request on."""

    @sync_and_async_middleware
    def factory(get_response):
        if iscoroutinefunction(get_response):
            async def middleware(request):
                refused = refusal(request)
                return refused if refused is not None else await get_response(request)
        else:
            def middleware(request):
                refused = refusal(request)
                return refused if refused is not None else get_response(request)
        return middleware

    factory.__doc__ = refusal.__doc__
    return factory


request_body_limit = refusing_middleware(_refusal)
