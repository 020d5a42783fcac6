"""Events: how they are written (client-go's event recorder) and how they go away (kube-apiserver's Event TTL).

A controller only says "emit this event" (``EmitEvent`` in its plan). Upstream, what happens next is split between
a client library and the API server; here both live in this module, because the simulated API server
has no clock of its own and the engine drives time.

What it mirrors, and where to read upstream beside it:

* **Counting repeats** — client-go ``tools/record/events_cache.go``, the ``EventCorrelator``'s ``eventLogger``
  (``eventObserve``): the same event about the same object (``getEventKey``: source, involved object, type,
  reason, message) is not written twice; the existing Event's ``count`` goes up and its ``lastTimestamp`` moves.
  Simplified: a repeat is counted only within ``EVENT_AGGREGATION_WINDOW`` of the Event's last write (the
  aggregator's ``defaultAggregateIntervalInSeconds``, 600), and older entries are forgotten, where upstream keeps
  an LRU cache of ``maxLruCacheEntries``. Not simulated: the spam filter (``EventSourceObjectSpamFilter``) and the
  aggregation of events that differ only in message ("(combined from similar events): ...").
* **Combining similar events** — the same file's ``EventAggregator`` (``EventAggregatorByReasonFunc``): events
  about one object that differ only in their message (a Job's ``FailedCreate`` names each refused pod) are counted
  per source, object, type and reason; from the ``AGGREGATE_MAX_EVENTS``-th different message within the window on,
  each is written as one Event, "(combined from similar events): <the latest message>", counted like a repeat.
  Upstream forgets an arbitrary message (``PopAny``) to stay under the limit; here the oldest, to stay deterministic.
* **Writing** — client-go ``tools/record/event.go``, ``recordToSink`` / ``recordEvent``: a repeat is a patch of the
  existing Event; when the patch fails because the Event is gone, a new one is created instead.
* **Naming** — the same file's ``makeEvent``: ``<involvedObject.name>.<UnixNano in hex>``. Simulated time stands
  still within an instant, so equal instants take the next free nanosecond.
* **Expiry** — kube-apiserver's ``--event-ttl`` (default 1h): the events registry
  (``pkg/registry/core/event/storage``) gives every Event write a ``TTLFunc`` of that length, i.e. an etcd lease;
  each write renews it, and when it runs out etcd deletes the Event and watchers see ``DELETED``.

The engine is the only caller; it passes the simulated time in, and feeds back every Event change its informer
sees (``observe``), so an Event written or deleted by anyone renews or frees what this module tracks.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterable

from .apimachinery.timeutil import format_rfc3339, parse_rfc3339
from .plan import EmitEvent
from .client import Client, ClientError, WatchEvent

logger = logging.getLogger(__name__)

# Events about the same thing, for the same reason, within this window are counted on one Event (the
# event correlator's aggregation, simplified).
EVENT_AGGREGATION_WINDOW = timedelta(minutes=10)
# Similar events (differing only in message) about one object within the window: from this many on, they are written
# combined (client-go's defaultAggregateMaxEvents).
AGGREGATE_MAX_EVENTS = 10
AGGREGATE_PREFIX = "(combined from similar events): "
# kube-apiserver's --event-ttl (default 1h): an Event goes this long after its last write (an etcd lease).
EVENT_TTL = timedelta(hours=1)


def event_write_time(event: dict) -> datetime:
    """When an Event was last written, as far as it tells (lastTimestamp, eventTime, creationTimestamp)."""
    for stamp in (event.get("lastTimestamp"), event.get("eventTime"), event["metadata"].get("creationTimestamp")):
        if stamp:
            try:
                return parse_rfc3339(stamp)
            except ValueError:
                continue
    return datetime.min.replace(tzinfo=timezone.utc)


@dataclass
class _AggregateRecord:
    """Upstream's ``aggregateRecord``: the different messages seen of similar events (an insertion-ordered set),
    and when the last came."""

    messages: dict[str, None]
    last: datetime


@dataclass
class _EventLog:
    """What the recorder remembers of an Event it wrote (upstream's ``eventLog``): where it is, its count, when."""

    namespace: str
    name: str
    count: int
    last: datetime


class EventRecorder:
    """Writes core/v1 Events through ``client`` and expires them after ``EVENT_TTL`` (see the module docstring)."""

    def __init__(self, client: Client):
        self.client = client
        # the correlator's cache: per event key, the Event that counts its repeats
        self._logs: dict[tuple, _EventLog] = {}
        # the aggregator's cache: per source, object, type and reason, the messages seen
        self._aggregates: dict[tuple, _AggregateRecord] = {}
        self._swept: datetime | None = None
        # Event names in use, and per involved object's name the nanosecond its last event's name took (while it
        # is not in the past)
        self._names: set[str] = set()
        self._last_nanos: dict[str, int] = {}
        # Event TTL: when each Event was last written, and (expiry, namespace, name) in write order.
        self._written: dict[tuple[str, str], datetime] = {}
        self._expiry: deque[tuple[datetime, str, str]] = deque()

    # -- client-go: record -----------------------------------------------------------------------------

    def record(self, event: EmitEvent, now: datetime) -> None:
        """Write a core/v1 Event, counting repeats of the same event on one object like the event correlator."""
        involved = dict(event.involved)
        namespace = involved.get("namespace") or "default"
        host = event.host
        message, key = self._aggregate(event, involved, now)
        log = self._logs.get(key)
        stamp = format_rfc3339(now)
        if log is not None and now - log.last <= EVENT_AGGREGATION_WINDOW:
            log.count += 1
            log.last = now
            try:
                self.client.patch("Event", log.namespace, log.name,
                                  {"count": log.count, "lastTimestamp": stamp, "message": message})
                return
            except ClientError:
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
            "message": message,
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
            self.client.create(body)
        except ClientError as error:
            logger.info("event %s not recorded: %s", name, error.message)
            return
        self._logs[key] = _EventLog(namespace, name, 1, now)

    def _aggregate(self, event: EmitEvent, involved: dict, now: datetime) -> tuple[str, tuple]:
        """``EventAggregate``: the message to write and the key its repeats are counted under, the event's own
        (source, object, type, reason, message), or, once similar events came with ``AGGREGATE_MAX_EVENTS``
        different messages, the combined event's (the same without the message)."""
        similar = (involved.get("uid"), involved.get("name"), event.type, event.reason, event.component, event.host)
        record = self._aggregates.get(similar)
        if record is None or now - record.last > EVENT_AGGREGATION_WINDOW:
            record = self._aggregates[similar] = _AggregateRecord({}, now)
        record.messages[event.message] = None
        record.last = now
        if len(record.messages) < AGGREGATE_MAX_EVENTS:
            return event.message, similar + (event.message,)
        del record.messages[next(iter(record.messages))]  # PopAny: the set grows no larger than the limit
        return AGGREGATE_PREFIX + event.message, similar

    def _event_name(self, involved_name: str, now: datetime) -> str:
        # upstream: "<involved name>.<UnixNano in hex>"; equal instants get the next free nanosecond. The last
        # one an object's events took is remembered, so the 5,000th event of one instant does not try the
        # 4,999 taken before it.
        nanos = int(now.timestamp()) * 1_000_000_000 + now.microsecond * 1000
        last = self._last_nanos.get(involved_name)
        if last is not None and last >= nanos:
            nanos = last + 1
        while True:
            name = f"{involved_name}.{nanos:x}"
            if name not in self._names:
                self._names.add(name)
                self._last_nanos[involved_name] = nanos
                return name
            nanos += 1

    # -- what the informer saw -------------------------------------------------------------------------

    def relist(self, events: Iterable[dict]) -> None:
        """Learn every Event's expiry from the Events themselves (a fresh start, or a relist after compaction)."""
        self._written.clear()
        self._expiry.clear()
        for event in sorted(events, key=event_write_time):
            key = (event["metadata"].get("namespace", ""), event["metadata"]["name"])
            written = event_write_time(event)
            self._written[key] = written
            self._expiry.append((written + EVENT_TTL, *key))

    def observe(self, change: WatchEvent, now: datetime) -> None:
        """An Event was written (its TTL starts again at ``now``) or deleted (its name is free again)."""
        meta = change.object["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        if change.type == "DELETED":
            self._written.pop(key, None)
            self._names.discard(meta["name"])
            return
        self._written[key] = now
        self._expiry.append((now + EVENT_TTL, *key))

    # -- kube-apiserver: Event TTL ---------------------------------------------------------------------

    def next_expiry(self) -> datetime | None:
        """When the next Event is due to expire (None: none is tracked)."""
        return self._expiry[0][0] if self._expiry else None

    def expire(self, now: datetime) -> bool:
        """Delete the Events whose TTL ran out (each write renews it), as etcd's lease expiry does; answers
        whether any went. Also forgets repeats too old to count (the correlator's cache eviction)."""
        expired = False
        while self._expiry and self._expiry[0][0] <= now:
            _, namespace, name = self._expiry.popleft()
            written = self._written.get((namespace, name))
            if written is None or written + EVENT_TTL > now:
                continue  # gone already, or written again since: a later entry expires it
            try:
                self.client.delete("Event", namespace, name)
            except ClientError as error:
                if not error.not_found:
                    logger.info("event %s/%s not expired: %s", namespace, name, error.message)
                    continue
            self._written.pop((namespace, name), None)
            self._names.discard(name)
            expired = True
        if (self._logs or self._aggregates) and (self._swept is None or now - self._swept >= EVENT_AGGREGATION_WINDOW):
            self._swept = now
            for key in [k for k, log in self._logs.items() if now - log.last > EVENT_AGGREGATION_WINDOW]:
                del self._logs[key]
            for key in [k for k, record in self._aggregates.items() if now - record.last > EVENT_AGGREGATION_WINDOW]:
                del self._aggregates[key]
            past = int(now.timestamp()) * 1_000_000_000
            self._last_nanos = {k: v for k, v in self._last_nanos.items() if v >= past}
        return expired
