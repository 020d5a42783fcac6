"""Tests for ``controllers.cronschedule``: parity with robfig/cron v3 (``ParseStandard`` + ``Next``).

The ``TestActivation``/``TestNext``/``TestErrors`` rows come from robfig's ``spec_test.go`` and
``parser_test.go`` (seconds-field rows rewritten as the five fields ``ParseStandard`` takes); error texts are
robfig's ``fmt.Errorf`` formats and Go's ``strconv``/``time`` messages.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from controllers.cronschedule import (
    GO_ZERO_TIME,
    STAR_BIT,
    ConstantDelaySchedule,
    ScheduleError,
    SpecSchedule,
    load_location,
    parse_go_duration,
    parse_schedule,
)

UTC = timezone.utc
NEW_YORK = ZoneInfo("America/New_York")


def at(text: str) -> datetime:
    """``2012-07-09T15:00:00Z`` or ``2012-03-11T01:00:00-0500``."""
    if text.endswith("Z"):
        text = text[:-1] + "+0000"
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S%z")


def same_instant(a: datetime, b: datetime) -> bool:
    # Compare in UTC: Python ignores ``fold`` when both sides share a ZoneInfo.
    return a.astimezone(UTC) == b.astimezone(UTC)


# --- TestActivation (spec_test.go): does the schedule fire at exactly this minute? -------------------------

ACTIVATION = [
    ("2012-07-09T15:00:00Z", "0/15 * * * *", True),
    ("2012-07-09T15:45:00Z", "0/15 * * * *", True),
    ("2012-07-09T15:40:00Z", "0/15 * * * *", False),
    ("2012-07-09T15:05:00Z", "5/15 * * * *", True),
    ("2012-07-09T15:20:00Z", "5/15 * * * *", True),
    ("2012-07-09T15:50:00Z", "5/15 * * * *", True),
    ("2012-07-15T15:00:00Z", "0/15 * * Jul *", True),
    ("2012-07-15T15:00:00Z", "0/15 * * Jun *", False),
    ("2012-07-15T08:30:00Z", "30 08 ? Jul Sun", True),
    ("2012-07-15T08:30:00Z", "30 08 15 Jul ?", True),
    ("2012-07-16T08:30:00Z", "30 08 ? Jul Sun", False),
    ("2012-07-16T08:30:00Z", "30 08 15 Jul ?", False),
    ("2012-07-09T15:00:00Z", "@hourly", True),
    ("2012-07-09T15:04:00Z", "@hourly", False),
    ("2012-07-09T15:00:00Z", "@daily", False),
    ("2012-07-09T00:00:00Z", "@daily", True),
    ("2012-07-09T00:00:00Z", "@midnight", True),
    ("2012-07-09T00:00:00Z", "@weekly", False),
    ("2012-07-08T00:00:00Z", "@weekly", True),
    ("2012-07-08T01:00:00Z", "@weekly", False),
    ("2012-07-08T00:00:00Z", "@monthly", False),
    ("2012-07-01T00:00:00Z", "@monthly", True),
    ("2012-01-01T00:00:00Z", "@yearly", True),
    ("2012-01-01T00:00:00Z", "@annually", True),
    ("2012-07-01T00:00:00Z", "@yearly", False),
    # Both day fields restricted: either may match.
    ("2012-07-15T00:00:00Z", "* * 1,15 * Sun", True),
    ("2012-06-15T00:00:00Z", "* * 1,15 * Sun", True),
    ("2012-08-01T00:00:00Z", "* * 1,15 * Sun", True),
    ("2012-07-15T00:00:00Z", "* * */10 * Sun", True),  # robfig issue #70
    ("2012-07-22T00:00:00Z", "* * */10 * Sun", True),  # a Sunday, not a multiple of 10 + 1
    # One of them a star: both must match.
    ("2012-07-15T00:00:00Z", "* * * * Mon", False),
    ("2012-07-09T00:00:00Z", "* * 1,15 * *", False),
    ("2012-07-15T00:00:00Z", "* * 1,15 * *", True),
    ("2012-07-15T00:00:00Z", "* * */2 * Sun", True),
    ("2012-07-22T00:00:00Z", "* * ? * Sun", True),
    ("2012-07-23T00:00:00Z", "* * ? * Sun", False),
    # "*/1" keeps the star bit, so the day-of-week field alone decides: Sundays only.
    ("2012-07-15T00:00:00Z", "0 0 */1 * Sun", True),
    ("2012-07-16T00:00:00Z", "0 0 */1 * Sun", False),
    # "*/2" drops it: odd days OR Sundays.
    ("2012-07-17T00:00:00Z", "0 0 */2 * Sun", True),
    ("2012-07-16T00:00:00Z", "0 0 */2 * Sun", False),
    # names, case-insensitive, in ranges and lists
    ("2012-07-16T00:00:00Z", "0 0 * * mon-FRI", True),
    ("2012-07-14T00:00:00Z", "0 0 * * mon-FRI", False),
    ("2012-12-25T00:00:00Z", "0 0 25 JAN,dec *", True),
    ("2012-07-09T03:00:00Z", "0 1-5/2 * * *", True),
    ("2012-07-09T04:00:00Z", "0 1-5/2 * * *", False),
    ("2012-07-09T07:00:00Z", "0 1-5/2 * * *", False),
    ("2012-07-09T23:00:00Z", "0 3/4 * * *", True),  # "3/4" is "3-23/4"
    ("2012-07-09T00:05:00Z", "5,10,15 0 * * *", True),
    ("2012-07-09T00:06:00Z", "5,10,15 0 * * *", False),
]


@pytest.mark.parametrize("moment, spec, expected", ACTIVATION, ids=[f"{s} @ {m}" for m, s, _ in ACTIVATION])
def test_activation(moment, spec, expected):
    schedule = parse_schedule(spec)
    fired = schedule.next(at(moment) - timedelta(seconds=1))
    assert (fired == at(moment)) is expected


# --- TestNext (spec_test.go) -------------------------------------------------------------------------------

NEXT = [
    ("2012-07-09T14:45:00Z", "0/15 * * * *", "2012-07-09T15:00:00Z"),
    ("2012-07-09T14:59:00Z", "0/15 * * * *", "2012-07-09T15:00:00Z"),
    ("2012-07-09T14:59:59Z", "0/15 * * * *", "2012-07-09T15:00:00Z"),
    ("2012-07-09T15:45:00Z", "20-35/15 * * * *", "2012-07-09T16:20:00Z"),
    ("2012-07-09T23:46:00Z", "*/15 * * * *", "2012-07-10T00:00:00Z"),
    ("2012-07-09T23:45:00Z", "20-35/15 * * * *", "2012-07-10T00:20:00Z"),
    ("2012-07-09T23:35:51Z", "20-35/15 1/2 * * *", "2012-07-10T01:20:00Z"),
    ("2012-07-09T23:35:51Z", "20-35/15 10-12 * * *", "2012-07-10T10:20:00Z"),
    ("2012-07-09T23:35:51Z", "20-35/15 1/2 */2 * *", "2012-07-11T01:20:00Z"),
    ("2012-07-09T23:35:51Z", "20-35/15 * 9-20 * *", "2012-07-10T00:20:00Z"),
    ("2012-07-09T23:35:51Z", "20-35/15 * 9-20 Jul *", "2012-07-10T00:20:00Z"),
    ("2012-07-09T23:35:00Z", "0 0 9 Apr-Oct ?", "2012-08-09T00:00:00Z"),
    ("2012-07-09T23:35:00Z", "0 0 */5 Apr,Aug,Oct Mon", "2012-08-01T00:00:00Z"),
    ("2012-07-09T23:35:00Z", "0 0 */5 Oct Mon", "2012-10-01T00:00:00Z"),
    ("2012-07-09T23:35:00Z", "0 0 * Feb Mon", "2013-02-04T00:00:00Z"),
    ("2012-07-09T23:35:00Z", "0 0 * Feb Mon/2", "2013-02-01T00:00:00Z"),
    ("2012-12-31T23:59:45Z", "* * * * *", "2013-01-01T00:00:00Z"),
    ("2012-07-09T23:35:00Z", "0 0 29 Feb ?", "2016-02-29T00:00:00Z"),
    # Daylight saving time in New York: 2am EST (-5) -> 3am EDT (-4) on 2012-03-11.
    ("2012-03-11T00:00:00-0500", "TZ=America/New_York 30 2 11 Mar ?", "2013-03-11T02:30:00-0400"),
    ("2012-03-11T00:00:00-0500", "TZ=America/New_York 0 * * * ?", "2012-03-11T01:00:00-0500"),
    ("2012-03-11T01:00:00-0500", "TZ=America/New_York 0 * * * ?", "2012-03-11T03:00:00-0400"),
    ("2012-03-11T03:00:00-0400", "TZ=America/New_York 0 * * * ?", "2012-03-11T04:00:00-0400"),
    ("2012-03-11T04:00:00-0400", "TZ=America/New_York 0 * * * ?", "2012-03-11T05:00:00-0400"),
    ("2012-03-11T00:00:00-0500", "CRON_TZ=America/New_York 0 * * * ?", "2012-03-11T01:00:00-0500"),
    ("2012-03-11T01:00:00-0500", "CRON_TZ=America/New_York 0 * * * ?", "2012-03-11T03:00:00-0400"),
    ("2012-03-11T00:00:00-0500", "TZ=America/New_York 0 1 * * ?", "2012-03-11T01:00:00-0500"),
    ("2012-03-11T01:00:00-0500", "TZ=America/New_York 0 1 * * ?", "2012-03-12T01:00:00-0400"),
    # 2am does not exist that day: skipped, not moved.
    ("2012-03-11T00:00:00-0500", "TZ=America/New_York 0 2 * * ?", "2012-03-12T02:00:00-0400"),
    ("2012-03-11T00:00:00-0500", "TZ=America/New_York 30 2 * * ?", "2012-03-12T02:30:00-0400"),
    # 2am EDT (-4) -> 1am EST (-5) on 2012-11-04: 1am happens twice and fires twice.
    ("2012-11-04T00:00:00-0400", "TZ=America/New_York 30 2 04 Nov ?", "2012-11-04T02:30:00-0500"),
    ("2012-11-04T01:45:00-0400", "TZ=America/New_York 30 1 04 Nov ?", "2012-11-04T01:30:00-0500"),
    ("2012-11-04T00:00:00-0400", "TZ=America/New_York 0 * * * ?", "2012-11-04T01:00:00-0400"),
    ("2012-11-04T01:00:00-0400", "TZ=America/New_York 0 * * * ?", "2012-11-04T01:00:00-0500"),
    ("2012-11-04T01:00:00-0500", "TZ=America/New_York 0 * * * ?", "2012-11-04T02:00:00-0500"),
    ("2012-11-04T00:00:00-0400", "TZ=America/New_York 0 1 * * ?", "2012-11-04T01:00:00-0400"),
    ("2012-11-04T01:00:00-0400", "TZ=America/New_York 0 1 * * ?", "2012-11-04T01:00:00-0500"),
    ("2012-11-04T01:00:00-0500", "TZ=America/New_York 0 1 * * ?", "2012-11-05T01:00:00-0500"),
    ("2012-11-04T00:00:00-0400", "TZ=America/New_York 0 2 * * ?", "2012-11-04T02:00:00-0500"),
    ("2012-11-04T02:00:00-0500", "TZ=America/New_York 0 2 * * ?", "2012-11-05T02:00:00-0500"),
    ("2012-11-04T00:00:00-0400", "TZ=America/New_York 0 3 * * ?", "2012-11-04T03:00:00-0500"),
    ("2012-11-04T03:00:00-0500", "TZ=America/New_York 0 3 * * ?", "2012-11-05T03:00:00-0500"),
    ("2012-11-04T00:00:00-0400", "TZ=America/New_York 0 3 3 * ?", "2012-12-03T03:00:00-0500"),
    # Midnight that does not exist (robfig issue #157).
    ("2018-10-17T05:00:00-0400", "TZ=America/Sao_Paulo 0 9 10 * ?", "2018-11-10T06:00:00-0500"),
    ("2018-02-14T05:00:00-0500", "TZ=America/Sao_Paulo 0 9 22 * ?", "2018-02-22T07:00:00-0500"),
    # TestNextWithTz: the schedule's zone is the given time's zone when there is no TZ= prefix.
    ("2016-01-03T13:09:03+0530", "14 14 * * *", "2016-01-03T14:14:00+0530"),
    ("2016-01-03T04:09:03+0530", "14 14 * * ?", "2016-01-03T14:14:00+0530"),
]


@pytest.mark.parametrize("start, spec, expected", NEXT, ids=[f"{s} after {t}" for t, s, _ in NEXT])
def test_next(start, spec, expected):
    location = at(start).tzinfo if "TZ=" not in spec else UTC
    got = parse_schedule(spec, location).next(at(start))
    assert same_instant(got, at(expected)), got


@pytest.mark.parametrize("spec", ["0 0 30 Feb ?", "0 0 31 Apr ?", "59 23 31 2 *"])
def test_unsatisfiable_schedule_gives_the_zero_time(spec):
    schedule = parse_schedule(spec)
    assert schedule.next(at("2012-07-09T23:35:00Z")) == GO_ZERO_TIME
    assert schedule.next(GO_ZERO_TIME) == GO_ZERO_TIME


def test_next_answers_in_the_zone_of_the_given_time():
    schedule = parse_schedule("TZ=America/New_York 0 6 * * *")
    got = schedule.next(datetime(2016, 5, 19, 9, 0, tzinfo=UTC))
    assert got.tzinfo is UTC
    assert got == datetime(2016, 5, 19, 10, 0, tzinfo=UTC)  # 09:00 UTC is 05:00 EDT; next is 06:00 EDT


def test_spec_schedule_with_time_zone_in_a_dst_gap_via_time_zone_argument():
    # spec.timeZone arrives as the parser's location (the controller prefixes "TZ=<zone> ").
    schedule = parse_schedule("30 2 * * *", NEW_YORK)
    got = schedule.next(datetime(2024, 3, 10, 5, 0, tzinfo=UTC))  # 00:00 EST on spring-forward day
    assert got == datetime(2024, 3, 11, 6, 30, tzinfo=UTC)  # 02:30 EDT the next day: 03-10 02:30 is skipped


def test_repeated_hour_fires_twice_in_new_york_2024():
    schedule = parse_schedule("30 1 * * *", NEW_YORK)
    first = schedule.next(datetime(2024, 11, 3, 4, 0, tzinfo=UTC))
    second = schedule.next(first)
    third = schedule.next(second)
    assert [first, second, third] == [
        datetime(2024, 11, 3, 5, 30, tzinfo=UTC),  # 01:30 EDT
        datetime(2024, 11, 3, 6, 30, tzinfo=UTC),  # 01:30 EST
        datetime(2024, 11, 4, 6, 30, tzinfo=UTC),
    ]


# --- fields, star bits, descriptors -----------------------------------------------------------------------


def bits(*values: int) -> int:
    result = 0
    for value in values:
        result |= 1 << value
    return result


FIELDS = [
    ("5", bits(5)),
    ("5,7", bits(5, 7)),
    ("5-7", bits(5, 6, 7)),
    ("5/20", bits(5, 25, 45)),
    ("5-30/10", bits(5, 15, 25)),
    ("*/20", bits(0, 20, 40)),
    ("*", bits(*range(60)) | STAR_BIT),
    ("?", bits(*range(60)) | STAR_BIT),
    ("*/1", bits(*range(60)) | STAR_BIT),
    ("*-5", bits(*range(60)) | STAR_BIT),  # robfig ignores what follows a leading star's hyphen
    (",5,,", bits(5)),
    (",", 0),
    ("+5", bits(5)),
]


@pytest.mark.parametrize("field, expected", FIELDS, ids=[f for f, _ in FIELDS])
def test_minute_field_bits(field, expected):
    schedule = parse_schedule(f"{field} * * * *")
    assert schedule.minute == expected


def test_names_map_to_numbers():
    schedule = parse_schedule("0 0 * jan-MAR,Dec sun,SAT")
    assert schedule.month == bits(1, 2, 3, 12)
    assert schedule.dow == bits(0, 6)


DESCRIPTORS = {
    "@yearly": SpecSchedule(1, 1, 1, bits(1), bits(1), bits(*range(7)) | STAR_BIT),
    "@annually": SpecSchedule(1, 1, 1, bits(1), bits(1), bits(*range(7)) | STAR_BIT),
    "@monthly": SpecSchedule(1, 1, 1, bits(1), bits(*range(1, 13)) | STAR_BIT, bits(*range(7)) | STAR_BIT),
    "@weekly": SpecSchedule(1, 1, 1, bits(*range(1, 32)) | STAR_BIT, bits(*range(1, 13)) | STAR_BIT, bits(0)),
    "@daily": SpecSchedule(1, 1, 1, bits(*range(1, 32)) | STAR_BIT, bits(*range(1, 13)) | STAR_BIT,
                           bits(*range(7)) | STAR_BIT),
    "@midnight": SpecSchedule(1, 1, 1, bits(*range(1, 32)) | STAR_BIT, bits(*range(1, 13)) | STAR_BIT,
                              bits(*range(7)) | STAR_BIT),
    "@hourly": SpecSchedule(1, 1, bits(*range(24)) | STAR_BIT, bits(*range(1, 32)) | STAR_BIT,
                            bits(*range(1, 13)) | STAR_BIT, bits(*range(7)) | STAR_BIT),
}


@pytest.mark.parametrize("descriptor", sorted(DESCRIPTORS))
def test_descriptors(descriptor):
    assert parse_schedule(descriptor) == DESCRIPTORS[descriptor]


# --- @every: ConstantDelaySchedule -------------------------------------------------------------------------

EVERY = [
    ("@every 1h", 3600),
    ("@every 1h30m", 5400),
    ("@every 5m", 300),
    ("@every 1.5s", 1),  # fractions of a second are dropped
    ("@every 2.9s", 2),
    ("@every 500ms", 1),  # less than a second becomes a second
    ("@every 0", 1),
    ("@every -1h", 1),
    ("@every 1us", 1),
    ("@every 90s", 90),
    ("@every .5h", 1800),
    ("@every 1h0.5m", 3630),
]


@pytest.mark.parametrize("spec, delay", EVERY, ids=[s for s, _ in EVERY])
def test_every_delay(spec, delay):
    assert parse_schedule(spec) == ConstantDelaySchedule(delay)


def test_every_next_truncates_to_the_second_and_adds_the_delay():
    schedule = parse_schedule("@every 1h")
    assert schedule.next(datetime(2016, 5, 19, 9, 59, 30, 700_000, tzinfo=UTC)) == datetime(
        2016, 5, 19, 10, 59, 30, tzinfo=UTC)
    # No alignment to the clock: it counts from the given time.
    assert parse_schedule("@every 7m").next(datetime(2016, 5, 19, 9, 1, 13, tzinfo=UTC)) == datetime(
        2016, 5, 19, 9, 8, 13, tzinfo=UTC)


# --- errors (robfig messages) ------------------------------------------------------------------------------

ERRORS = [
    ("", "empty spec string"),
    ("xyz", "expected exactly 5 fields, found 1: [xyz]"),
    ("* * * *", "expected exactly 5 fields, found 4: [* * * *]"),
    ("0 0 * * * *", "expected exactly 5 fields, found 6: [0 0 * * * *]"),
    ("obvious error schedule", "expected exactly 5 fields, found 3: [obvious error schedule]"),
    ("60 0 * * *", "end of range (60) above maximum (59): 60"),
    ("0 60 * * *", "end of range (60) above maximum (23): 60"),
    ("0 0 0 * *", "beginning of range (0) below minimum (1): 0"),
    ("0 0 * 13 *", "end of range (13) above maximum (12): 13"),
    ("0 0 * * 7", "end of range (7) above maximum (6): 7"),
    ("0 0 * * XYZ", 'failed to parse int from XYZ: strconv.Atoi: parsing "XYZ": invalid syntax'),
    ("H * * * *", 'failed to parse int from H: strconv.Atoi: parsing "H": invalid syntax'),
    ("5-3 * * * *", "beginning of range (5) beyond end of range (3): 5-3"),
    ("1-2-3 * * * *", "too many hyphens: 1-2-3"),
    ("*/2/3 * * * *", "too many slashes: */2/3"),
    ("15/0 * * * *", "step of range should be a positive number: 15/0"),
    ("*/-1 * * * *", "negative number (-1) not allowed: -1"),
    ("-5 * * * *", 'failed to parse int from : strconv.Atoi: parsing "": invalid syntax'),
    ("99999999999999999999 * * * *", "failed to parse int from 99999999999999999999: strconv.Atoi: "
                                     'parsing "99999999999999999999": value out of range'),
    ("@fortnightly", "unrecognized descriptor: @fortnightly"),
    ("@daily ", "unrecognized descriptor: @daily "),
    ("@every", "unrecognized descriptor: @every"),
    ("@every ", 'failed to parse duration @every : time: invalid duration ""'),
    ("@every 1x", 'failed to parse duration @every 1x: time: unknown unit "x" in duration "1x"'),
    ("@every 10", 'failed to parse duration @every 10: time: missing unit in duration "10"'),
    ("@every h", 'failed to parse duration @every h: time: invalid duration "h"'),
    ("@every .s", 'failed to parse duration @every .s: time: invalid duration ".s"'),
    ("@every 1 h", 'failed to parse duration @every 1 h: time: unknown unit " h" in duration "1 h"'),
    ("TZ=Mars/Olympus 0 * * * *", "provided bad location Mars/Olympus: unknown time zone Mars/Olympus"),
    ("CRON_TZ=../etc 0 * * * *", "provided bad location ../etc: time: invalid location name"),
]


@pytest.mark.parametrize("spec, message", ERRORS, ids=[repr(s) for s, _ in ERRORS])
def test_parse_errors(spec, message):
    with pytest.raises(ScheduleError) as caught:
        parse_schedule(spec)
    assert str(caught.value) == message


def test_tz_prefix_sets_the_location():
    assert parse_schedule("TZ=America/New_York 0 * * * *").location == NEW_YORK
    assert parse_schedule("CRON_TZ=UTC @daily").location is UTC
    assert parse_schedule("0 * * * *").location is UTC  # the controller-manager's zone in kubeviz


def test_go_durations():
    assert parse_go_duration("1h2m3.5s") == 3_723_500_000_000
    assert parse_go_duration("-1.5h") == -5_400_000_000_000
    assert parse_go_duration("1µs") == 1_000 == parse_go_duration("1μs")
    with pytest.raises(ScheduleError, match=r'^time: invalid duration "9999999999h"$'):
        parse_go_duration("9999999999h")


def test_load_location():
    assert load_location("") is UTC and load_location("UTC") is UTC and load_location("Local") is UTC
    assert load_location("Europe/Rome") == ZoneInfo("Europe/Rome")
    with pytest.raises(ScheduleError, match="^unknown time zone bad timezone$"):
        load_location("bad timezone")
