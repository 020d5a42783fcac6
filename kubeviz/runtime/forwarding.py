"""Requests that drive a cluster's engine, served by the process that runs it.

With several server processes (``lease.py``) a clock command, an advance, a step, a lesson action or a read of the
engine's traces may arrive at a process that does not hold the cluster's lease. ``served_elsewhere`` sends the
whole request (method, path, query, headers with the session cookie, body) over the channel layer to the holder's
own channel; the holder runs it through the Django app, exactly as if it had arrived there, and answers with the
status, headers and body, which the first process passes on. So a client gets the same answer whichever process it
talks to. A forwarded request carries a mark in its ASGI scope (which no client can set) and is never forwarded
again.

When nobody holds a live lease, the least loaded process gets it (``lease.place``), which may be the receiving one.
While the holder stays silent, the sender keeps waiting as long as the holder renews its lease (a long advance);
once the lease expired (the holder died) the sender takes it and serves the request itself; a web process
(``KUBEVIZ_ENGINES=false``) places it with the least loaded engine process instead, and asks that one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from http.cookies import SimpleCookie

from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.http import HttpResponse

from apiserver import errors
from kubeviz.store.models import Cluster

from . import lease, shutdown

logger = logging.getLogger(__name__)

#: The ASGI scope key marking a request another process forwarded here.
FORWARDED = "kubeviz.forwarded"
#: Scope keys a forwarded request keeps.
SCOPE_KEYS = ("method", "path", "raw_path", "root_path", "query_string", "headers", "client", "server", "scheme",
              "http_version")
#: Response headers the sending process does not copy (its own server sets them).
HOP_BY_HOP = {b"content-length", b"transfer-encoding", b"connection", b"set-cookie"}


def channel_for(holder: str) -> str:
    """The channel on which the process ``holder`` takes forwarded requests."""
    return f"kubeviz-engine.{holder}"


def served_elsewhere(request, cluster_name: str) -> HttpResponse | None:
    """The answer of the process running the cluster's engine, when that is another process; None when this
    process serves the request itself (it holds the lease, leases are off, the cluster does not exist, or the
    request was forwarded here)."""
    from .host import host

    if host.leases is None:
        return None
    pk = Cluster.objects.filter(name=cluster_name).values_list("pk", flat=True).first()
    if pk is None:
        return None  # the view answers 404
    if (getattr(request, "scope", None) or {}).get(FORWARDED):  # sent here by the process that got it
        holding = lease.lease_of(pk)
        if holding is not None and holding.mine:
            host.leases.align(cluster_name, holding.term)
        return None
    holding = lease.place(pk)
    if holding is None:
        return None
    if holding.mine:
        host.leases.align(cluster_name, holding.term)
        return None
    message = {
        "type": "engine.request",
        "scope": {key: _plain(request.scope[key]) for key in SCOPE_KEYS if key in request.scope},
        "body": request.body,
    }
    if not connection.in_atomic_block:
        # Not held while the holder works: with a pool of connections per process, requests waiting for each
        # other's processes could otherwise hold every connection the others need to answer them.
        connection.close()
    try:
        answer = _forwarded(message, pk, holding)
    except errors.StatusError as error:
        return HttpResponse(_status_json(error), status=error.code, content_type="application/json")
    if answer is None:  # the holder died: this process took the lease over
        holding = lease.lease_of(pk)
        if holding is not None:
            host.leases.align(cluster_name, holding.term)
        return None
    return _response(answer)


def _forwarded(message: dict, pk: int, holding: lease.Holding) -> dict | None:
    """The holder's answer; when it died and another process took the cluster over, that one's (the request is
    run there from where the dead one left the cluster). Both within one wait."""
    give_up = time.monotonic() + settings.KUBEVIZ_ADVANCE_MAX_WAIT + 2 * settings.KUBEVIZ_LEASE_SECONDS
    try:
        return async_to_sync(_forward)(message, pk, holding, give_up)
    except _Moved as moved:
        try:
            return async_to_sync(_forward)(message, pk, moved.holding, give_up)
        except _Moved:
            raise _moved_meanwhile() from None


async def _forward(message: dict, pk: int, holding: lease.Holding, give_up: float) -> dict | None:
    layer = get_channel_layer()
    message["reply"] = reply = await layer.new_channel()
    await layer.send(channel_for(holding.holder), message)
    patience = settings.KUBEVIZ_LEASE_SECONDS
    # One receive for the whole wait: cancelling one in between could lose an answer arriving just then.
    answer = asyncio.ensure_future(layer.receive(reply))
    try:
        while True:
            done, _ = await asyncio.wait({answer}, timeout=patience)
            if done:
                return answer.result()
            now = await sync_to_async(_lease_now, thread_sensitive=False)(pk)
            if now is None:
                raise errors.StatusError(404, "NotFound", "the cluster was deleted", {})
            if now.holder == holding.holder and now.term == holding.term and now.live:
                if time.monotonic() < give_up:
                    continue  # the holder is alive (it renews its lease): still at work
                raise errors.StatusError(503, "ServiceUnavailable",
                                         "the server process running this cluster did not answer", {})
            taken = await sync_to_async(_take, thread_sensitive=False)(pk)
            if taken is not None and taken.mine:
                return None
            if taken is not None and taken.live and taken.holder != holding.holder:
                raise _Moved(taken)
            raise _moved_meanwhile()
    finally:
        if not answer.done():
            answer.cancel()


def _lease_now(pk: int) -> lease.Holding | None:
    try:
        return lease.lease_of(pk)
    finally:
        connection.close()


class _Moved(Exception):
    """The process a request was sent to died, and another one took the cluster's lease over (``holding``)."""

    def __init__(self, holding: lease.Holding):
        super().__init__(holding.holder)
        self.holding = holding


