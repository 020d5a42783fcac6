"""Django's HTTP requests on long-lived threads, each request's sync code in one call.

Django's ASGI handler (the plain path, ``django.core.handlers.asgi.ASGIHandler``) gives every request a thread made
for it (asgiref's ``ThreadSensitiveContext``), and hops between the event loop and that thread twice for every
middleware (``process_request``, ``process_response``) and once more for the view. A new thread opens a database
connection of its own, which is closed when the request ends. At a class's 90 requests a second, starting threads,
connecting to SQLite and the hops cost the event loop more than the views themselves.

``PooledASGIHandler`` is that handler with two changes, and nothing else:

- a request borrows a thread from ``RequestThreads`` for its whole life (every thread-sensitive call of the request
  runs there, as on its own thread before) and gives it back; the thread keeps its database connection between
  requests (``CONN_MAX_AGE``: Django's own ``request_started`` and ``request_finished`` checks run in that thread and
  close a connection that is too old or broken). At most ``IDLE_THREADS`` wait for the next request; a request that
  finds none idle gets a new one, and one given back beyond that closes its connection and ends.
- the middleware chain and the view run synchronously in one call on that thread (the chain Django builds for WSGI:
  every middleware here can run sync), instead of a hop per middleware. An async view (the console) is run
  through ``async_to_sync`` on the event loop by Django, as under WSGI.

Responses are sent by Django's code as before, streaming ones (watches) included. ``tests/test_serving.py`` runs
the same requests through both handlers and compares the answers.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler
from django.db import connections

# Threads kept waiting for requests: about as many as requests run at once under load (a class of 30 polling).
IDLE_THREADS = 32


class RequestThreads:
    """Single-thread executors lent to requests, the most recently returned first (its connection is warm)."""

    def __init__(self, idle: int = IDLE_THREADS):
        self.idle = idle
        self._lock = threading.Lock()
        self._waiting: list[ThreadPoolExecutor] = []
        self.made = 0

    def take(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._waiting:
                return self._waiting.pop()
            self.made += 1
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="kubeviz-request")

    def give_back(self, executor: ThreadPoolExecutor) -> None:
        with self._lock:
            if len(self._waiting) < self.idle:
                self._waiting.append(executor)
                return
        executor.submit(connections.close_all)  # in the thread whose connections they are
        executor.shutdown(wait=False)

    def close(self) -> None:
        """End every waiting thread, closing its connections first."""
        with self._lock:
            waiting, self._waiting = self._waiting, []
        for executor in waiting:
            executor.submit(connections.close_all)
            executor.shutdown(wait=True)


class PooledASGIHandler(ASGIHandler):
    """Django's ASGI handler serving each request on a borrowed thread, its middleware and view in one call."""

    def __init__(self, threads: RequestThreads | None = None):
        base.BaseHandler.__init__(self)
        self.load_middleware(is_async=False)
        self.threads = threads or RequestThreads()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError("Django can only handle ASGI/HTTP connections, not %s." % scope["type"])
        executor = self.threads.take()
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        finally:
            self.threads.give_back(executor)

    async def get_response_async(self, request):
        # The sync chain (BaseHandler.get_response: URLconf, middleware, view, logging) on the request's thread.
        return await sync_to_async(self.get_response)(request)
