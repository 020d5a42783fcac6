"""The live stream of a class's grid, for its teacher: ``/ws/classes/<id>/`` (the protocol is in ``grid.py``).

Only the class's own teacher may watch it: without a login the stream gets an ``error`` and closes with 4401, with
another login 4403; in laptop mode, and for a class that does not exist (or is deleted while watched), 4404. The
consumer joins the class's group (``grid.class_group``) before it reads the snapshot, so nothing committed after
the read is missed; a row read before it and delivered after is older than the snapshot's and the page drops it.
"""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.utils import translation

from . import grid
from .access import classroom_mode, session_principal
from .middleware import CLOSE_FORBIDDEN, CLOSE_UNAUTHORIZED
from .models import Classroom

CLOSE_NOT_FOUND = 4404


def _language(scope) -> str:
    """The teacher's language: the language cookie, else the browser's Accept-Language, as pages choose it."""
    chosen = (scope.get("cookies") or {}).get(settings.LANGUAGE_COOKIE_NAME)
    if not chosen:
        headers = {name: value.decode("latin1") for name, value in scope.get("headers", ())}
        for accepted, _quality in translation.trans_real.parse_accept_lang_header(headers.get(b"accept-language", "")):
            if accepted != "*":
                chosen = accepted
                break
    try:
        return translation.get_supported_language_variant(chosen or settings.LANGUAGE_CODE)
    except LookupError:
        return settings.LANGUAGE_CODE


def grid_refusal(scope, classroom_id: int) -> tuple[int, str] | None:
    """Whether the websocket of ``scope`` may watch the grid of class ``classroom_id``: None, or (code, message)."""
    if not classroom_mode():
        return CLOSE_NOT_FOUND, "there are no classes in laptop mode"
    principal = session_principal(scope.get("session"), scope.get("user"))
    if not principal.authenticated:
        return CLOSE_UNAUTHORIZED, "log in to watch a class"
    if not principal.is_teacher or not Classroom.objects.filter(pk=classroom_id, teacher=principal.user).exists():
        return CLOSE_FORBIDDEN, f"{principal.username} may not watch this class"
    return None


def _snapshot(classroom_id: int, language: str) -> dict | None:
    classroom = Classroom.objects.filter(pk=classroom_id).first()
    if classroom is None:
        return None
    with translation.override(language):
        return grid.snapshot(classroom)


class ClassConsumer(AsyncJsonWebsocketConsumer):
    """One teacher's page watching one class's grid."""

    joined = False

    async def connect(self):
        self.classroom_id = int(self.scope["url_route"]["kwargs"]["pk"])
        self.group = grid.class_group(self.classroom_id)
        self.language = _language(self.scope)
        await self.accept()
        refusal = await database_sync_to_async(grid_refusal)(self.scope, self.classroom_id)
        if refusal is not None:
            code, message = refusal
            await self.send_json({"type": "error", "message": message})
            await self.close(code=code)
            return
        await self.channel_layer.group_add(self.group, self.channel_name)
        self.joined = True
        await self.send_snapshot()

    async def disconnect(self, code):
        if self.joined:
            self.joined = False
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        await self.send_json({"type": "error", "message": "this stream accepts no messages; use the class's page"})

    async def send_snapshot(self):
        snapshot = await database_sync_to_async(_snapshot)(self.classroom_id, self.language)
        if snapshot is None:
            await self.gone()
            return
        await self.send_json(snapshot)

    async def gone(self):
        await self.send_json({"type": "error", "message": "the class was deleted"})
        await self.disconnect(CLOSE_NOT_FOUND)
        await self.close(code=CLOSE_NOT_FOUND)

    # -- the class group's messages, one handler each ---------------------------------------------------------

    async def grid_learner(self, message):
        await self.send_json({"type": "learner", "learner": message["learner"]})

    async def grid_removed(self, message):
        await self.send_json({"type": "learner.removed", "id": message["id"]})

    async def grid_refresh(self, message):
        await self.send_snapshot()

    async def grid_deleted(self, message):
        await self.gone()
