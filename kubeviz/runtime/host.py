"""Hosting engines: one simulation engine per live cluster, inside the server process.

An engine is built on first use from what is stored (a restart rebuilds every timer from the objects: a pod in
the middle of ``sleep 30`` still finishes at the right simulated time) and kept while the process lives.

Engines work in slices. A run (an advance, a step, a player tick) takes the cluster's lock and one database
transaction for at most ``SLICE_SECONDS`` of wall time (an instant with more work than that is cut, and the rest
stays queued for the next slice), commits, and lets both go before the next slice. So the clock controls of the same
cluster, which take the same lock, wait for one slice at most; other clusters' runs and the API's writes take turns
with it at the database (SQLite's writers queue in ``kubeviz.store.backends.sqlite3``, PostgreSQL's on its row
locks). Lock order: a cluster's lock first, then the transaction, everywhere.

Between slices a run looks whether it should stop: a pause or a speed change ends a player tick, a cancel or a
pause ends an advance, a server shutdown ends everything (``shutdown``). What is stored is then the last slice
committed. An advance whose request may not wait for it (``wait``) answers how far it got and goes on in a thread
of its own; the cluster's clock shows where it is heading (``advance_from``, ``advance_target``) until it arrives
or is cancelled.

While a cluster's clock is paused, its clock says what the controllers have waiting (``pending``): the dashboard
tells a learner who applied a Job on a paused clock why nothing happens yet. An engine running in this process
answers from memory, after reading the changes committed since its last run (``Engine.pull``, the first thing its
next run does anyway): the keys queued and the timers already due. An engine that has not started (never built in
this process, or built for a page and not run yet) has nothing in memory, but it will start by listing every object
and queueing each controller's resync of them; its pending work is that resync, computed by a throwaway engine that
lists and queues and is dropped (``resync: true``), once per resourceVersion of the cluster, so clocks read over and
over (a classroom's grid) cost a row read. Reading never builds, starts or runs the cluster's own engine: when it
starts stays where it was, and so does the run.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta

from asgiref.sync import sync_to_async
from django.db import connection, transaction

from controllers.apimachinery.timeutil import format_rfc3339_micro
from controllers.engine import Engine, TraceRecord
from controllers.manager import default_controllers

from apiserver.client import RegistryClient
from kubeviz.store import actor, events
from kubeviz.store.models import Cluster
from kubeviz.recordings import registry as recording
from kubeviz.store.services import engine_registry_for, publish_clock

from . import shutdown

logger = logging.getLogger(__name__)

# The longest single advance a request may ask for (a month of simulated time).
MAX_ADVANCE_SECONDS = 31 * 24 * 3600
# Wall time of one slice: what a clock control of the same cluster waits at most, and a writer of another.
SLICE_SECONDS = 0.05
# While a long run goes on, how often its clock is published to the cluster's watchers (wall seconds); and how
# often at most the player's runs publish it (the page moves its clock on between two readings).
PUBLISH_SECONDS = 0.25

# The longest a playing cluster with nothing due goes without a slice (wall seconds, ``idle``): how far its stored
# clock may lag behind the one the page shows (which moves on between two publications, PUBLISH_SECONDS).
IDLE_SECONDS = PUBLISH_SECONDS

# How many of the pending keys a clock names (it counts them all).
PENDING_ITEMS = 5

# Who a slice's writes are outside any sync: the Events whose TTL runs out (the API server's, in etcd's leases).
EVENT_TTL = actor.system("event TTL")

# Outcomes of a run.
DONE, TIMED_OUT, STOPPED = "done", "timed out", "stopped"


class AdvanceConflict(Exception):
    """An advance was asked for while another of the same cluster goes on in the background."""

    def __init__(self, cluster: Cluster):
        super().__init__(cluster.name)
        self.cluster = cluster


class RunTimedOut(Exception):
    """A run that had to end by a wall-clock deadline did not (``run_to``)."""


class ClusterLock:
    """A cluster's engine lock (re-entrant), which knows whether someone waits for it: a run between two slices
    steps aside for them."""

    def __init__(self):
        self._lock = threading.RLock()
        self._count = threading.Lock()
        self.waiting = 0

    def __enter__(self):
        with self._count:
            self.waiting += 1
        try:
            self._lock.acquire()
        finally:
            with self._count:
                self.waiting -= 1
        return self

    def __exit__(self, *exc):
        self._lock.release()

    @contextmanager
    def if_free(self):
        """Take the lock only if nobody holds it: yields whether it was taken (and is held in the block)."""
        taken = self._lock.acquire(blocking=False)
        try:
            yield taken
        finally:
            if taken:
                self._lock.release()


def _pinning(method):
    """The method runs the cluster's engine here: pinned (``EngineHost.pinned``) from its start to its end."""

    @functools.wraps(method)
    def run(self, cluster: Cluster, *args, **kwargs):
        with self.pinned(cluster.name):
            return method(self, cluster, *args, **kwargs)

    return run