def _moved_meanwhile() -> errors.StatusError:
    return errors.StatusError(503, "ServiceUnavailable",
                              "the cluster's engine moved to another server process meanwhile: try again", {})


def _take(pk: int) -> lease.Holding | None:
    """The lease of a cluster whose holder died: taken by this process, or by the least loaded engine process when
    this is a web process."""
    try:
        return lease.lease_take(pk) if settings.KUBEVIZ_ENGINES else lease.place(pk)
    finally:
        connection.close()


def _plain(value):
    """A scope value as the channel layer carries it (tuples as lists)."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _response(answer: dict) -> HttpResponse:
    response = HttpResponse(answer["body"], status=answer["status"])
    del response["Content-Type"]
    for name, value in answer["headers"]:
        name, value = bytes(name), bytes(value)
        if name.lower() == b"set-cookie":
            response.cookies.load(value.decode("latin-1"))
        elif name.lower() not in HOP_BY_HOP:
            response[name.decode("latin-1")] = value.decode("latin-1")
    return response


def notify_clock_changed(holder: str, cluster_name: str) -> None:
    """Tell the process running the cluster's engine that its clock was paused or its speed changed (by a process
    that does not run it: a teacher pausing a class), so that its runs stop as after a change made there."""
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.send)(channel_for(holder), {"type": "engine.clock_changed", "cluster": cluster_name})


def engine_elsewhere(cluster: Cluster) -> str | None:
    """The process running the cluster's engine when that is another live one (None: this one runs it, or may)."""
    holding = lease.lease_of(cluster.pk)
    if holding is None or holding.mine or not holding.live:
        return None
    return holding.holder


async def traces_from(holder: str, cluster_name: str, limit: int) -> list[dict]:
    """The newest ``limit`` traces of the cluster's engine, asked of ``holder``, the process running it (a live
    stream's snapshot opened on another). Awaited on the event loop, blocking no thread; an engine that does not
    answer within the lease time has none to give ([])."""
    layer = get_channel_layer()
    reply = await layer.new_channel()
    await layer.send(channel_for(holder), {"type": "engine.traces", "cluster": cluster_name, "limit": limit,
                                           "reply": reply})
    try:
        answer = await asyncio.wait_for(layer.receive(reply), timeout=settings.KUBEVIZ_LEASE_SECONDS)
    except asyncio.TimeoutError:
        return []
    return answer.get("traces", [])


