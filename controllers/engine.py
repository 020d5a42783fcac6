"""The simulation engine: one cluster's clock, informer cache, work queue and controllers.

The engine is the simulated control plane's controller-manager, scheduler and kubelets in one deterministic loop:

1. ``pull`` reads every committed change from the API server after the last resourceVersion it saw and feeds the cache;
   each controller's handler turns a change into keys on the work queue (``enqueue``).
2. ``drain`` syncs queued keys one at a time: a controller returns a plan (``SyncResult``) and the engine applies
   it through the client (status first, then actions), records its trace, keeps its memory, and schedules its
   requeue on the timer heap. After each plan the engine pulls again, so its own writes, the API server's garbage
   collection and every learner's write are seen in the order they happened. Each action type has one handler,
   listed in ``ACTION_HANDLERS``; Events go through the event recorder (``controllers.recorder``), which also
   expires them after the API server's Event TTL.
3. ``run_until`` moves simulated time from timer to timer, draining at each instant, until the target time.

Same seed, same inputs, same run: keys are processed in FIFO order, caches list in name order, and every random
choice comes from a string seed.
"""

from __future__ import annotations

import logging
from collections import deque
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, ContextManager, Hashable, Iterable, Protocol

from .apimachinery.timeutil import format_rfc3339_micro
from .cache import Cache
from .clock import TimerHeap, after
from .plan import (
    Action, AddNodeImage, AppendLog, BindPod, CreateObject, DeleteObject, EmitEvent, PatchObject, SyncResult, Trace,
)
from .recorder import EventRecorder
from .client import Client, ClientError, HistoryGone, LogEntry, WatchEvent
from .workqueue import WorkQueue

logger = logging.getLogger(__name__)

#: The kinds the controller manager keeps informers for (upstream starts one per type its controllers use): what
#: ``start`` lists and the informer cache holds. Each is a kind of the API's resource table
#: (``apiserver.kinds``; a test checks it), which this pure package does not import.
INFORMER_KINDS = ("Namespace", "Node", "Pod", "ResourceQuota", "Job", "CronJob", "DaemonSet", "ControllerRevision",
                  "Event", "Lease")

# A sync loop that never settles at one instant is a bug; stop it rather than hang the server.
MAX_SYNCS_PER_INSTANT = 200_000


class Controller(Protocol):
    name: str

    def keys_for_change(self, change: WatchEvent, old: dict | None, engine: "Engine") -> Iterable[Hashable]:
        """Keys to sync because of a change (the informer event handlers)."""

    def initial_keys(self, engine: "Engine") -> Iterable[Hashable]:
        """Keys to sync when the engine starts (a full resync)."""

    def sync(self, key: Hashable, engine: "Engine", memory) -> SyncResult | None:
        """One reconcile of ``key``: a plan, or None when there is nothing to do."""

    # Optional: ``rate_limiter = (base, max)`` seconds, the controller's own ItemExponentialFailureRateLimiter
    # for keys whose sync failed (the default controller rate limiter's 5 ms to 1000 s otherwise).


@dataclass
class TraceRecord:
    """A reconcile trace with the simulated time it happened at."""

    time: datetime
    trace: Trace
    sequence: int

    def as_json(self) -> dict:
        return {
            "time": format_rfc3339_micro(self.time),
            "sequence": self.sequence,
            "controller": self.trace.controller,
            "object": self.trace.object_key,
            "trigger": self.trace.trigger,
            "observed": self.trace.observed,
            "decision": self.trace.decision,
            "actions": list(self.trace.actions),
        }


