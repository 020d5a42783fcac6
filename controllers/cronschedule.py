"""Cron schedules exactly as the CronJob controller reads them: robfig/cron v3 ``ParseStandard`` and ``Next``.

The CronJob controller (``pkg/controller/cronjob``) parses ``spec.schedule`` with
``github.com/robfig/cron/v3`` (v3.0.1) and asks the result for ``Next(t)``. This module reproduces both, so a
learner's schedule fires at the same instants, is refused with the same words, and behaves the same across
daylight-saving changes as on a real cluster.

``parse_schedule(text)`` accepts what ``cron.ParseStandard`` accepts:

* five fields ``minute hour day-of-month month day-of-week``; each field a comma list of ``*``, ``?``, ``n``,
  ``a-b``, ``*/s``, ``n/s`` (meaning ``n-max/s``), ``a-b/s``; month names ``JAN``-``DEC`` and day names
  ``SUN``-``SAT`` in any case;
* the descriptors ``@yearly`` (``@annually``), ``@monthly``, ``@weekly``, ``@daily`` (``@midnight``),
  ``@hourly`` and ``@every <Go duration>``;
* an optional ``TZ=<zone> `` or ``CRON_TZ=<zone> `` prefix (legacy; the controller warns about it).

and raises ``ScheduleError`` with robfig's message otherwise (``expected exactly 5 fields, found 1: [xyz]``,
``end of range (60) above maximum (59): 60``, ``failed to parse duration @every 1x: time: unknown unit "x" in
duration "1x"``...).

Semantics kept from robfig, some of them surprising:

* Day of month and day of week: when both are restricted a day matches if **either** matches; when either
  field holds a star (``*``, ``?``, or ``*/1``; but not ``*/2``), both must match, so the other one alone
  decides.
* ``@every d`` is a ``ConstantDelaySchedule``: ``d`` below one second becomes one second, fractions of a
  second are dropped, and ``next(t)`` is ``t`` truncated to the second plus ``d`` (no alignment to the clock).
* Daylight saving, in the schedule's zone: a wall time that does not exist (02:30 on a spring-forward day) is
  skipped, not moved; a wall time that happens twice (01:30 on a fall-back day) fires **twice**, once per
  occurrence (robfig's own tests: "1am nightly job (runs twice)"). Midnight that does not exist (Sao Paulo)
  moves to 01:00.
* No match within five years gives the zero time (``GO_ZERO_TIME``, Go's ``time.Time{}``), as robfig does for
  ``0 0 30 2 *``; the controller then reports ``time difference between two schedules is less than 1 second``.

Why not croniter: it reads some schedules differently from robfig. It has no ``@every`` and no ``TZ=``
prefix; it draws the day-of-month/day-of-week line elsewhere (``*/1`` is a star to robfig, a list to croniter;
a day field listing every value is a star to croniter when the other day field contains a ``*``); it reads an
equal range such as ``JAN-JAN`` as the whole field; it refuses ``?`` outside the day fields; it fires at the
first minute after a DST gap where robfig skips the missing wall time; it searches 50 years ahead, not five; and
it reports different errors. Correctness wins over reuse: the matcher below follows robfig's
``SpecSchedule.Next`` step for step, on top of the same wall-clock arithmetic as Go's ``time.Date`` /
``AddDate``. croniter is a test-only dependency: ``tests/controllers/test_cronschedule_differential.py``
checks this module against it on random schedules, with these differences listed and excluded.

Pure Python: standard library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "GO_ZERO_TIME",
    "ConstantDelaySchedule",
    "Schedule",
    "ScheduleError",
    "SpecSchedule",
    "go_quote",
    "load_location",
    "parse_go_duration",
    "parse_schedule",
]

UTC = timezone.utc
#: Go's ``time.Time{}`` (January 1, year 1, 00:00:00 UTC): what ``Next`` answers when nothing matches.
GO_ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
# Below this instant, compute in UTC: converting year-1 instants to a zone west of Greenwich would underflow.
_NEAR_ZERO = datetime(1, 1, 3, tzinfo=UTC)
#: robfig's ``starBit``: set on a field that was written with ``*`` or ``?`` (and a step of 1).
STAR_BIT = 1 << 63


class ScheduleError(ValueError):
    """A schedule robfig/cron refuses; ``str(error)`` is robfig's message."""


