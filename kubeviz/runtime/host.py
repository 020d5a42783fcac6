"""Hosting engines: one simulation engine per live cluster, inside the server process.

An engine is built on first use from what is stored (a restart rebuilds every timer from the objects: a pod in
the middle of ``sleep 30`` still finishes at the right simulated time) and kept while the process lives. All
engine work of a process happens under one lock and each simulated instant is written in one transaction, so the
API's writes and the engine's never interleave half-way, and a run stops between two instants when the server shuts
down (``shutdown``). Reconcile traces are kept by the engine and published to the cluster's channel group.
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.db import transaction

from controllers.engine import Engine, TraceRecord
from controllers.manager import default_controllers

from apiserver.client import RegistryClient
from kubeviz.store import events
from kubeviz.store.models import Cluster
from kubeviz.store.services import publish_clock, registry_for

from . import shutdown

logger = logging.getLogger(__name__)

# The longest single advance a request may ask for (a month of simulated time).
MAX_ADVANCE_SECONDS = 31 * 24 * 3600


class EngineHost:
    def __init__(self):
        self._engines: dict[str, tuple[str, Engine]] = {}
        self.lock = threading.RLock()

    def engine_for(self, cluster: Cluster) -> Engine:
        """The cluster's engine, built (and started from stored state) on first use."""
        with self.lock:
            entry = self._engines.get(cluster.name)
            if entry is not None and entry[0] == str(cluster.uid):
                engine = entry[1]
                engine.client.storage.cluster.refresh_from_db()
                return engine
            client = RegistryClient(registry_for(cluster))
            engine = Engine(client, default_controllers(), seed=str(cluster.seed))
            engine.trace_listeners.append(lambda record, name=cluster.name: _publish_trace(name, record))
            for controller, key, data in client.storage.checkpoints():
                engine.restore_memory(controller, _decode_key(key), data)
            self._engines[cluster.name] = (str(cluster.uid), engine)
            return engine

    @contextmanager
    def transaction(self):
        """A database transaction that may drive engines: the engine lock first, then the transaction, in the
        order every engine run takes them. (A transaction that took SQLite's write lock and then waited for the
        engine lock would deadlock with a player tick holding the engine lock and waiting to write.)"""
        with self.lock, transaction.atomic():
            yield

    def forget(self, name: str) -> None:
        with self.lock:
            self._engines.pop(name, None)

    def advance(self, cluster: Cluster, seconds: float) -> Engine:
        """Process every event due in the next ``seconds`` of simulated time, deterministically."""
        with self.lock:
            engine = self.engine_for(cluster)
            target = engine.now + timedelta(seconds=seconds)
            self._run(engine, target)
            return engine

    def play(self, cluster: Cluster, wall_seconds: float) -> None:
        """Advance a playing cluster by ``wall_seconds`` times its speed; nothing if it was paused meanwhile
        (checked under the lock that clock changes take, so no tick runs after a pause was answered)."""
        with self.lock:
            cluster.refresh_from_db(fields=["paused", "speed"])
            if cluster.paused:
                return
            self.advance(cluster, wall_seconds * cluster.speed)

    def step(self, cluster: Cluster) -> Engine:
        """Jump to the next due event and process it."""
        with self.lock:
            engine = self.engine_for(cluster)
            self._run(engine, engine.now)
            due = engine.next_event_time()
            if due is not None:
                self._run(engine, max(due, engine.now))
            return engine

    def _run(self, engine: Engine, target: datetime) -> None:
        # One transaction per simulated instant: a long fast-forward commits as it goes, so watchers see it
        # happen and a crash loses at most one instant. What an instant publishes goes out in one batch. A server
        # shutdown ends the run before its next instant (ShuttingDown): the clock stays at the last one committed.
        storage = engine.client.storage
        shutdown.raise_if_requested()
        with events.collected(), transaction.atomic(), storage.sole_writer():
            engine.drain()
            _save_checkpoints(engine)
        while True:
            due = engine.next_due()
            if due is None or due > target:
                break
            shutdown.raise_if_requested()
            with events.collected(), transaction.atomic(), storage.sole_writer():
                engine.run_until(due)
                _save_checkpoints(engine)
        with events.collected(), transaction.atomic(), storage.sole_writer():
            engine.run_until(target)
            _save_checkpoints(engine)
            publish_clock(storage.cluster)


def _encode_key(key) -> str:
    return "/".join(key) if isinstance(key, tuple) else str(key)


def _decode_key(text: str):
    namespace, _, name = text.partition("/")
    return (namespace, name) if name else text


def _save_checkpoints(engine: Engine) -> None:
    """Write the checkpointed memories that changed, inside the instant's transaction."""
    if not engine.dirty_checkpoints:
        return
    storage = engine.client.storage
    for controller, key in sorted(engine.dirty_checkpoints, key=repr):
        storage.save_checkpoint(controller, _encode_key(key), engine.memory.get((controller, key)))
    engine.dirty_checkpoints.clear()


def _publish_trace(cluster_name: str, record: TraceRecord) -> None:
    message = {"type": "trace.recorded", "trace": record.as_json()}
    transaction.on_commit(lambda: events.publish(cluster_name, message))


host = EngineHost()
