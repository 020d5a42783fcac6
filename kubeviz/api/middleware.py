"""A request body over the server's limit is refused before any view reads it, as the Kubernetes API server
refuses one (413 ``RequestEntityTooLarge``, a Status), for every URL: the API, the simulator's endpoints, the
console and the lesson panel. Views that read a body sent without a length catch Django's ``RequestDataTooBig``
themselves (``views.api_endpoint``)."""

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
    return status_response(errors.body_too_large(limit)) if length > limit else None


@sync_and_async_middleware
def request_body_limit(get_response):
    if iscoroutinefunction(get_response):
        async def middleware(request):
            refusal = _refusal(request)
            return refusal if refusal is not None else await get_response(request)
    else:
        def middleware(request):
            refusal = _refusal(request)
            return refusal if refusal is not None else get_response(request)
    return middleware