# --- Go's time.LoadLocation and time.ParseDuration ----------------------------------------------------------


def _go_time_quote(text: str) -> str:
    """Go ``time``'s own ``quote``: printable ASCII as is (``"`` and ``\\`` escaped), other bytes as ``\\xNN``."""
    out = ['"']
    for char in text:
        if char >= "\x80" or char < " ":
            out.extend(f"\\x{byte:02x}" for byte in char.encode("utf-8", "surrogatepass"))
        else:
            if char in ('"', "\\"):
                out.append("\\")
            out.append(char)
    out.append('"')
    return "".join(out)


def load_location(name: str) -> tzinfo:
    """``time.LoadLocation``: ``""``/``UTC`` give UTC; ``Local`` is the controller-manager's zone, UTC here.

    Raises ``ScheduleError`` with Go's message: ``unknown time zone X``, or ``time: invalid location name``
    for a name containing ``..`` or starting with a slash.
    """
    if name in ("", "UTC", "Local"):
        return UTC
    if ".." in name or name[0] in ("/", "\\"):
        raise ScheduleError("time: invalid location name")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ScheduleError(f"unknown time zone {name}") from None


_UNITS_NS = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,  # U+00B5 micro sign
    "\u03bcs": 1_000,  # U+03BC Greek small letter mu
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60 * 1_000_000_000,
    "h": 3600 * 1_000_000_000,
}
_MAX_NS = 1 << 63


def parse_go_duration(text: str) -> int:
    """``time.ParseDuration``: nanoseconds, or ``ScheduleError`` with Go's message (``time: ...``)."""
    original = text
    invalid = f"time: invalid duration {_go_time_quote(original)}"
    negative = False
    if text[:1] in ("-", "+"):
        negative = text[0] == "-"
        text = text[1:]
    if text == "0":
        return 0
    if not text:
        raise ScheduleError(invalid)
    total = 0
    while text:
        if not (text[0] == "." or "0" <= text[0] <= "9"):
            raise ScheduleError(invalid)
        match = re.match(r"[0-9]*", text)
        digits = match.group(0)
        text = text[len(digits):]
        value = int(digits) if digits else 0
        if value >= _MAX_NS:  # leadingInt overflow
            raise ScheduleError(invalid)
        fraction, scale, post = 0, 1, False
        if text[:1] == ".":
            text = text[1:]
            match = re.match(r"[0-9]*", text)
            fraction_digits = match.group(0)
            text = text[len(fraction_digits):]
            post = bool(fraction_digits)
            for digit in fraction_digits:  # leadingFraction: stop accumulating once it would overflow
                if fraction > (_MAX_NS - 1) // 10:
                    continue
                candidate = fraction * 10 + int(digit)
                if candidate >= _MAX_NS:
                    continue
                fraction, scale = candidate, scale * 10
        if not digits and not post:
            raise ScheduleError(invalid)
        unit = re.match(r"[^0-9.]*", text).group(0)
        if not unit:
            raise ScheduleError(f"time: missing unit in duration {_go_time_quote(original)}")
        text = text[len(unit):]
        if unit not in _UNITS_NS:
            raise ScheduleError(f"time: unknown unit {_go_time_quote(unit)} in duration {_go_time_quote(original)}")
        unit_ns = _UNITS_NS[unit]
        if value > _MAX_NS // unit_ns:
            raise ScheduleError(invalid)
        value *= unit_ns
        if fraction > 0:
            value += int(float(fraction) * (float(unit_ns) / scale))
            if value > _MAX_NS:
                raise ScheduleError(invalid)
        total += value
        if total > _MAX_NS:
            raise ScheduleError(invalid)
    if negative:
        return -total
    if total > _MAX_NS - 1:
        raise ScheduleError(invalid)
    return total


# --- the two kinds of schedule ------------------------------------------------------------------------------


def _to_unix(t: datetime) -> tuple[int, int]:
    """Whole seconds since the epoch (floored) and the microseconds left over."""
    if t.tzinfo is None:
        raise ValueError("schedules need timezone-aware datetimes")
    delta = t - _EPOCH
    seconds = delta.days * 86_400 + delta.seconds
    return seconds, delta.microseconds


def _from_unix(seconds: int) -> datetime:
    return _EPOCH + timedelta(seconds=seconds)


