"""The simulation engine: one cluster's clock, informer cache, work queue and controllers.

The engine is the simulated control plane's controller-manager, scheduler and kubelets in one deterministic loop:

1. ``pull`` reads every committed change from the store after the last resourceVersion it saw and feeds the cache;
   each controller's handler turns a change into keys on the work queue (``enqueue``).
2. ``drain`` syncs queued keys one at a time: a controller returns a plan (``SyncResult``) and the engine applies
   it through the store (status first, then actions), records its trace, keeps its memory, and schedules its
   requeue on the timer heap. After each plan the engine pulls again, so its own writes, the API server's garbage
   collection and every learner's write are seen in the order they happened.
3. ``run_until`` moves simulated time from timer to timer, draining at each instant, until the target time.

Same seed, same inputs, same run: keys are processed in FIFO order, caches list in name order, and every random
choice comes from a string seed.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable, Hashable, Iterable, Protocol

from .apimachinery.timeutil import format_rfc3339, format_rfc3339_micro, parse_rfc3339
from .cache import Cache
from .clock import TimerHeap, after
from .plan import CreateObject, DeleteObject, EmitEvent, PatchObject, SyncResult, Trace
from .store import Change, HistoryGone, LogEntry, Store, StoreError
from .workqueue import WorkQueue

logger = logging.getLogger(__name__)

KINDS = ("Namespace", "Node", "Pod", "Job", "CronJob", "DaemonSet", "ControllerRevision", "Event", "Lease")

# A sync loop that never settles at one instant is a bug; stop it rather than hang the server.
MAX_SYNCS_PER_INSTANT = 200_000
# Events about the same thing, for the same reason, within this window are counted on one Event (the
# event correlator's aggregation, simplified).
EVENT_AGGREGATION_WINDOW = timedelta(minutes=10)
# kube-apiserver's --event-ttl (default 1h): an Event goes this long after its last write (an etcd lease).
EVENT_TTL = timedelta(hours=1)


class Controller(Protocol):
    name: str

    def keys_for_change(self, change: Change, old: dict | None, engine: "Engine") -> Iterable[Hashable]:
        """Keys to sync because of a change (the informer event handlers)."""

    def initial_keys(self, engine: "Engine") -> Iterable[Hashable]:
        """Keys to sync when the engine starts (a full resync)."""

    def sync(self, key: Hashable, engine: "Engine", memory) -> SyncResult | None:
        """One reconcile of ``key``: a plan, or None when there is nothing to do."""


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


def _event_write_time(event: dict) -> datetime:
    """When an Event was last written, as far as it tells (lastTimestamp, eventTime, creationTimestamp)."""
    for stamp in (event.get("lastTimestamp"), event.get("eventTime"), event["metadata"].get("creationTimestamp")):
        if stamp:
            try:
                return parse_rfc3339(stamp)
            except ValueError:
                continue
    return datetime.min.replace(tzinfo=timezone.utc)


@dataclass
class _EventSeries:
    namespace: str
    name: str
    count: int
    last: datetime


@dataclass
class Engine:
    store: Store
    controllers: list = field(default_factory=list)
    seed: str = "0"
    trace_history: int = 2000

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
        self._event_series: dict[tuple, _EventSeries] = {}
        self._event_names: set[str] = set()
        # per involved object's name, the nanosecond its last event's name took (while it is not in the past)
        self._event_last_nanos: dict[str, int] = {}
        # Event TTL: when each Event was last written, and (expiry, namespace, name) in write order.
        self._event_written: dict[tuple[str, str], datetime] = {}
        self._event_expiry: deque[tuple[datetime, str, str]] = deque()
        self._series_swept: datetime | None = None
        self.syncs = 0
        self.started = False
        # Memories of controllers marked ``checkpoint = True`` that changed since the host last saved them.
        self.dirty_checkpoints: set[tuple[str, Hashable]] = set()

    # -- time ------------------------------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        return self.store.now()

    def next_event_time(self) -> datetime | None:
        """When something is due next (None: nothing will ever happen without an outside change)."""
        if len(self.queue):
            return self.now
        return self.next_due()

    def next_due(self) -> datetime | None:
        """The next timer or Event expiry (None: none)."""
        due = self.timers.next_time()
        if self._event_expiry and (due is None or self._event_expiry[0][0] < due):
            return self._event_expiry[0][0]
        return due

    # -- informer --------------------------------------------------------------------------------------

    def start(self) -> None:
        """List everything, then queue every controller's keys: a fresh controller-manager's first resync."""
        self.last_seen_rv = self.store.resource_version()
        for kind in KINDS:
            for obj in self.store.list(kind):
                self.cache.apply_change("ADDED", kind, obj)
        self._event_written.clear()
        self._event_expiry.clear()
        for event in sorted(self.cache.list("Event"), key=_event_write_time):
            self._event_written[(event["metadata"].get("namespace", ""), event["metadata"]["name"])] = \
                _event_write_time(event)
            self._event_expiry.append((_event_write_time(event) + EVENT_TTL, event["metadata"].get("namespace", ""),
                                       event["metadata"]["name"]))
        for controller in self.controllers:
            for key in controller.initial_keys(self):
                self.enqueue(controller.name, key)
        self.started = True

    def pull(self) -> int:
        """Feed the cache every change committed since the last pull; answers how many there were."""
        try:
            changes = self.store.changes_since(self.last_seen_rv)
        except HistoryGone:
            logger.warning("change history compacted past rv %s: relisting", self.last_seen_rv)
            self.cache = Cache()
            self.start()
            return 0
        for change in changes:
            old = self.cache.apply_change(change.type, change.kind, change.object)
            self.last_seen_rv = max(self.last_seen_rv, change.resource_version)
            if change.kind == "Event":
                self._note_event_write(change)
            for controller in self.controllers:
                for key in controller.keys_for_change(change, old, self):
                    self.enqueue(controller.name, key)
        return len(changes)

    def _note_event_write(self, change: Change) -> None:
        meta = change.object["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        if change.type == "DELETED":
            self._event_written.pop(key, None)
            self._event_names.discard(meta["name"])
            return
        now = self.now
        self._event_written[key] = now
        self._event_expiry.append((now + EVENT_TTL, *key))

    def _expire_events(self) -> bool:
        """Delete the Events whose TTL ran out (each write renews it), as etcd's lease expiry does; answers
        whether any went."""
        now = self.now
        expired = False
        while self._event_expiry and self._event_expiry[0][0] <= now:
            _, namespace, name = self._event_expiry.popleft()
            written = self._event_written.get((namespace, name))
            if written is None or written + EVENT_TTL > now:
                continue  # gone already, or written again since: a later entry expires it
            try:
                self.store.delete("Event", namespace, name)
            except StoreError as error:
                if not error.not_found:
                    logger.info("event %s/%s not expired: %s", namespace, name, error.message)
                    continue
            self._event_written.pop((namespace, name), None)
            self._event_names.discard(name)
            expired = True
        if self._event_series and (self._series_swept is None or now - self._series_swept >= EVENT_AGGREGATION_WINDOW):
            self._series_swept = now
            for key in [k for k, series in self._event_series.items()
                        if now - series.last > EVENT_AGGREGATION_WINDOW]:
                del self._event_series[key]
            past = int(now.timestamp()) * 1_000_000_000
            self._event_last_nanos = {k: v for k, v in self._event_last_nanos.items() if v >= past}
        return expired

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

    def drain(self) -> int:
        """Sync queued keys until the queue is empty at this instant; answers how many syncs ran."""
        if not self.started:
            self.start()
        self.pull()
        if self._expire_events():
            self.pull()
        done = 0
        while len(self.queue):
            if done >= MAX_SYNCS_PER_INSTANT:
                logger.error("engine did not settle at %s after %s syncs; leaving the rest queued", self.now, done)
                break
            controller_name, key = self.queue.pop()
            self._sync(controller_name, key)
            done += 1
            self.pull()
        self.syncs += done
        return done

    def run_until(self, target: datetime) -> None:
        """Process everything due up to ``target``, in time order, then leave the clock at ``target``."""
        self.drain()
        while True:
            due = self.next_due()
            if due is None or due > target:
                break
            if due > self.now:
                self.store.set_now(due)
            for key in self.timers.pop_due(due):
                self.queue.add(key)
            self.drain()
        if target > self.now:
            self.store.set_now(target)
        self.drain()

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
        except StoreError as error:
            delay = self.queue.rate_limit_delay(memory_key)
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
        failed = self.apply(result, controller_name, key)
        self._record_trace(result.trace)
        if failed:
            self.enqueue_after(controller_name, key, self.queue.rate_limit_delay(memory_key))
        else:
            self.queue.forget(memory_key)
            if result.requeue_after is not None:
                self.enqueue_after(controller_name, key, result.requeue_after)

    # -- applying plans --------------------------------------------------------------------------------

    def apply(self, result: SyncResult, controller_name: str, key: Hashable) -> bool:
        """Apply a plan: status first, then the actions in order. Answers whether anything failed."""
        failed = False
        if result.status is not None:
            subject = self._subject_of(controller_name, key)
            if subject is not None:
                obj = dict(subject[1], status=result.status)
                try:
                    self.store.update_status(obj)
                except StoreError as error:
                    if not error.not_found:
                        failed = True
        failed_batch = None
        for action in result.actions:
            if isinstance(action, CreateObject):
                if failed_batch is not None and action.batch > failed_batch:
                    continue
                try:
                    created = self.store.create(action.obj)
                except StoreError as error:
                    failed, failed_batch = True, action.batch
                    if action.failure_event is not None:
                        self.record_event(action.failure_event.bind(error=error.message))
                    continue
                if action.success_event is not None:
                    self.record_event(action.success_event.bind(name=created["metadata"]["name"]))
            elif isinstance(action, DeleteObject):
                try:
                    self.store.delete(
                        action.kind, action.namespace, action.name, uid=action.uid,
                        propagation_policy=action.propagation_policy,
                        grace_period_seconds=action.grace_period_seconds,
                    )
                except StoreError as error:
                    if not error.not_found:
                        failed = True
                        if action.failure_event is not None:
                            self.record_event(action.failure_event.bind(error=error.message))
                    continue
                if action.success_event is not None:
                    self.record_event(action.success_event)
            elif isinstance(action, PatchObject):
                try:
                    self.store.patch(action.kind, action.namespace, action.name, action.patch, action.patch_type,
                                     subresource=action.subresource)
                except StoreError as error:
                    if not error.not_found:
                        failed = True
            elif isinstance(action, EmitEvent):
                self.record_event(action)
            else:
                handler = getattr(self, "apply_" + type(action).__name__, None)
                if handler is None:
                    raise TypeError(f"the engine cannot apply {type(action).__name__}")
                try:
                    handler(action)
                except StoreError as error:
                    if not error.not_found:
                        failed = True
        return failed

    def _subject_of(self, controller_name: str, key: Hashable) -> tuple[str, dict] | None:
        controller = self._by_name[controller_name]
        subject = getattr(controller, "subject", None)
        if subject is None:
            return None
        return subject(key, self)

    def apply_BindPod(self, action) -> None:
        try:
            self.store.bind(action.namespace, action.name, action.uid, action.node)
        except StoreError as error:
            if action.failure_event is not None:
                self.record_event(action.failure_event.bind(error=error.message))
            raise
        if action.success_event is not None:
            self.record_event(action.success_event)

    def apply_AppendLog(self, action) -> None:
        self.store.append_log(
            LogEntry(action.namespace, action.pod, action.uid, action.container, action.restart_count,
                     tuple(action.lines))
        )

    def apply_AddNodeImage(self, action) -> None:
        node = self.cache.get("Node", "", action.node)
        if node is None:
            return
        images = list((node.get("status") or {}).get("images") or [])
        if any(action.image in (entry.get("names") or ()) for entry in images):
            return
        entry = {"names": [action.image, *action.extra_names], "sizeBytes": action.size_bytes}
        self.store.update_status(dict(node, status=dict(node.get("status") or {}, images=images + [entry])))
        self.pull()

    # -- events and traces -----------------------------------------------------------------------------

    def record_event(self, event: EmitEvent) -> None:
        """Write a core/v1 Event, counting repeats of the same event on one object like the event correlator."""
        involved = dict(event.involved)
        namespace = involved.get("namespace") or "default"
        host = event.host
        series_key = (involved.get("uid"), involved.get("name"), event.type, event.reason, event.message,
                      event.component, host)
        now = self.now
        series = self._event_series.get(series_key)
        stamp = format_rfc3339(now)
        if series is not None and now - series.last <= EVENT_AGGREGATION_WINDOW:
            series.count += 1
            series.last = now
            try:
                self.store.patch("Event", series.namespace, series.name,
                                 {"count": series.count, "lastTimestamp": stamp})
                return
            except StoreError:
                pass  # the event was deleted meanwhile: write a new one
        name = self._event_name(involved.get("name", ""), now)
        source = {"component": event.component}
        if host:
            source["host"] = host
        body = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": involved,
            "reason": event.reason,
            "message": event.message,
            "source": source,
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "count": 1,
            "type": event.type,
            "eventTime": None,
            "reportingComponent": event.component,
            "reportingInstance": host,
        }
        try:
            self.store.create(body)
        except StoreError as error:
            logger.info("event %s not recorded: %s", name, error.message)
            return
        self._event_series[series_key] = _EventSeries(namespace, name, 1, now)

    def _event_name(self, involved_name: str, now: datetime) -> str:
        # upstream: "<involved name>.<UnixNano in hex>"; equal instants get the next free nanosecond. The last
        # one an object's events took is remembered, so the 5,000th event of one instant does not try the
        # 4,999 taken before it.
        nanos = int(now.timestamp()) * 1_000_000_000 + now.microsecond * 1000
        last = self._event_last_nanos.get(involved_name)
        if last is not None and last >= nanos:
            nanos = last + 1
        while True:
            name = f"{involved_name}.{nanos:x}"
            if name not in self._event_names:
                self._event_names.add(name)
                self._event_last_nanos[involved_name] = nanos
                return name
            nanos += 1

    def _record_trace(self, trace: Trace) -> None:
        self._trace_seq += 1
        record = TraceRecord(self.now, trace, self._trace_seq)
        self.traces.append(record)
        for listener in self.trace_listeners:
            listener(record)
