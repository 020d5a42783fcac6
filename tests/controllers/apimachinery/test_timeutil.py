"""Duration and timestamp formatting (apimachinery/pkg/util/duration, metav1.Time).

The human_duration table is upstream's TestHumanDuration plus every branch boundary.
"""

from datetime import datetime, timedelta, timezone

import pytest

from controllers.apimachinery.timeutil import (
    format_rfc3339,
    format_rfc3339_micro,
    human_duration,
    parse_rfc3339,
    short_human_duration,
)

MS = timedelta(milliseconds=1)
NS = 1e-9
S = timedelta(seconds=1)
M = timedelta(minutes=1)
H = timedelta(hours=1)
D = timedelta(days=1)
Y = timedelta(days=365)


@pytest.mark.parametrize(
    "duration, text",
    [
        # < -1s is clock skew beyond tolerance.
        (-2 * S, "<invalid>"),
        (-100 * D, "<invalid>"),
        (-2 + NS * 1000, "0s"),  # -1.999999s truncates to -1s
        (-1 * S, "0s"),
        (-0.5, "0s"),
        (0, "0s"),
        (S - MS, "0s"),
        (S, "1s"),
        (70 * S, "70s"),
        (119 * S, "119s"),
        (2 * M - MS, "119s"),
        # < 10m: MmSs, Mm when S=0
        (2 * M, "2m"),
        (2 * M + S, "2m1s"),
        (190 * S, "3m10s"),
        (9 * M + 59 * S, "9m59s"),
        (10 * M - MS, "9m59s"),
        # < 3h: Mm
        (10 * M, "10m"),
        (10 * M + S, "10m"),
        (70 * M, "70m"),
        (2 * H + 59 * M, "179m"),
        (3 * H - MS, "179m"),
        # < 8h: HhMm, Hh when M=0
        (3 * H, "3h"),
        (3 * H + M, "3h1m"),
        (7 * H + 59 * M, "7h59m"),
        (8 * H - MS, "7h59m"),
        # < 48h: Hh
        (8 * H, "8h"),
        (8 * H + 59 * M, "8h"),
        (47 * H, "47h"),
        (2 * D - MS, "47h"),
        # < 8d: DdHh, Dd when H=0
        (2 * D, "2d"),
        (49 * H, "2d1h"),
        (7 * D + 23 * H, "7d23h"),
        (8 * D - MS, "7d23h"),
        # < 2y: Dd
        (8 * D, "8d"),
        (8 * D + 23 * H, "8d"),
        (8 * D + 2 * H, "8d"),
        (367 * D, "367d"),
        (729 * D, "729d"),
        (2 * Y - MS, "729d"),
        # < 8y: YyDd, Yy when D=0
        (2 * Y, "2y"),
        (2 * Y + 23 * H + 59 * M, "2y"),
        (2 * Y + D - MS, "2y"),
        (2 * Y + D, "2y1d"),
        (2 * Y + 25 * H, "2y1d"),
        (7 * Y, "7y"),
        (8 * Y - MS, "7y364d"),
        # >= 8y: Yy
        (8 * Y, "8y"),
        (8 * Y + 2 * H, "8y"),
        (8 * Y + 364 * D, "8y"),
        (9 * Y, "9y"),
    ],
    ids=lambda v: str(v),
)
def test_human_duration(duration, text):
    assert human_duration(duration) == text


@pytest.mark.parametrize(
    "seconds, text",
    [(0, "0s"), (1.5, "1s"), (119.999, "119s"), (120, "2m"), (599, "9m59s"), (600, "10m"), (3600 * 3, "3h")],
    ids=lambda v: str(v),
)
def test_human_duration_accepts_seconds(seconds, text):
    assert human_duration(seconds) == text


@pytest.mark.parametrize(
    "duration, text",
    [
        (-2 * S, "<invalid>"),
        (-2 + NS * 1000, "0s"),
        (0, "0s"),
        (S - MS, "0s"),
        (S, "1s"),
        (2 * S - MS, "1s"),
        (M - MS, "59s"),
        (M, "1m"),
        (2 * M - MS, "1m"),
        (H - MS, "59m"),
        (H, "1h"),
        (2 * H - MS, "1h"),
        (D - MS, "23h"),
        (D, "1d"),
        (2 * D - MS, "1d"),
        (Y - MS, "364d"),
        (Y, "1y"),
        (2 * Y - MS, "1y"),
        (2 * Y, "2y"),
    ],
    ids=lambda v: str(v),
)
def test_short_human_duration(duration, text):
    assert short_human_duration(duration) == text


UTC = timezone.utc


@pytest.mark.parametrize(
    "moment, text, micro",
    [
        (datetime(2025, 1, 1, tzinfo=UTC), "2025-01-01T00:00:00Z", "2025-01-01T00:00:00.000000Z"),
        (datetime(2025, 1, 1, 12, 30, 5, 999999, tzinfo=UTC), "2025-01-01T12:30:05Z", "2025-01-01T12:30:05.999999Z"),
        (datetime(2025, 1, 1, 1, 0, tzinfo=timezone(timedelta(hours=1))), "2025-01-01T00:00:00Z",
         "2025-01-01T00:00:00.000000Z"),
        (0, "1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000000Z"),
        (1735689600.25, "2025-01-01T00:00:00Z", "2025-01-01T00:00:00.250000Z"),
        (datetime(1, 1, 1, tzinfo=UTC), "0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000000Z"),
    ],
    ids=["midnight", "fraction-truncated", "offset-converted", "epoch-zero", "epoch-float", "year-1"],
)
def test_format_rfc3339(moment, text, micro):
    assert format_rfc3339(moment) == text
    assert format_rfc3339_micro(moment) == micro


def test_format_rejects_naive_datetimes():
    with pytest.raises(ValueError):
        format_rfc3339(datetime(2025, 1, 1))
    with pytest.raises(TypeError):
        format_rfc3339("2025-01-01T00:00:00Z")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2025-01-01T00:00:00Z", datetime(2025, 1, 1, tzinfo=UTC)),
        ("2025-01-01T00:00:00.000000Z", datetime(2025, 1, 1, tzinfo=UTC)),
        ("2025-01-01T00:00:00.5Z", datetime(2025, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)),
        ("2025-01-01T00:00:00.123456789Z", datetime(2025, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)),
        ("2025-01-01T01:00:00+01:00", datetime(2025, 1, 1, tzinfo=UTC)),
        ("2024-12-31T19:00:00-05:00", datetime(2025, 1, 1, tzinfo=UTC)),
    ],
    ids=lambda v: str(v),
)
def test_parse_rfc3339(text, expected):
    parsed = parse_rfc3339(text)
    assert parsed == expected
    assert parsed.tzinfo == UTC


@pytest.mark.parametrize(
    "text",
    [
        "2025-01-01",
        "2025-01-01T00:00:00",
        "2025-01-01 00:00:00Z",
        "2025-01-01T00:00Z",
        "2025-13-01T00:00:00Z",
        "2025-01-01T24:00:00Z",
        "2025-01-01T00:00:00+0100",
        "2025-01-01T00:00:00+25:00",
        "2025-01-01T00:00:00.Z",
        " 2025-01-01T00:00:00Z",
        "",
    ],
    ids=lambda v: repr(v),
)
def test_parse_rfc3339_rejects(text):
    with pytest.raises(ValueError):
        parse_rfc3339(text)


def test_round_trip():
    moment = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert parse_rfc3339(format_rfc3339(moment)) == moment
    assert human_duration(parse_rfc3339("2025-01-01T00:02:00Z") - parse_rfc3339("2025-01-01T00:00:00Z")) == "2m"
