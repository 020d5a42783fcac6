"""Every message the live stream sends to the browser, built in this one module.

The consumer (``consumers.py``) decides *when* to send; this module decides *what* is sent, so the wire format
that ``static/js/state.js`` reduces is written down once. Each message is a ``TypedDict`` named after its
``type``; :func:`encode` turns one into the text frame.

Live messages go to every browser watching a cluster, so a message is encoded once per change and reused for each
client: :data:`frames` keeps the newest encoded messages by a key that names the change exactly (the cluster's uid
with the resourceVersion, the trace's engine sequence, the clock's own fields). Several live messages ready at once
travel in one ``batch`` frame, joined from those encoded messages by :func:`batch_frame` without encoding them
again; a lone message is sent as its own frame.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Callable, Literal, NotRequired, TypedDict

from apiserver.kinds import SHOWN_TYPES

# The kinds the dashboard shows, in the order the snapshot lists them (the resource table's). Changes of other
# kinds (Leases) only move the stream's resourceVersion forward (a ``bookmark``).
KINDS = tuple(r.kind for r in SHOWN_TYPES)

# How many recent reconcile traces a snapshot carries (the page keeps as many).
TRACE_LIMIT = 500

EventType = Literal["ADDED", "MODIFIED", "DELETED"]


Advance = TypedDict("Advance", {"from": str, "target": str})  # RFC 3339: a background advance's start and end


class PendingItem(TypedDict):
    controller: str
    key: str  # "namespace/name", or a cluster-scoped name
    due: str  # RFC 3339 (microseconds): the paused clock's now for a queued key, the timer's time for one due


class Pending(TypedDict):
    """A paused clock's waiting work (``EngineHost.pending``): how much, the first few, and whether it is the
    resync a controller manager that has not started yet will begin with."""

    count: int
    items: list[PendingItem]
    resync: bool


class Clock(TypedDict):
    now: str
    paused: bool
    speed: float
    advance: NotRequired[Advance]
    pending: NotRequired[Pending]


class ClusterRef(TypedDict):
    """Which cluster a state belongs to: the uid tells apart clusters created again under one name."""

    name: str
    uid: str


class Snapshot(TypedDict):
    type: Literal["snapshot"]
    cluster: NotRequired[ClusterRef]
    resourceVersion: str
    clock: Clock
    objects: dict[str, list[dict]]
    traces: list[dict]


class Resume(TypedDict):
    type: Literal["resume"]
    cluster: NotRequired[ClusterRef]
    resourceVersion: str
    clock: Clock


class Event(TypedDict):
    type: Literal["event"]
    event: EventType
    kind: str
    object: dict
    resourceVersion: str


class Bookmark(TypedDict):
    type: Literal["bookmark"]
    resourceVersion: str


class Trace(TypedDict):
    type: Literal["trace"]
    trace: dict


class ClockMessage(TypedDict):
    type: Literal["clock"]
    clock: Clock


class Error(TypedDict):
    type: Literal["error"]
    message: str


LiveMessage = Event | Bookmark | Trace | ClockMessage


class Batch(TypedDict):
    """Live messages that were ready together, to be applied in order as if they had come one frame each."""

    type: Literal["batch"]
    messages: list[LiveMessage]


Message = Snapshot | Resume | Event | Bookmark | Trace | ClockMessage | Error | Batch

# The most messages one ``batch`` frame carries (a resume after a long absence is sent in several).
BATCH_LIMIT = 1000


def snapshot(*, resource_version: int, clock: Clock, objects: dict[str, list[dict]], traces: list[dict],
             cluster: ClusterRef | None = None) -> Snapshot:
    """The full state at ``resource_version``: every kind of :data:`KINDS` present (an empty list when there is
    none), objects sorted by namespace and name, and the newest :data:`TRACE_LIMIT` traces, oldest first; with
    the ``cluster`` it belongs to when given (the consumer always gives it)."""
    message: Snapshot = {"type": "snapshot"}
    if cluster is not None:
        message["cluster"] = {"name": cluster["name"], "uid": cluster["uid"]}
    message.update(
        resourceVersion=str(resource_version),
        clock=clock,
        objects={kind: list(objects.get(kind, ())) for kind in KINDS},
        traces=list(traces[-TRACE_LIMIT:]),
    )
    return message


def resume(*, resource_version: int, clock: Clock, cluster: ClusterRef | None = None) -> Resume:
    message: Resume = {"type": "resume"}
    if cluster is not None:
        message["cluster"] = {"name": cluster["name"], "uid": cluster["uid"]}
    message.update(resourceVersion=str(resource_version), clock=clock)
    return message


def event(*, type_: EventType, kind: str, obj: dict, resource_version: int) -> Event:
    return {"type": "event", "event": type_, "kind": kind, "object": obj, "resourceVersion": str(resource_version)}


def bookmark(*, resource_version: int) -> Bookmark:
    return {"type": "bookmark", "resourceVersion": str(resource_version)}


def trace(record: dict) -> Trace:
    return {"type": "trace", "trace": record}


def clock(value: Clock) -> ClockMessage:
    return {"type": "clock", "clock": value}


def error(message: str) -> Error:
    return {"type": "error", "message": message}


def batch(messages: list[LiveMessage]) -> Batch:
    return {"type": "batch", "messages": list(messages)}


def encode(message: Message) -> str:
    """One websocket text frame: compact JSON, non-ASCII kept as is."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