@dataclass
class Engine:
    client: Client
    controllers: list = field(default_factory=list)
    seed: str = "0"
    trace_history: int = 2000
    #: Entered around applying each plan with the controller's name (as its trace says) and the sequence its trace
    #: gets: the host tells the store whose writes these are (``kubeviz.store.actor``).
    acting: Callable[[str, int], ContextManager] | None = None

    def __post_init__(self):
        self.cache = Cache()
        self.queue = WorkQueue()
        self.timers = TimerHeap()
        self.memory: dict[Hashable, object] = {}
        self.traces: deque[TraceRecord] = deque(maxlen=self.trace_history)
        self.trace_listeners: list[Callable[[TraceRecord], None]] = []
        self.last_seen_rv = 0
        self._by_name = {c.name: c for c in self.controllers}
        self._trace_seq = 0
        # client-go's event recorder and, standing in for the API server, the Event TTL
        self.recorder = EventRecorder(self.client)
        # slow start within one plan: the batch of the create that failed (later batches are skipped)
        self._failed_batch: int | None = None
        self.syncs = 0
        self.started = False
        # syncs run at the current instant (a loop that never settles is cut off at MAX_SYNCS_PER_INSTANT)
        self._instant: datetime | None = None
        self._instant_syncs = 0
        # Memories of controllers marked ``checkpoint = True`` that changed since the host last saved them.
        self.dirty_checkpoints: set[tuple[str, Hashable]] = set()

    # -- time ------------------------------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        return self.client.now()

    def next_event_time(self) -> datetime | None:
        """When something is due next (None: nothing will ever happen without an outside change)."""
        if len(self.queue):
            return self.now
        return self.next_due()

    def next_due(self) -> datetime | None:
        """The next timer or Event expiry (None: none)."""
        due = self.timers.next_time()
        expiry = self.recorder.next_expiry()
        if expiry is not None and (due is None or expiry < due):
            return expiry
        return due

    # -- informer --------------------------------------------------------------------------------------

    def start(self) -> None:
        """List everything, then queue every controller's keys: a fresh controller-manager's first resync."""
        self.last_seen_rv = self.client.resource_version()
        for kind in INFORMER_KINDS:
            for obj in self.client.list(kind):
                self.cache.apply_change("ADDED", kind, obj)
        self.recorder.relist(self.cache.list("Event"))
        for controller in self.controllers:
            for key in controller.initial_keys(self):
                self.enqueue(controller.name, key)
        self.started = True

    def pull(self) -> int:
        """Feed the cache every change committed since the last pull; answers how many there were."""
        try:
            changes = self.client.changes_since(self.last_seen_rv)
        except HistoryGone:
            logger.warning("change history compacted past rv %s: relisting", self.last_seen_rv)
            self.cache = Cache()
            self.start()
            return 0
        for change in changes:
            old = self.cache.apply_change(change.type, change.kind, change.object)
            self.last_seen_rv = max(self.last_seen_rv, change.resource_version)
            if change.kind == "Event":
                self.recorder.observe(change, self.now)
            for controller in self.controllers:
                for key in controller.keys_for_change(change, old, self):
                    self.enqueue(controller.name, key)
        return len(changes)

    def forget_memory(self, controller: str, key: Hashable) -> None:
        memory_key = (controller, key)
        if self.memory.pop(memory_key, None) is not None and getattr(self._by_name[controller], "checkpoint", False):
            self.dirty_checkpoints.add(memory_key)

    def restore_memory(self, controller: str, key: Hashable, memory) -> None:
        """Hand back a checkpointed memory (before ``start``, after a restart)."""
        self.memory[(controller, key)] = memory

    def enqueue(self, controller: str, key: Hashable) -> None:
        self.queue.add((controller, key))

    def enqueue_after(self, controller: str, key: Hashable, seconds: float) -> None:
        if seconds <= 0:
            self.enqueue(controller, key)
        else:
            self.timers.schedule(after(self.now, seconds), (controller, key))

    # -- the loop --------------------------------------------------------------------------------------

    def drain(self, stop: Callable[[], bool] | None = None) -> int:
        """Sync queued keys until the queue is empty at this instant; answers how many syncs ran. ``stop``, asked
        after each sync, may end the drain early: the rest stays queued for the next call."""
        if not self.started:
            self.start()
        self.pull()
        if self.recorder.expire(self.now):
            self.pull()
        if self.now != self._instant:
            self._instant, self._instant_syncs = self.now, 0
        done = 0
        while len(self.queue):
            if self._instant_syncs >= MAX_SYNCS_PER_INSTANT:
                logger.error("engine did not settle at %s after %s syncs; leaving the rest queued", self.now,
                             self._instant_syncs)
                break
            controller_name, key = self.queue.pop()
            self._sync(controller_name, key)
            done += 1
            self._instant_syncs += 1
            self.pull()
            if stop is not None and stop():
                break
        self.syncs += done
        return done

    def settled(self) -> bool:
        """Whether nothing is left to sync at this instant (or the instant gave up: ``MAX_SYNCS_PER_INSTANT``)."""
        return not len(self.queue) or (self._instant == self.now and self._instant_syncs >= MAX_SYNCS_PER_INSTANT)

    def run_until(self, target: datetime, stop: Callable[[], bool] | None = None) -> bool:
        """Process everything due up to ``target``, in time order, then leave the clock at ``target``.

        ``stop``, asked after each sync, may end the run early (the host runs a long advance in slices this way);
        answers whether the run got to ``target``. Calling again goes on where it stopped, so a run cut into any
        number of slices does exactly what one uncut run does."""
        self.drain(stop)
        if not self.settled():
            return False
        moved = False
        while True:
            due = self.next_due()
            if due is None or due > target:
                break
            if moved and stop is not None and stop():
                return False
            if due > self.now:
                self.client.set_now(due)
            for key in self.timers.pop_due(due):
                self.queue.add(key)
            moved = True
            self.drain(stop)
            if not self.settled():
                return False
        if target > self.now:
            self.client.set_now(target)
        self.drain(stop)
        return self.settled()

    def advance(self, seconds: float) -> None:
        self.run_until(self.now + timedelta(seconds=seconds))

    def step(self) -> datetime | None:
        """Jump to the next due event and process it (fast-forward by one event); answers the new time."""
        self.drain()
        due = self.next_due()
        if due is None:
            return None
        self.run_until(max(due, self.now))
        return self.now

    def _sync(self, controller_name: str, key: Hashable) -> None:
        controller = self._by_name[controller_name]
        memory_key = (controller_name, key)
        try:
            result = controller.sync(key, self, self.memory.get(memory_key))
        except ClientError as error:
            delay = self._rate_limit_delay(controller, memory_key)
            logger.info("%s %s: %s; retrying in %.3fs", controller_name, key, error.message, delay)
            self.enqueue_after(controller_name, key, delay)
            return
        if result is None:
            self.queue.forget(memory_key)
            return
        if result.memory is None:
            self.forget_memory(controller_name, key)
        elif self.memory.get(memory_key) != result.memory:
            self.memory[memory_key] = result.memory
            if getattr(controller, "checkpoint", False):
                self.dirty_checkpoints.add(memory_key)
        with self.acting(result.trace.controller, self._trace_seq + 1) if self.acting else _NOT_ACTING:
            failed = self.apply(result, controller_name, key)
        self._record_trace(result.trace)
        if failed:
            self.enqueue_after(controller_name, key, self._rate_limit_delay(controller, memory_key))
        else:
            self.queue.forget(memory_key)
            if result.requeue_after is not None:
                self.enqueue_after(controller_name, key, result.requeue_after)

    def _rate_limit_delay(self, controller, memory_key) -> float:
        limiter = getattr(controller, "rate_limiter", None)
        if limiter is None:
            return self.queue.rate_limit_delay(memory_key)
        return self.queue.rate_limit_delay(memory_key, *limiter)

    # -- applying plans --------------------------------------------------------------------------------

    def apply(self, result: SyncResult, controller_name: str, key: Hashable) -> bool:
        """Apply a plan: status first (after the creates it counts), then each action in order by its handler in
        ``ACTION_HANDLERS``. Answers whether anything failed."""
        failed = False
        self._failed_batch = None
        actions = result.actions
        status = result.status
        counted = [a for a in actions if isinstance(a, CreateObject) and a.counted_in_status] \
            if status is not None else []
        if counted:
            # manageJob creates, then syncJob writes a status that counts only the pods it got
            uncreated: dict[str, int] = {}
            for action in counted:
                created, action_failed = self._create(action)
                failed = failed or action_failed
                if not created:
                    uncreated[action.counted_in_status] = uncreated.get(action.counted_in_status, 0) + 1
            status = dict(status)
            for counter, missing in uncreated.items():
                status[counter] = max(int(status.get(counter) or 0) - missing, 0)
            actions = tuple(a for a in actions if not (isinstance(a, CreateObject) and a.counted_in_status))
        if status is not None:
            subject = self._subject_of(controller_name, key)
            if subject is not None:
                obj = dict(subject[1], status=status)
                try:
                    self.client.update_status(obj)
                except ClientError as error:
                    if not error.not_found:
                        failed = True
        for action in actions:
            handler = ACTION_HANDLERS.get(type(action))
            if handler is None:
                raise TypeError(f"the engine has no handler for {type(action).__name__}: add one to ACTION_HANDLERS")
            if handler(self, action):
                failed = True
        return failed

    def _subject_of(self, controller_name: str, key: Hashable) -> tuple[str, dict] | None:
        controller = self._by_name[controller_name]
        subject = getattr(controller, "subject", None)
        if subject is None:
            return None
        return subject(key, self)

    # Each handler applies one action and answers whether it failed. NotFound is not a failure: the object is
    # already gone, and the next sync sees that.

    def apply_create_object(self, action: CreateObject) -> bool:
        return self._create(action)[1]

    def _create(self, action: CreateObject) -> tuple[bool, bool]:
        """Create (unless slow start skips it); answers (created, failed)."""
        if self._failed_batch is not None and action.batch > self._failed_batch:
            return False, False  # slow start: a create of an earlier batch of this plan failed
        try:
            created = self.client.create(action.obj)
        except ClientError as error:
            self._failed_batch = action.batch
            if action.failure_event is not None:
                self.record_event(action.failure_event.bind(error=error.message))
            return False, True
        if action.success_event is not None:
            self.record_event(action.success_event.bind(name=created["metadata"]["name"]))
        return True, False

    def apply_delete_object(self, action: DeleteObject) -> bool:
        try:
            self.client.delete(
                action.kind, action.namespace, action.name, uid=action.uid,
                propagation_policy=action.propagation_policy,
                grace_period_seconds=action.grace_period_seconds,
            )
        except ClientError as error:
            if error.not_found:
                return False  # like upstream's RealPodControl: nothing to say about an object already gone
            if action.failure_event is not None:
                self.record_event(action.failure_event.bind(error=error.message))
            return True
        if action.success_event is not None:
            self.record_event(action.success_event)
        return False

    def apply_patch_object(self, action: PatchObject) -> bool:
        try:
            self.client.patch(action.kind, action.namespace, action.name, action.patch, action.patch_type,
                             subresource=action.subresource)
        except ClientError as error:
            return not error.not_found
        return False

    def apply_emit_event(self, action: EmitEvent) -> bool:
        self.record_event(action)
        return False

    def apply_bind_pod(self, action: BindPod) -> bool:
        try:
            self.client.bind(action.namespace, action.name, action.uid, action.node)
        except ClientError as error:
            if action.failure_event is not None:
                self.record_event(action.failure_event.bind(error=error.message))
            return not error.not_found
        if action.success_event is not None:
            self.record_event(action.success_event)
        return False

    def apply_append_log(self, action: AppendLog) -> bool:
        try:
            self.client.append_log(
                LogEntry(action.namespace, action.pod, action.uid, action.container, action.restart_count,
                         tuple(action.lines))
            )
        except ClientError as error:
            return not error.not_found
        return False

    def apply_add_node_image(self, action: AddNodeImage) -> bool:
        node = self.cache.get("Node", "", action.node)
        if node is None:
            return False
        images = list((node.get("status") or {}).get("images") or [])
        if any(action.image in (entry.get("names") or ()) for entry in images):
            return False
        entry = {"names": [action.image, *action.extra_names], "sizeBytes": action.size_bytes}
        try:
            self.client.update_status(dict(node, status=dict(node.get("status") or {}, images=images + [entry])))
            self.pull()  # the next image of this plan for the same node reads this one from the cache
        except ClientError as error:
            return not error.not_found
        return False

    # -- events and traces -----------------------------------------------------------------------------

    def record_event(self, event: EmitEvent) -> None:
        """Write a core/v1 Event now, through the event recorder (repeats are counted on one Event)."""
        self.recorder.record(event, self.now)

    def resume_traces(self, sequence: int) -> None:
        """Number the next trace after ``sequence`` (a restarted engine goes on from the traces kept)."""
        self._trace_seq = max(self._trace_seq, sequence)

    def _record_trace(self, trace: Trace) -> None:
        self._trace_seq += 1
        record = TraceRecord(self.now, trace, self._trace_seq)
        self.traces.append(record)
        for listener in self.trace_listeners:
            listener(record)


_NOT_ACTING = nullcontext()

#: Every action type of ``controllers.plan`` and the one Engine method that applies it.
ACTION_HANDLERS: dict[type[Action], Callable[[Engine, Action], bool]] = {
    CreateObject: Engine.apply_create_object,
    DeleteObject: Engine.apply_delete_object,
    PatchObject: Engine.apply_patch_object,
    EmitEvent: Engine.apply_emit_event,
    BindPod: Engine.apply_bind_pod,
    AppendLog: Engine.apply_append_log,
    AddNodeImage: Engine.apply_add_node_image,
}