def _traces_here(name: str, limit: int) -> list[dict]:
    from .host import host

    try:
        cluster = Cluster.objects.filter(name=name).first()
        if cluster is None:
            return []
        with host.lock(name):  # no engine work half-done: every trace read has been published
            records = list(host.engine_for(cluster).traces)[-limit:] if limit > 0 else []
        return [record.as_json() for record in records]
    finally:
        connection.close()


class Listener:
    """Serves the requests other processes forward to this one, as a task of the server's event loop."""

    def __init__(self):
        self._task: asyncio.Task | None = None
        self._app = None

    def ensure_started(self) -> None:
        if self._task is None or self._task.done():
            from django.core.handlers.asgi import ASGIHandler

            self._app = ASGIHandler()
            self._task = asyncio.get_running_loop().create_task(self._run(), name="kubeviz-forwarded")

    async def _run(self) -> None:
        layer = get_channel_layer()
        channel = channel_for(lease.identity())
        while not shutdown.requested():
            try:
                message = await layer.receive(channel)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - a lost connection to Redis: try again shortly
                logger.exception("receiving forwarded requests failed")
                await asyncio.sleep(1)
                continue
            if message.get("type") == "engine.request":
                asyncio.get_running_loop().create_task(self._serve(layer, message))
            elif message.get("type") == "engine.traces":
                asyncio.get_running_loop().create_task(self._traces(layer, message))
            elif message.get("type") == "engine.clock_changed":
                asyncio.get_running_loop().create_task(
                    sync_to_async(_clock_changed_here, thread_sensitive=False)(message["cluster"]))

    async def _traces(self, layer, message: dict) -> None:
        try:
            traces = await sync_to_async(_traces_here, thread_sensitive=False)(message["cluster"], message["limit"])
        except Exception:  # noqa: BLE001 - the asking process must not wait for nothing
            logger.exception("reading the traces of %s for another process failed", message.get("cluster"))
            traces = []
        await layer.send(message["reply"], {"type": "engine.traces", "traces": traces})

    async def _serve(self, layer, message: dict) -> None:
        scope = dict(message["scope"], type="http", asgi={"version": "3.0", "spec_version": "2.3"})
        scope[FORWARDED] = True
        scope["headers"] = [(bytes(k), bytes(v)) for k, v in scope.get("headers", [])]
        for key in ("client", "server"):
            if scope.get(key) is not None:
                scope[key] = tuple(scope[key])
        finished = asyncio.Event()
        body_sent = False
        answer = {"status": 500, "headers": [], "body": b""}
        chunks: list[bytes] = []

        async def receive():
            nonlocal body_sent
            if not body_sent:
                body_sent = True
                return {"type": "http.request", "body": bytes(message.get("body") or b""), "more_body": False}
            await finished.wait()
            return {"type": "http.disconnect"}

        async def send(event):
            if event["type"] == "http.response.start":
                answer["status"] = event["status"]
                answer["headers"] = [[bytes(k), bytes(v)] for k, v in event.get("headers", [])]
            elif event["type"] == "http.response.body":
                chunks.append(event.get("body", b""))
                if not event.get("more_body"):
                    finished.set()

        try:
            await self._app(scope, receive, send)
            answer["body"] = b"".join(chunks)
        except Exception:  # noqa: BLE001 - the sender must get an answer, as a client would
            logger.exception("serving a forwarded %s %s failed", scope.get("method"), scope.get("path"))
            error = errors.internal_error("the server could not handle the request")
            answer = {"status": 500, "headers": [[b"content-type", b"application/json"]],
                      "body": _status_json(error)}
        finally:
            finished.set()
        await layer.send(message["reply"], {"type": "engine.response", **answer})


def _status_json(error: errors.StatusError) -> bytes:
    import json

    return json.dumps(error.status()).encode()


def _clock_changed_here(name: str) -> None:
    from .host import host

    try:
        cluster = Cluster.objects.filter(name=name).first()
        if cluster is not None:
            with host.lock(name):
                host.clock_changed(cluster)
    finally:
        connection.close()


listener = Listener()