def _in_zone(instant: datetime, tz: tzinfo) -> datetime:
    """``instant`` expressed in ``tz``; instants near Go's zero time stay in UTC (no year 0 in Python)."""
    if instant < _NEAR_ZERO:
        return instant.astimezone(UTC)
    return instant.astimezone(tz)


@dataclass(frozen=True)
class ConstantDelaySchedule:
    """``@every <delay>``: fires every ``delay_seconds`` (a whole number, at least 1) after the given time."""

    delay_seconds: int

    def next(self, t: datetime) -> datetime:
        """``t`` truncated to the second, plus the delay; in ``t``'s zone."""
        seconds, _micro = _to_unix(t)
        return _in_zone(_from_unix(seconds + self.delay_seconds), t.tzinfo)


@dataclass(frozen=True)
class SpecSchedule:
    """A crontab schedule as robfig keeps it: one bit set per allowed value, ``STAR_BIT`` for ``*``/``?``."""

    second: int
    minute: int
    hour: int
    dom: int
    month: int
    dow: int
    location: tzinfo = UTC

    def next(self, t: datetime) -> datetime:
        """The first activation strictly after ``t`` (robfig ``SpecSchedule.Next``), in ``t``'s zone.

        Answers ``GO_ZERO_TIME`` when nothing matches within five years. Remembered: a thousand CronJobs on
        one schedule ask the same question every minute.
        """
        return _spec_next(self, t, t.tzinfo, t.fold)

    def _next(self, t: datetime) -> datetime:
        original_zone = t.tzinfo
        loc = self.location
        seconds, _micro = _to_unix(t)
        if t < _NEAR_ZERO:
            loc = UTC
        clock = _WallClock(loc)
        # Start at the earliest possible time: the upcoming second.
        now = seconds + 1
        added = False
        year_limit = clock.fields(now).year + 5

        while True:  # the WRAP label
            wall = clock.fields(now)
            if wall.year > year_limit:
                return GO_ZERO_TIME
            wrapped = False

            while not (1 << wall.month) & self.month:
                if not added:
                    added = True
                    now = clock.date(wall.year, wall.month, 1, 0, 0, 0)
                    wall = clock.fields(now)
                now = clock.date(wall.year, wall.month + 1, wall.day, wall.hour, wall.minute, wall.second)
                wall = clock.fields(now)
                if wall.month == 1:
                    wrapped = True
                    break
            if wrapped:
                continue

            while not self._day_matches(wall):
                if not added:
                    added = True
                    now = clock.date(wall.year, wall.month, wall.day, 0, 0, 0)
                    wall = clock.fields(now)
                now = clock.date(wall.year, wall.month, wall.day + 1, wall.hour, wall.minute, wall.second)
                wall = clock.fields(now)
                # Midnight may not exist (DST at 00:00): pull the time back to the start of the day.
                if wall.hour != 0:
                    now += (24 - wall.hour) * 3600 if wall.hour > 12 else -wall.hour * 3600
                    wall = clock.fields(now)
                if wall.day == 1:
                    wrapped = True
                    break
            if wrapped:
                continue

            while not (1 << wall.hour) & self.hour:
                if not added:
                    added = True
                    now = clock.date(wall.year, wall.month, wall.day, wall.hour, 0, 0)
                now += 3600
                wall = clock.fields(now)
                if wall.hour == 0:
                    wrapped = True
                    break
            if wrapped:
                continue

            while not (1 << wall.minute) & self.minute:
                if not added:
                    added = True
                    now -= now % 60  # time.Truncate works on absolute time
                now += 60
                wall = clock.fields(now)
                if wall.minute == 0:
                    wrapped = True
                    break
            if wrapped:
                continue

            if not (1 << wall.second) & self.second:
                # robfig steps a second at a time until one matches or the minute wraps: jump there at once
                # (a second later in absolute time is always a second later on the wall clock).
                added = True
                step = next((s - wall.second for s in range(wall.second + 1, 60) if (1 << s) & self.second),
                            60 - wall.second)
                now += step
                wall = clock.fields(now)
                if wall.second == 0:
                    continue

            return _in_zone(_from_unix(now), original_zone)

    def _day_matches(self, wall: "_Wall") -> bool:
        dom_match = bool((1 << wall.day) & self.dom)
        dow_match = bool((1 << wall.weekday) & self.dow)
        if self.dom & STAR_BIT or self.dow & STAR_BIT:
            return dom_match and dow_match
        return dom_match or dow_match


