"""Reading a cluster's kept history: its changes (who made each, when) and its controllers' traces.

The change log is the store's (``Change``): every write since the history was last compacted, and, at or before
``compacted_version``, what compaction kept of the older ones, each object's last version then (deletions gone),
which together are the cluster's state at ``compacted_version``. So a reader that takes every change from the start
can rebuild the cluster at any revision from ``compacted_version`` on. Pages are cut by resourceVersion and go on
with an opaque ``continue`` token.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime

from controllers.apimachinery.timeutil import format_rfc3339_micro

from .models import Change, Cluster, TraceRecord

DEFAULT_LIMIT = 5000
MAX_LIMIT = 10_000


class HistoryError(ValueError):
    """A history request that cannot be answered as asked (a bad token, a bad limit)."""


def _time(value: datetime | None) -> str | None:
    return format_rfc3339_micro(value) if value is not None else None


def encode_continue(kind: str, position: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"k": kind, "p": position}).encode()).decode().rstrip("=")


def decode_continue(kind: str, token: str) -> int:
    try:
        padded = token + "=" * (-len(token) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if value["k"] != kind or not isinstance(value["p"], int) or isinstance(value["p"], bool):
            raise ValueError
        return value["p"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise HistoryError("continue: Invalid value: the continue token is not one this server gave") from None


def oldest(cluster: Cluster) -> dict:
    """How far back the kept history goes: the revision it was compacted at and that revision's simulated time
    (the cluster's first change when it was never compacted)."""
    if cluster.compacted_version and cluster.compacted_time is not None:
        return {"resourceVersion": cluster.compacted_version, "time": _time(cluster.compacted_time)}
    first = Change.objects.filter(cluster=cluster).order_by("resource_version").values_list(
        "resource_version", "sim_time").first()
    if cluster.compacted_version or first is None:
        return {"resourceVersion": cluster.compacted_version, "time": _time(first[1] if first else cluster.sim_now)}
    return {"resourceVersion": 0, "time": _time(first[1])}


def change_json(row) -> dict:
    rv, type_, group, kind, namespace, name, sim_time, actor, data = row
    return {"resourceVersion": rv, "type": type_, "apiGroup": group, "kind": kind, "namespace": namespace,
            "name": name, "time": _time(sim_time), "actor": actor, "object": data}


@dataclass
class HistoryQuery:
    after: int = 0
    limit: int = DEFAULT_LIMIT
    kind: str = ""
    api_group: str | None = None
    namespace: str | None = None
    name: str | None = None


def history_page(cluster: Cluster, query: HistoryQuery) -> dict:
    """One page of the cluster's changes after ``query.after``, oldest first (the endpoint's answer)."""
    cluster.refresh_from_db(fields=["resource_version", "compacted_version", "compacted_time", "sim_now"])
    current = cluster.resource_version  # read first: the page stops there, whatever commits meanwhile
    rows = Change.objects.filter(cluster=cluster, resource_version__gt=query.after,
                                 resource_version__lte=current)
    if query.kind:
        rows = rows.filter(kind=query.kind)
    if query.api_group is not None:
        rows = rows.filter(api_group=query.api_group)
    if query.namespace is not None:
        rows = rows.filter(namespace=query.namespace)
    if query.name is not None:
        rows = rows.filter(name=query.name)
    found = list(rows.order_by("resource_version").values_list(
        "resource_version", "type", "api_group", "kind", "namespace", "name", "sim_time", "actor", "data",
    )[:query.limit + 1])
    more = len(found) > query.limit
    found = found[:query.limit]
    return {
        "resourceVersion": current,
        "now": _time(cluster.sim_now),
        "compactedVersion": cluster.compacted_version,
        "oldest": oldest(cluster),
        "changes": [change_json(row) for row in found],
        "continue": encode_continue("history", found[-1][0]) if more else None,
    }


def trace_range(cluster: Cluster, *, start: datetime | None, end: datetime | None, after: int = 0,
                limit: int = DEFAULT_LIMIT, controller: str = "", subject: str = "") -> dict:
    """The kept traces from ``start`` to ``end`` (both included; either may be open), oldest first."""
    rows = TraceRecord.objects.filter(cluster=cluster, sequence__gt=after)
    if start is not None:
        rows = rows.filter(sim_time__gte=start)
    if end is not None:
        rows = rows.filter(sim_time__lte=end)
    if controller:
        rows = rows.filter(controller=controller)
    if subject:
        rows = rows.filter(object_key=subject)
    found = list(rows.order_by("sequence").values_list("sequence", "data")[:limit + 1])
    more = len(found) > limit
    found = found[:limit]
    return {"items": [data for _, data in found],
            "continue": encode_continue("traces", found[-1][0]) if more else None}


def recent_traces(cluster: Cluster, *, limit: int, controller: str = "", subject: str = "") -> list[dict]:
    """The last ``limit`` kept traces, oldest first."""
    rows = TraceRecord.objects.filter(cluster=cluster)
    if controller:
        rows = rows.filter(controller=controller)
    if subject:
        rows = rows.filter(object_key=subject)
    found = list(rows.order_by("-sequence").values_list("data", flat=True)[:limit])
    found.reverse()
    return found
