"""Simulated-time formatting and parsing, as Kubernetes prints and stores it.

Representation of time in this project: **timezone-aware ``datetime`` in UTC**.
Object timestamps (``creationTimestamp``, ``status.startTime``, condition
``lastTransitionTime``…) are strings on the wire; convert them with
:func:`parse_rfc3339` / :func:`format_rfc3339` at the edges and compute with
aware datetimes in between. Functions here refuse naive datetimes rather than
guess their zone. Durations are seconds (``float``) or ``timedelta``.

* ``metav1.Time`` marshals as RFC 3339 in UTC with whole seconds
  (``2025-01-01T00:00:00Z``); ``metav1.MicroTime`` (Event ``eventTime``, Lease
  ``renewTime``) with six fractional digits (``2025-01-01T00:00:00.000000Z``).
* ``kubectl get`` AGE/DURATION columns use ``duration.HumanDuration``
  (k8s.io/apimachinery/pkg/util/duration), reproduced branch for branch.

Pure Python: standard library only.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from functools import lru_cache

__all__ = [
    "format_rfc3339",
    "format_rfc3339_micro",
    "human_duration",
    "parse_rfc3339",
    "short_human_duration",
]

_NS_PER_SECOND = 1_000_000_000
_NS_PER_MINUTE = 60 * _NS_PER_SECOND
_NS_PER_HOUR = 60 * _NS_PER_MINUTE


def _nanoseconds(duration: float | int | timedelta) -> int:
    if isinstance(duration, timedelta):
        # Exact: timedelta has microsecond resolution.
        return (duration.days * 86_400 + duration.seconds) * _NS_PER_SECOND + duration.microseconds * 1_000
    return round(duration * _NS_PER_SECOND)


def _trunc_div(a: int, b: int) -> int:
    """Go's integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def human_duration(duration: float | int | timedelta) -> str:
    """``duration.HumanDuration``: kubectl's AGE, e.g. ``119s``, ``9m59s``, ``7d23h``, ``2y``.

    ``duration`` is seconds or a ``timedelta``. Below -1s it is ``<invalid>``
    (clock skew beyond tolerance); between -1s and 0s it is ``0s``.
    """
    d = _nanoseconds(duration)
    seconds = _trunc_div(d, _NS_PER_SECOND)
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 60 * 2:
        return f"{seconds}s"
    minutes = d // _NS_PER_MINUTE
    if minutes < 10:
        s = (d // _NS_PER_SECOND) % 60
        return f"{minutes}m" if s == 0 else f"{minutes}m{s}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = d // _NS_PER_HOUR
    if hours < 8:
        m = minutes % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        years = hours // 24 // 365
        return f"{years}y" if dy == 0 else f"{years}y{dy}d"
    return f"{hours // 24 // 365}y"


def short_human_duration(duration: float | int | timedelta) -> str:
    """``duration.ShortHumanDuration``: one unit only, e.g. ``59s``, ``1m``, ``23h``, ``364d``, ``1y``."""
    d = _nanoseconds(duration)
    seconds = _trunc_div(d, _NS_PER_SECOND)
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 60:
        return f"{seconds}s"
    minutes = d // _NS_PER_MINUTE
    if minutes < 60:
        return f"{minutes}m"
    hours = d // _NS_PER_HOUR
    if hours < 24:
        return f"{hours}h"
    if hours < 24 * 365:
        return f"{hours // 24}d"
    return f"{hours // 24 // 365}y"


def _as_utc(moment: datetime | float | int) -> datetime:
    if isinstance(moment, datetime):
        if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
            raise ValueError("naive datetime: simulated time must be timezone-aware (UTC)")
        return moment.astimezone(timezone.utc)
    if isinstance(moment, bool) or not isinstance(moment, (int, float)):
        raise TypeError(f"expected an aware datetime or epoch seconds, got {type(moment).__name__}")
    return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=round(moment * 1_000_000))


def format_rfc3339(moment: datetime | float | int) -> str:
    """``metav1.Time`` on the wire: ``2025-01-01T00:00:00Z`` (UTC, fraction truncated).

    ``moment`` is an aware datetime or seconds since the Unix epoch.
    """
    t = _as_utc(moment)
    return _second_text(t.year, t.month, t.day, t.hour, t.minute, t.second)


@lru_cache(maxsize=4096)
def _second_text(year: int, month: int, day: int, hour: int, minute: int, second: int) -> str:
    # Remembered: the objects of one simulated second share one string (a run of 100,000 pods writes millions
    # of timestamps, mostly of the same few thousand seconds).
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}Z"


def format_rfc3339_micro(moment: datetime | float | int) -> str:
    """``metav1.MicroTime`` on the wire: ``2025-01-01T00:00:00.000000Z`` (UTC)."""
    t = _as_utc(moment)
    return (f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
            f".{t.microsecond:06d}Z")


_RFC3339_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})"
)


def parse_rfc3339(text: str) -> datetime:
    """Parse an RFC 3339 timestamp into an aware UTC datetime.

    Accepts ``Z`` or a ``±hh:mm`` offset and any number of fractional-second digits
    (kept to microseconds, truncated). Raises ``ValueError`` for anything else,
    including a missing zone and out-of-range fields.
    """
    if not isinstance(text, str):
        raise ValueError(f"not an RFC 3339 timestamp: {text!r}")
    return _parse_rfc3339(text)


@lru_cache(maxsize=65536)
def _parse_rfc3339(text: str) -> datetime:
    # Remembered per text: a pod's few timestamps are read at every sync of it.
    match = _RFC3339_RE.fullmatch(text)
    if match is None:
        raise ValueError(f"not an RFC 3339 timestamp: {text!r}")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    if zone == "Z":
        tz = timezone.utc
    else:
        sign = 1 if zone[0] == "+" else -1
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        if hours > 23 or minutes > 59:
            raise ValueError(f"not an RFC 3339 timestamp: {text!r}")
        tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
    moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micros, tzinfo=tz)
    return moment.astimezone(timezone.utc)
