from datetime import UTC, date, datetime, timedelta

import pytest

from core.dates import parse_day, parse_duration, parse_durations, parse_when, parse_zone
from core.grammar import GrammarError

BRUSSELS = parse_zone("Europe/Brussels")
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("2020-09-28 10:00", datetime(2020, 9, 28, 8, 0, tzinfo=UTC)),  # CEST, UTC+2
        ("28/09/2020 10:00", datetime(2020, 9, 28, 8, 0, tzinfo=UTC)),
        ("01-06-2017", datetime(2017, 5, 31, 22, 0, tzinfo=UTC)),  # day first, as the seeds write it
        ("2020-01-02", datetime(2020, 1, 1, 23, 0, tzinfo=UTC)),  # ISO stays year-month-day; CET
        ("2020-09-28T10:00Z", datetime(2020, 9, 28, 10, 0, tzinfo=UTC)),  # an explicit zone wins
        ("10:00", datetime(2026, 11, 22, 9, 0, tzinfo=UTC)),  # today, in the user's zone
    ],
)
def test_parse_when(typed, expected):
    assert parse_when(typed, zone=BRUSSELS, now=NOW) == expected


def test_user_zone_is_used():
    lisbon = parse_zone("Europe/Lisbon")
    assert parse_when("2020-09-28 10:00", zone=lisbon, now=NOW) == datetime(2020, 9, 28, 9, 0, tzinfo=UTC)


def test_day_first_dates():
    assert parse_day("02-06-2017") == date(2017, 6, 2)
    assert parse_day("2017-06-02") == date(2017, 6, 2)


@pytest.mark.parametrize("typed", ["next blursday", "31/02/2020", "", "2020-13-01"])
def test_bad_dates_are_one_line_errors(typed):
    with pytest.raises(GrammarError, match="expected|is not"):
        parse_when(typed, zone=BRUSSELS, now=NOW)


def test_zones():
    with pytest.raises(GrammarError, match="Europe/Brussels"):
        parse_zone("Mars/Olympus")


def test_durations():
    assert parse_duration("30m") == timedelta(minutes=30)
    assert parse_duration("2w") == timedelta(weeks=2)
    assert parse_durations("1h,7d,1d,1d") == [timedelta(days=7), timedelta(days=1), timedelta(hours=1)]
    with pytest.raises(GrammarError):
        parse_duration("soon")