class EngineHost:
    def __init__(self):
        self._engines: dict[str, tuple[str, Engine]] = {}
        # Traces recorded by each engine and not yet kept in the store (a slice keeps them as it ends).
        self._unsaved_traces: dict[str, list[TraceRecord]] = {}
        self._locks: dict[str, ClusterLock] = {}
        self._guard = threading.Lock()
        # Bumped to stop the runs of a cluster under way: ("play", name) by a pause or speed change, ("advance",
        # name) by a cancel or a pause. A run remembers the count it started with.
        self._epochs: dict[tuple[str, str], int] = {}
        # Background advances under way, by cluster: set when each ends.
        self._background: dict[str, threading.Event] = {}
        # The server's event loop (``serve_on``): background advances run as its tasks, in threads of their own.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._executor = ThreadPoolExecutor(thread_name_prefix="kubeviz-advance")
        self._runs = 0
        self._idle = threading.Condition()
        # The pending work of clusters whose engine has not started, by name: (uid, resourceVersion, answer).
        self._resync_pending: dict[str, tuple[str, int, dict]] = {}
        # When each cluster's clock was last published by a run (monotonic).
        self._clock_published: dict[str, float] = {}
        # Several processes on one database: the engine leases (``lease.LeaseGuard``); None with one process.
        self.leases = None
        # How many runs (and replays) of each cluster are under way here, from their request to their end.
        self._pins: dict[str, int] = {}

    def lock(self, name: str) -> ClusterLock:
        with self._guard:
            lock = self._locks.get(name)
            if lock is None:
                lock = self._locks[name] = ClusterLock()
            return lock

    def engine_for(self, cluster: Cluster) -> Engine:
        """The cluster's engine, built (and started from stored state) on first use."""
        with self.lock(cluster.name):
            entry = self._engines.get(cluster.name)
            if entry is not None and entry[0] == str(cluster.uid):
                engine = entry[1]
                engine.client.storage.refresh_clock()
                return engine
            # A copy of its own: the storage counts resourceVersions in its cluster object during a slice, and the
            # caller's may be refreshed from the database meanwhile (a view answering 202 while a background
            # slice runs), which would hand out a resourceVersion twice.
            client = RegistryClient(engine_registry_for(Cluster.objects.get(pk=cluster.pk)))
            engine = Engine(client, default_controllers(), seed=str(cluster.seed), acting=actor.controller_scope)
            engine.resume_traces(client.storage.last_trace_sequence())
            unsaved = self._unsaved_traces[cluster.name] = []
            engine.trace_listeners.append(unsaved.append)
            engine.trace_listeners.append(lambda record, name=cluster.name: _publish_trace(name, record))
            if self.leases is not None:  # its lease's term, taken first, before anything is read
                self.leases.built(cluster, engine)
            for controller, key, data in client.storage.checkpoints():
                engine.restore_memory(controller, _decode_key(key), data)
            self._engines[cluster.name] = (str(cluster.uid), engine)
            return engine

    @contextmanager
    def transaction(self, name: str):
        """A database transaction that may drive the cluster's engine: its lock first, then the transaction, in
        the order every engine run takes them. (A transaction that took the database's write lock and then waited
        for the engine lock would deadlock with a slice holding the engine lock and waiting to write.)"""
        with self.lock(name), transaction.atomic():
            yield

    @contextmanager
    def pinned(self, name: str):
        """The block runs the cluster's engine here (a run, from the request that asked for it; a replay): while
        it goes on, a web process does not give the cluster's lease up (``busy``)."""
        with self._guard:
            self._pins[name] = self._pins.get(name, 0) + 1
        try:
            yield
        finally:
            with self._guard:
                self._pins[name] -= 1
                if not self._pins[name]:
                    del self._pins[name]

    def busy(self) -> set[str]:
        """The clusters whose engine runs here now: a run or a replay under way, or a background advance."""
        with self._guard:
            return set(self._pins) | {name for name, ended in self._background.items() if not ended.is_set()}

    def drop_idle(self, name: str) -> None:
        """Drop the cluster's engine unless it runs now (its lease went to another process)."""
        with self.lock(name):
            if name not in self._pins and not self.advancing(name):
                self.forget(name)

    def forget(self, name: str) -> None:
        """The cluster is gone: its runs stop at their next slice and its engine is dropped."""
        with self.lock(name):
            self._engines.pop(name, None)
            self._unsaved_traces.pop(name, None)
            self._resync_pending.pop(name, None)
            self._clock_published.pop(name, None)
            self._bump("play", name)
            self._bump("advance", name)

    # -- pending work ----------------------------------------------------------------------------------------

    def pending(self, cluster: Cluster) -> dict | None:
        """What the cluster's controllers have waiting while its clock is paused (None while it plays or
        advances): ``{"count", "items": [{"controller", "key", "due"}], "resync"}``, the first ``PENDING_ITEMS``
        in the order a run takes them. Never builds, starts or runs the cluster's engine (module docstring)."""
        if not cluster.paused or cluster.advance_target is not None:
            return None
        if self.leases is not None and not self.leases.mine(cluster):
            return None  # another process runs (or will run) the engine: it knows (GET clock asks it)
        entry = self._engines.get(cluster.name)
        if entry is not None and entry[0] == str(cluster.uid) and entry[1].started:
            with self.lock(cluster.name):
                engine = entry[1]
                engine.pull()
                return _pending_json(engine, resync=False)
        cached = self._resync_pending.get(cluster.name)
        if cached is not None and cached[:2] == (str(cluster.uid), cluster.resource_version):
            return cached[2]
        client = RegistryClient(engine_registry_for(Cluster.objects.get(pk=cluster.pk)))
        throwaway = Engine(client, default_controllers(), seed=str(cluster.seed))
        throwaway.start()
        answer = _pending_json(throwaway, resync=True)
        self._resync_pending[cluster.name] = (str(cluster.uid), client.storage.cluster.resource_version, answer)
        return answer

    def _paused_pending(self, engine: Engine) -> dict | None:
        """The pending work of an engine that just ran a slice, if its cluster is paused (its own copy says)."""
        cluster = engine.client.storage.cluster
        if not cluster.paused or cluster.advance_target is not None:
            return None
        return _pending_json(engine, resync=False)

    # -- stopping runs -----------------------------------------------------------------------------------

    def _epoch(self, what: str, name: str) -> int:
        return self._epochs.get((what, name), 0)

    def _bump(self, what: str, name: str) -> None:
        with self._guard:
            self._epochs[(what, name)] = self._epoch(what, name) + 1

    def clock_changed(self, cluster: Cluster) -> None:
        """A pause or a speed change was stored (call it under ``transaction(name)``): the player tick under way
        stops at its next slice, and a pause stops an advance too."""
        self._bump("play", cluster.name)
        if cluster.paused:
            self._end_advance(cluster)
        if self.leases is not None:  # the engine may run in another process: it is told too
            self.leases.clock_changed(cluster)

    def cancel_advance(self, cluster: Cluster) -> bool:
        """Stop the cluster's background advance at its next slice; answers whether one was going on."""
        with self.lock(cluster.name):
            return self._end_advance(cluster)

    def _end_advance(self, cluster: Cluster) -> bool:
        self._bump("advance", cluster.name)
        ended = cluster.advance_target is not None or self.advancing(cluster.name)
        self._record_advance(cluster, None, None)
        return ended

    def _record_advance(self, cluster: Cluster, start: datetime | None, target: datetime | None) -> None:
        """Store where the cluster's background advance goes (None: nowhere), in the database and in the engine's
        copy of the cluster, whose clock its runs publish."""
        Cluster.objects.filter(pk=cluster.pk).update(advance_from=start, advance_target=target)
        copies = [cluster]
        entry = self._engines.get(cluster.name)
        if entry is not None:
            copies.append(entry[1].client.storage.cluster)
        for copy in copies:
            copy.advance_from, copy.advance_target = start, target

    def advancing(self, name: str) -> bool:
        ended = self._background.get(name)
        return ended is not None and not ended.is_set()

    def serve_on(self, loop: asyncio.AbstractEventLoop) -> None:
        """Run background advances as tasks of the server's event loop (so what they publish goes through it,
        as a request's does). Without one (a management command, a test) they run in plain threads."""
        self._loop = loop

    # -- running -----------------------------------------------------------------------------------------

    @_pinning
    def advance(self, cluster: Cluster, seconds: float, *, wait: float | None = None) -> str:
        """Process every event due in the next ``seconds`` of simulated time, deterministically; answers DONE.

        With ``wait`` (wall seconds), a run not done by then answers TIMED_OUT and goes on in the background
        (``cluster.advance_target``), and one stopped meanwhile (a pause, a cancel) answers STOPPED."""
        with self.lock(cluster.name):
            if self.advancing(cluster.name):
                raise AdvanceConflict(cluster)
            engine = self.engine_for(cluster)
            start, target = engine.now, engine.now + timedelta(seconds=seconds)
            epoch = self._epoch("advance", cluster.name)
        if wait is None:
            return self._run(cluster.name, target)
        outcome = self._run(cluster.name, target, deadline=time.monotonic() + wait, stop_on=("advance", epoch))
        if outcome == TIMED_OUT:
            self._continue_in_background(cluster, start, target, epoch)
        return outcome

    @_pinning
    def play(self, cluster: Cluster, wall_seconds: float, *, budget: float) -> str:
        """Advance a playing cluster by ``wall_seconds`` times its speed, for at most ``budget`` wall seconds;
        nothing if it was paused meanwhile, and no slice after a pause or speed change was answered."""
        # Under the lock: a pause either committed before (and is read here) or comes after (and moves the epoch).
        with self.lock(cluster.name):
            epoch = self._epoch("play", cluster.name)
            engine = self.engine_for(cluster)  # its copy of the cluster read again
            clock = engine.client.storage.cluster
            if clock.paused:
                return STOPPED
            target = engine.now + timedelta(seconds=wall_seconds * clock.speed)
        return self._run(cluster.name, target, deadline=time.monotonic() + budget, stop_on=("play", epoch),
                         clock_every=PUBLISH_SECONDS)

    def idle(self, cluster: Cluster, wall_seconds: float) -> bool:
        """Whether the player may leave a playing cluster for this tick: its engine has nothing to do in the next
        ``wall_seconds`` times its speed (nothing queued, no timer due), nobody wrote to the cluster since its last
        slice (``cluster`` was read this tick: its resourceVersion is still the engine's), and its stored clock
        moved less than ``IDLE_SECONDS`` ago. Such a slice would only move the clock: the next one moves it as
        far, and every run cut into slices does what one uncut run does. Reads only what is in memory, under the
        cluster's lock if it is free (one held means a run or a request is at it: not idle)."""
        if wall_seconds >= IDLE_SECONDS or cluster.advance_target is not None:
            return False
        entry = self._engines.get(cluster.name)
        if entry is None or entry[0] != str(cluster.uid):
            return False
        engine = entry[1]
        with self.lock(cluster.name).if_free() as free:
            if not free:
                return False
            stored = engine.client.storage.cluster
            if (cluster.resource_version, cluster.speed) != (stored.resource_version, stored.speed) \
                    or not engine.settled():
                return False
            due = engine.next_due()
            return due is None or due > engine.now + timedelta(seconds=wall_seconds * cluster.speed)

    @_pinning
    def step(self, cluster: Cluster) -> Engine:
        """Finish the current instant, then jump to the next due event and process it."""
        with self.lock(cluster.name):
            engine = self.engine_for(cluster)
            now = engine.now
        self._run(cluster.name, now)
        with self.lock(cluster.name):
            due = engine.next_due()
        if due is not None:
            self._run(cluster.name, max(due, engine.now))
        return engine

    @_pinning
    def run_to(self, cluster: Cluster, target: datetime, *, until=None, deadline: float | None = None) -> Engine:
        """Run the cluster's engine towards ``target`` until ``until(engine)`` holds (asked after each sync and
        before the run starts) or the run gets there: a replay puts its engine at a recorded position this way
        (``kubeviz.recordings.replay``). Answers the engine; raises ``RunTimedOut`` past ``deadline`` (monotonic)."""
        with self.lock(cluster.name):
            engine = self.engine_for(cluster)
            if until is not None and until(engine):
                return engine
        if self._run(cluster.name, target, until=until, deadline=deadline) == TIMED_OUT:
            raise RunTimedOut(cluster.name)
        return engine

    def restart_engine(self, cluster: Cluster) -> None:
        """Drop the cluster's engine: the next run builds it afresh from what is stored, as a new server process
        would (a replay of a recorded restart)."""
        with self.lock(cluster.name):
            self._engines.pop(cluster.name, None)

    def _run(self, name: str, target: datetime, *, deadline: float | None = None,
             stop_on: tuple[str, int] | None = None, until=None, clock_every: float = 0.0) -> str:
        """Run the cluster's engine to ``target`` in slices, one transaction each; answers DONE, TIMED_OUT (past
        ``deadline``, a monotonic time) or STOPPED (the epoch ``stop_on`` moved on, or the engine was forgotten).
        ``until(engine)``, asked after each sync, ends the run early with DONE (``run_to``). The clock is published
        when the run is done, unless a run of the cluster published it less than ``clock_every`` wall seconds ago,
        and every PUBLISH_SECONDS meanwhile."""
        last_published = self._clock_published.get(name, 0.0) if clock_every else time.monotonic()

        def stopped() -> bool:
            return stop_on is not None and self._epoch(stop_on[0], name) != stop_on[1]

        with self._counted(), self.pinned(name):
            while True:
                shutdown.raise_if_requested()
                lock = self.lock(name)
                with lock:
                    entry = self._engines.get(name)
                    if entry is None or stopped():
                        return STOPPED
                    engine = entry[1]
                    storage = engine.client.storage
                    slice_end = time.monotonic() + SLICE_SECONDS

                    def stop() -> bool:  # asked after each sync
                        return (time.monotonic() >= slice_end or shutdown.requested() or stopped()
                                or (until is not None and until(engine)))

                    with events.collected(), transaction.atomic():
                        version = None  # sole_writer takes the cluster's lock; with leases, lock_if_held did
                        if self.leases is not None:
                            version = self.leases.lock_if_held(engine)
                            if version is None:
                                self._engines.pop(name, None)  # another process took the cluster over
                                return STOPPED
                        with storage.sole_writer(version=version), actor.acting_as(EVENT_TTL):
                            done = self._slice(name, engine, target, stop)
                        since = time.monotonic() - last_published
                        if (done and since >= clock_every) or since >= PUBLISH_SECONDS:
                            publish_clock(storage.cluster, pending=self._paused_pending(engine) if done else None)
                            last_published = self._clock_published[name] = time.monotonic()
                if done or (until is not None and until(engine)):
                    return DONE
                if deadline is not None and time.monotonic() >= deadline:
                    return TIMED_OUT
                if lock.waiting:
                    time.sleep(0.001)  # a clock control (or a reader) waits: its turn first

    def _slice(self, name: str, engine: Engine, target: datetime, stop) -> bool:
        """One slice's work, inside its transaction with the cluster's lock: answers whether the engine got to
        ``target``."""
        storage = engine.client.storage
        recording.before_slice(storage.cluster, engine)
        done = engine.run_until(target, stop=stop)
        _save_checkpoints(engine)
        self._save_traces(name, storage)
        recording.after_slice(storage.cluster, engine)
        return done

    def _save_traces(self, name: str, storage) -> None:
        """Keep the traces the slice recorded, in one batch inside its transaction."""
        unsaved = self._unsaved_traces.get(name)
        if unsaved:
            storage.record_traces(unsaved)
            unsaved.clear()

    def _continue_in_background(self, cluster: Cluster, start: datetime, target: datetime, epoch: int) -> None:
        with self.lock(cluster.name):
            if self._epoch("advance", cluster.name) != epoch:
                return
            if self.advancing(cluster.name):  # two requests' waits ran out together: the first one goes on
                raise AdvanceConflict(cluster)
            self._record_advance(cluster, start, target)
            ended = self._background[cluster.name] = threading.Event()
            run = (cluster, target, epoch, ended)
            if self._loop is not None and self._loop.is_running():
                work = sync_to_async(self._background_run, thread_sensitive=False, executor=self._executor)
                asyncio.run_coroutine_threadsafe(work(*run), self._loop)
            else:
                threading.Thread(target=self._background_run, args=run, daemon=True,
                                 name=f"kubeviz-advance-{cluster.name}").start()

    def _background_run(self, cluster: Cluster, target: datetime, epoch: int, ended: threading.Event) -> None:
        try:
            outcome = self._run(cluster.name, target, stop_on=("advance", epoch))
            if outcome == DONE:
                with self.lock(cluster.name), transaction.atomic():
                    if self._epoch("advance", cluster.name) == epoch:
                        self._record_advance(cluster, None, None)
                        cluster.refresh_from_db()
                        publish_clock(cluster, pending=self.pending(cluster))
        except shutdown.ShuttingDown:
            pass  # the advance stays recorded: the next server process goes on with it (resume_advances)
        except Exception:  # noqa: BLE001 - a thread's error has nobody to answer it
            logger.exception("background advance of %s failed", cluster.name)
            with self.lock(cluster.name):  # the clock must not go on showing an advance nobody runs
                if self._epoch("advance", cluster.name) == epoch:
                    self._record_advance(cluster, None, None)
        finally:
            ended.set()
            with self._guard:
                if self._background.get(cluster.name) is ended:
                    del self._background[cluster.name]
            connection.close()

    def resume_advances(self) -> None:
        """Go on with the background advances recorded by a server process that stopped before they finished."""
        for cluster in Cluster.objects.filter(advance_target__isnull=False):
            if self.leases is None or self.leases.mine(cluster):  # with leases, only those of this process
                self.resume_advance(cluster)

    def resume_advance(self, cluster: Cluster) -> None:
        """Go on with the cluster's recorded background advance, if it has one and it is not going on here."""
        with self.lock(cluster.name):  # not while a request of this process is starting one
            cluster.refresh_from_db()
            if cluster.advance_target is None or self.advancing(cluster.name):
                return
            self.engine_for(cluster)
            epoch = self._epoch("advance", cluster.name)
            self._continue_in_background(cluster, cluster.advance_from or cluster.sim_now,
                                         cluster.advance_target, epoch)

    # -- shutdown ----------------------------------------------------------------------------------------

    @contextmanager
    def _counted(self):
        with self._idle:
            self._runs += 1
        try:
            yield
        finally:
            with self._idle:
                self._runs -= 1
                self._idle.notify_all()

    def wait_until_idle(self, timeout: float | None = None) -> bool:
        """Wait until no run is under way (after ``shutdown.request()`` each stops at its next slice)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._runs == 0, timeout)


def _encode_key(key) -> str:
    return "/".join(key) if isinstance(key, tuple) else str(key)


def _decode_key(text: str):
    namespace, _, name = text.partition("/")
    return (namespace, name) if name else text


def _pending_json(engine: Engine, *, resync: bool) -> dict:
    count, items = engine.pending(PENDING_ITEMS)
    return {
        "count": count,
        "items": [{"controller": controller, "key": _encode_key(key), "due": format_rfc3339_micro(due)}
                  for controller, key, due in items],
        "resync": resync,
    }


def _save_checkpoints(engine: Engine) -> None:
    """Write the checkpointed memories that changed, inside the slice's transaction."""
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