Schedule = SpecSchedule | ConstantDelaySchedule


@lru_cache(maxsize=16_384)
def _spec_next(schedule: SpecSchedule, t: datetime, zone, fold: int) -> datetime:
    # the zone is part of the key: instants that compare equal in different zones answer in their own zone;
    # so is fold: within one zone Python compares wall times and ignores it, so the two 01:30s of a fall-back
    # night would otherwise share one answer
    return schedule._next(t)


@dataclass(frozen=True)
class _Wall:
    year: int
    month: int
    day: int
    hour: int
    minute: int
    second: int
    weekday: int  # Go's time.Weekday: Sunday = 0


class _WallClock:
    """Go's wall-clock view of instants (unix seconds) in one zone: ``t.Month()``..., and ``time.Date``."""

    def __init__(self, loc: tzinfo):
        self.loc = loc

    def fields(self, unix: int) -> _Wall:
        local = _in_zone(_from_unix(unix), self.loc)
        return _Wall(local.year, local.month, local.day, local.hour, local.minute, local.second,
                     (local.weekday() + 1) % 7)

    def _offset(self, unix: int) -> int:
        instant = _from_unix(unix)
        if instant < _NEAR_ZERO:
            return 0
        return int(instant.astimezone(self.loc).utcoffset().total_seconds())

    def date(self, year: int, month: int, day: int, hour: int, minute: int, second: int) -> int:
        """``time.Date(...)`` in this zone, as unix seconds: out-of-range fields roll over; a wall time that
        does not exist or exists twice is resolved the way Go does (look up the offset at the wall time read
        as UTC, then again at the corrected instant)."""
        year += (month - 1) // 12
        month = (month - 1) % 12 + 1
        days = date(year, month, 1).toordinal() - _EPOCH_ORDINAL + day - 1
        local = days * 86_400 + hour * 3600 + minute * 60 + second
        offset = self._offset(local)
        if offset:
            offset = self._offset(local - offset)
        return local - offset


# --- the parser (robfig parser.go) --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Bounds:
    low: int
    high: int
    names: dict | None = None


_SECONDS = _Bounds(0, 59)
_MINUTES = _Bounds(0, 59)
_HOURS = _Bounds(0, 23)
_DOM = _Bounds(1, 31)
_MONTHS = _Bounds(1, 12, {m: i + 1 for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())})
_DOW = _Bounds(0, 6, {d: i for i, d in enumerate("sun mon tue wed thu fri sat".split())})

_INT64_MAX = (1 << 63) - 1


def go_quote(text: str) -> str:
    """``strconv.Quote`` for the texts a schedule can hold."""
    out = ['"']
    for char in text:
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif char.isprintable():
            out.append(char)
        elif ord(char) < 0x80:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) < 0x10000:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    out.append('"')
    return "".join(out)


def _must_parse_int(expr: str) -> int:
    if not re.fullmatch(r"[+-]?[0-9]+", expr):
        raise ScheduleError(f"failed to parse int from {expr}: strconv.Atoi: parsing {go_quote(expr)}: invalid syntax")
    number = int(expr)
    if not -_INT64_MAX - 1 <= number <= _INT64_MAX:
        raise ScheduleError(
            f"failed to parse int from {expr}: strconv.Atoi: parsing {go_quote(expr)}: value out of range")
    if number < 0:
        raise ScheduleError(f"negative number ({number}) not allowed: {expr}")
    return number


def _parse_int_or_name(expr: str, names: dict | None) -> int:
    if names is not None and expr.lower() in names:
        return names[expr.lower()]
    return _must_parse_int(expr)


def _get_bits(low: int, high: int, step: int) -> int:
    bits = 0
    for value in range(low, high + 1, step):
        bits |= 1 << value
    return bits


