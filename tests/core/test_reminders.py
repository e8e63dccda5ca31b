"""Reminder times across daylight-saving changes, at month ends and for recurring events."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.grammar import GrammarError
from core.reminders import (
    check_rrule,
    describe_offset,
    format_offset,
    next_occurrence,
    occurrences,
    plan_reminders,
    reminder_due,
    transient_backoff,
)

BRUSSELS = ZoneInfo("Europe/Brussels")
NEW_YORK = ZoneInfo("America/New_York")
DAY, HOUR = timedelta(days=1), timedelta(hours=1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_a_week_before_keeps_the_wall_clock_time_across_spring_forward():
    # Monday 30 March 2026, 10:00 CEST (08:00 UTC); clocks went forward on Sunday 29 March.
    event = utc(2026, 3, 30, 8, 0)
    assert reminder_due(event, 7 * DAY, BRUSSELS) == utc(2026, 3, 23, 9, 0)  # 10:00 CET
    assert reminder_due(event, DAY, BRUSSELS) == utc(2026, 3, 29, 8, 0)  # 10:00 CEST, the change day itself
    assert reminder_due(event, HOUR, BRUSSELS) == utc(2026, 3, 30, 7, 0)  # one elapsed hour


def test_a_day_before_across_fall_back():
    # Monday 26 October 2026, 09:00 CET (08:00 UTC); clocks went back on Sunday 25 October.
    event = utc(2026, 10, 26, 8, 0)
    assert reminder_due(event, DAY, BRUSSELS) == utc(2026, 10, 25, 8, 0)
    assert reminder_due(event, 2 * DAY, BRUSSELS) == utc(2026, 10, 24, 7, 0)  # 09:00 CEST
    assert reminder_due(event, 30 * timedelta(minutes=1), BRUSSELS) == utc(2026, 10, 26, 7, 30)


def test_month_ends_and_leap_days():
    # 1 March 2028 09:00 Brussels: a day earlier is the leap day, a week earlier is 23 February.
    event = utc(2028, 3, 1, 8, 0)
    assert reminder_due(event, DAY, BRUSSELS) == utc(2028, 2, 29, 8, 0)
    assert reminder_due(event, 7 * DAY, BRUSSELS) == utc(2028, 2, 23, 8, 0)
    # 1 January: the reminder falls in the previous year.
    assert reminder_due(utc(2027, 1, 1, 11, 0), 2 * DAY, BRUSSELS) == utc(2026, 12, 30, 11, 0)


def test_monthly_on_the_last_day_of_the_month():
    start = utc(2026, 1, 31, 9, 0)  # 10:00 CET
    rule = check_rrule("FREQ=MONTHLY;BYMONTHDAY=-1", start, BRUSSELS)
    found = occurrences(start, BRUSSELS, rule, after=utc(2026, 1, 1), until=utc(2026, 5, 1))
    assert found == [utc(2026, 1, 31, 9), utc(2026, 2, 28, 9), utc(2026, 3, 31, 8), utc(2026, 4, 30, 8)]


def test_every_first_thursday_stays_at_ten_local_through_dst():
    start = utc(2026, 3, 5, 9, 0)  # Thursday 5 March, 10:00 CET
    rule = check_rrule("RRULE:FREQ=MONTHLY;BYDAY=1TH", start, BRUSSELS)
    found = occurrences(start, BRUSSELS, rule, after=utc(2026, 3, 1), until=utc(2026, 6, 1))
    assert [o.astimezone(BRUSSELS).hour for o in found] == [10, 10, 10]
    assert found == [utc(2026, 3, 5, 9), utc(2026, 4, 2, 8), utc(2026, 5, 7, 8)]


def test_recurring_reminders_for_each_occurrence_only_ahead():
    start = utc(2026, 11, 2, 15, 0)  # Mondays 10:00 New York
    rule = check_rrule("FREQ=WEEKLY;COUNT=4", start, NEW_YORK)
    now = utc(2026, 11, 8, 12, 0)
    starts = occurrences(start, NEW_YORK, rule, after=now, until=now + 60 * DAY)
    assert starts == [utc(2026, 11, 9, 15), utc(2026, 11, 16, 15), utc(2026, 11, 23, 15)]
    planned = plan_reminders(starts, [DAY, HOUR], NEW_YORK, now=now)
    assert [(p.occurrence, p.due) for p in planned][:3] == [
        (utc(2026, 11, 9, 15), utc(2026, 11, 8, 15)),
        (utc(2026, 11, 9, 15), utc(2026, 11, 9, 14)),
        (utc(2026, 11, 16, 15), utc(2026, 11, 15, 15)),
    ]
    assert len(planned) == 6


def test_reminders_already_past_are_not_planned():
    event = utc(2026, 12, 1, 9, 0)
    planned = plan_reminders([event], [7 * DAY, DAY, HOUR], BRUSSELS, now=utc(2026, 11, 28, 0, 0))
    assert [format_offset(p.offset) for p in planned] == ["1d", "1h"]


def test_next_occurrence():
    start = utc(2026, 1, 1, 9, 0)
    assert next_occurrence(start, BRUSSELS, None, now=utc(2026, 1, 2)) is None
    assert next_occurrence(start, BRUSSELS, None, now=utc(2025, 12, 1)) == start
    assert next_occurrence(start, BRUSSELS, "FREQ=YEARLY", now=utc(2026, 6, 1)) == utc(2027, 1, 1, 9)


@pytest.mark.parametrize("rule", ["FREQ=MINUTELY", "FREQ=HOURLY;INTERVAL=2", "every thursday", "FREQ=WEEKLY;BYDAY=XX"])
def test_rules_that_are_refused(rule):
    with pytest.raises(GrammarError):
        check_rrule(rule, utc(2026, 1, 1), BRUSSELS)


def test_offsets_read_like_people_write_them():
    assert [format_offset(o) for o in (7 * DAY, 14 * DAY, DAY, HOUR, timedelta(minutes=90))] == [
        "7d", "2w", "1d", "1h", "90m"
    ]  # fmt: skip
    assert describe_offset(DAY) == "in 1 day" and describe_offset(3 * HOUR) == "in 3 hours"


def test_backoff_grows_and_is_capped():
    assert [transient_backoff(n).total_seconds() for n in (1, 2, 3)] == [2, 4, 8]
    assert transient_backoff(20) == timedelta(minutes=5)