#: The most characters one frame carries; a longer one (the snapshot of a busy cluster) goes in parts. Daphne
#: refuses to send a message over its --websocket_max_message_size (1 MiB by default) and closes the stream; a
#: part's text, at most 4 bytes a character once escaped and encoded, stays well under it.
FRAME_CHARS = 128 * 1024


def split_frames(text: str) -> list[str]:
    """The frames that carry one encoded message: itself, or ``{"type": "part", "last", "text"}`` frames whose
    texts, joined, are the message (the page's socket puts them together before it reads the message)."""
    if len(text) <= FRAME_CHARS:
        return [text]
    pieces = [text[start:start + FRAME_CHARS] for start in range(0, len(text), FRAME_CHARS)]
    return [encode({"type": "part", "last": index == len(pieces) - 1, "text": piece})
            for index, piece in enumerate(pieces)]


class FrameCache:
    """The newest encoded frames, so that a change watched by many browsers is encoded once.

    Only the event loop's thread uses it (consumers run there), so it needs no lock. A key must name the
    content exactly; the caller builds the message only on a miss.
    """

    def __init__(self, size: int = 4096):
        self.size = size
        self._frames: OrderedDict[tuple, str] = OrderedDict()

    def get(self, key: tuple, build: Callable[[], Message]) -> str:
        frame = self._frames.get(key)
        if frame is None:
            frame = encode(build())
            self._frames[key] = frame
            if len(self._frames) > self.size:
                self._frames.popitem(last=False)
        return frame

    def clear(self) -> None:
        self._frames.clear()

    def __len__(self) -> int:
        return len(self._frames)


frames = FrameCache()


def event_frame(cluster_uid: str, *, type_: EventType, kind: str, obj: dict, resource_version: int) -> str:
    """The encoded ``event`` frame of one change (one resourceVersion is one change of one cluster)."""
    return frames.get(
        ("event", cluster_uid, resource_version),
        lambda: event(type_=type_, kind=kind, obj=obj, resource_version=resource_version),
    )


def trace_frame(cluster_uid: str, record: dict) -> str:
    """The encoded ``trace`` frame; an engine numbers its traces, and a rebuilt engine starts at a later time."""
    key = ("trace", cluster_uid, record.get("sequence"), record.get("time"), record.get("controller"),
           record.get("object"))
    return frames.get(key, lambda: trace(record))


def clock_frame(cluster_uid: str, value: Clock) -> str:
    advance = value.get("advance") or {}
    pending = value.get("pending")
    key = ("clock", cluster_uid, value.get("now"), value.get("paused"), value.get("speed"), advance.get("from"),
           advance.get("target"), None if pending is None else json.dumps(pending, sort_keys=True))
    return frames.get(key, lambda: clock(value))


# The text around a batch's messages, exactly as :func:`encode` writes a ``Batch``: '{"type":"batch","messages":['
# and ']}'.
_BATCH_HEAD, _BATCH_TAIL = encode(batch([])).split("[]")


def batch_frame(parts: list[str]) -> str:
    """The one frame of several encoded live messages, in order: the lone message's own frame, or the ``batch``
    that :func:`encode` would write for them, joined from the parts without decoding or encoding them again."""
    if not parts:
        raise ValueError("a frame carries at least one message")
    if len(parts) == 1:
        return parts[0]
    return f"{_BATCH_HEAD}[{','.join(parts)}]{_BATCH_TAIL}"