def _get_range(expr: str, bounds: _Bounds) -> int:
    range_and_step = expr.split("/")
    low_and_high = range_and_step[0].split("-")
    single_digit = len(low_and_high) == 1
    extra = 0
    if low_and_high[0] in ("*", "?"):
        # Whatever follows a leading star's hyphen is ignored, like robfig does ("*-5" is "*").
        start, end, extra = bounds.low, bounds.high, STAR_BIT
    else:
        start = _parse_int_or_name(low_and_high[0], bounds.names)
        if len(low_and_high) == 1:
            end = start
        elif len(low_and_high) == 2:
            end = _parse_int_or_name(low_and_high[1], bounds.names)
        else:
            raise ScheduleError(f"too many hyphens: {expr}")
    if len(range_and_step) == 1:
        step = 1
    elif len(range_and_step) == 2:
        step = _must_parse_int(range_and_step[1])
        # "N/step" means "N-max/step".
        if single_digit:
            end = bounds.high
        if step > 1:
            extra = 0
    else:
        raise ScheduleError(f"too many slashes: {expr}")
    if start < bounds.low:
        raise ScheduleError(f"beginning of range ({start}) below minimum ({bounds.low}): {expr}")
    if end > bounds.high:
        raise ScheduleError(f"end of range ({end}) above maximum ({bounds.high}): {expr}")
    if start > end:
        raise ScheduleError(f"beginning of range ({start}) beyond end of range ({end}): {expr}")
    if step == 0:
        raise ScheduleError(f"step of range should be a positive number: {expr}")
    return _get_bits(start, end, step) | extra


def _get_field(field: str, bounds: _Bounds) -> int:
    bits = 0
    for expr in (part for part in field.split(",") if part):
        bits |= _get_range(expr, bounds)
    return bits


def _all(bounds: _Bounds) -> int:
    return _get_bits(bounds.low, bounds.high, 1) | STAR_BIT


def _descriptor(spec: str, loc: tzinfo) -> Schedule:
    first = 1 << 0
    if spec in ("@yearly", "@annually"):
        return SpecSchedule(first, first, first, 1 << 1, 1 << 1, _all(_DOW), loc)
    if spec == "@monthly":
        return SpecSchedule(first, first, first, 1 << 1, _all(_MONTHS), _all(_DOW), loc)
    if spec == "@weekly":
        return SpecSchedule(first, first, first, _all(_DOM), _all(_MONTHS), 1 << 0, loc)
    if spec in ("@daily", "@midnight"):
        return SpecSchedule(first, first, first, _all(_DOM), _all(_MONTHS), _all(_DOW), loc)
    if spec == "@hourly":
        return SpecSchedule(first, first, _all(_HOURS), _all(_DOM), _all(_MONTHS), _all(_DOW), loc)
    every = "@every "
    if spec.startswith(every):
        try:
            nanoseconds = parse_go_duration(spec[len(every):])
        except ScheduleError as error:
            raise ScheduleError(f"failed to parse duration {spec}: {error}") from None
        # cron.Every: under a second becomes a second; anything below a second is dropped.
        return ConstantDelaySchedule(max(nanoseconds, 1_000_000_000) // 1_000_000_000)
    raise ScheduleError(f"unrecognized descriptor: {spec}")


def parse_schedule(text: str, location: tzinfo = UTC) -> Schedule:
    """``cron.ParseStandard(text)``; ``location`` is the zone of a schedule without a ``TZ=`` prefix (robfig's
    ``time.Local``: the controller-manager's zone, UTC in kubeviz). Raises ``ScheduleError``."""
    spec = text
    if not spec:
        raise ScheduleError("empty spec string")
    loc = location
    if spec.startswith("TZ=") or spec.startswith("CRON_TZ="):
        space, eq = spec.find(" "), spec.find("=")
        # robfig slices up to the first space; with none it would panic: read the rest as the zone.
        zone = spec[eq + 1:space] if space > eq else spec[eq + 1:]
        try:
            loc = load_location(zone)
        except ScheduleError as error:
            raise ScheduleError(f"provided bad location {zone}: {error}") from None
        spec = spec[space:].strip() if space > eq else ""
    if spec.startswith("@"):
        return _descriptor(spec, loc)
    fields = spec.split()
    if len(fields) != 5:
        raise ScheduleError(f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]")
    return SpecSchedule(
        second=1 << 0,  # ParseStandard has no seconds field: second 0
        minute=_get_field(fields[0], _MINUTES),
        hour=_get_field(fields[1], _HOURS),
        dom=_get_field(fields[2], _DOM),
        month=_get_field(fields[3], _MONTHS),
        dow=_get_field(fields[4], _DOW),
        location=loc,
    )
