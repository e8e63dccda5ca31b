import csv
import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.goals import (
    CheckinKind,
    Status,
    checkin_dates,
    checkin_due,
    default_due,
    digest_buckets,
    is_overdue,
    local_day,
    may_move,
    neutralise_cell,
    parse_status,
)
from core.grammar import GrammarError


@pytest.mark.parametrize(
    "set_on, due",
    [
        (date(2026, 11, 22), date(2027, 2, 22)),
        (date(2026, 11, 30), date(2027, 2, 28)),  # February is short: the month end clamps
        (date(2027, 11, 30), date(2028, 2, 29)),  # ...to the 29th in a leap year
        (date(2026, 11, 28), date(2027, 2, 28)),
        (date(2027, 11, 29), date(2028, 2, 29)),
        (date(2026, 12, 31), date(2027, 3, 31)),
        (date(2027, 3, 31), date(2027, 6, 30)),  # June has 30 days
        (date(2027, 10, 31), date(2028, 1, 31)),  # across a year end
        (date(2028, 2, 29), date(2028, 5, 29)),  # from a leap day
        (date(2099, 11, 30), date(2100, 2, 28)),  # 2100 is not a leap year
        (date(2099, 11, 29), date(2100, 2, 28)),
        (date(2399, 11, 30), date(2400, 2, 29)),  # 2400 is
    ],
)
def test_three_calendar_months(set_on, due):
    assert default_due(set_on) == due


def test_check_in_dates_a_month_before_and_on_the_day():
    assert checkin_dates(date(2027, 2, 28)) == {
        CheckinKind.MONTH_BEFORE: date(2027, 1, 28),
        CheckinKind.DUE: date(2027, 2, 28),
    }
    # A month before 31 March is the last day of February.
    assert checkin_dates(date(2027, 3, 31))[CheckinKind.MONTH_BEFORE] == date(2027, 2, 28)
    assert checkin_dates(date(2028, 3, 31))[CheckinKind.MONTH_BEFORE] == date(2028, 2, 29)


def test_which_check_in_is_due():
    due, set_on = date(2027, 2, 28), date(2026, 11, 30)
    assert checkin_due(due=due, set_on=set_on, today=date(2027, 1, 27), sent=()) is None
    assert checkin_due(due=due, set_on=set_on, today=date(2027, 1, 28), sent=()) == CheckinKind.MONTH_BEFORE
    assert checkin_due(due=due, set_on=set_on, today=date(2027, 2, 10), sent=()) == CheckinKind.MONTH_BEFORE
    assert checkin_due(due=due, set_on=set_on, today=date(2027, 2, 10), sent={"month-before"}) is None
    assert checkin_due(due=due, set_on=set_on, today=date(2027, 2, 28), sent={"month-before"}) == CheckinKind.DUE
    assert checkin_due(due=due, set_on=set_on, today=date(2027, 2, 28), sent={"month-before", "due"}) is None
    # Missed the month-before one (the bot was down): on the due day only the due one goes, and once.
    assert checkin_due(due=due, set_on=set_on, today=date(2027, 3, 5), sent=()) == CheckinKind.DUE
    assert checkin_due(due=due, set_on=set_on, today=date(2027, 3, 5), sent={"due"}) is None


def test_a_goal_set_within_a_month_of_its_due_date_gets_only_the_due_check_in():
    due, set_on = date(2027, 1, 10), date(2026, 12, 20)
    assert checkin_due(due=due, set_on=set_on, today=date(2026, 12, 20), sent=()) is None
    assert checkin_due(due=due, set_on=set_on, today=date(2027, 1, 9), sent=()) is None
    assert checkin_due(due=due, set_on=set_on, today=date(2027, 1, 10), sent=()) == CheckinKind.DUE
    # Set exactly a month before: no check-in the very day it was set.
    assert checkin_due(due=due, set_on=date(2026, 12, 10), today=date(2026, 12, 10), sent=()) is None


@pytest.mark.parametrize(
    "typed, status",
    [
        ("on-track", Status.ON_TRACK),
        ("On Track", Status.ON_TRACK),
        ("ontrack", Status.ON_TRACK),
        ("AT_RISK", Status.AT_RISK),
        ("done", Status.DONE),
        ("dropped", Status.DROPPED),
    ],
)
def test_parse_status(typed, status):
    assert parse_status(typed) == status


def test_an_unknown_status_is_one_line():
    with pytest.raises(GrammarError, match="^The status is one of on-track, at-risk, done or dropped, not `late`.$"):
        parse_status("late")


def test_transitions():
    for new in Status:
        assert may_move(Status.ON_TRACK, new)
        assert may_move(Status.AT_RISK, new)
    assert may_move(Status.DONE, Status.DONE)  # a note or key learnings after closing
    for closed in (Status.DONE, Status.DROPPED):
        assert not any(may_move(closed, new) for new in Status if new != closed)


def test_overdue_and_digest_buckets():
    today = date(2027, 3, 1)
    now = datetime(2027, 3, 1, 9, tzinfo=UTC)
    assert is_overdue(status="at-risk", due=date(2027, 2, 28), today=today)
    assert not is_overdue(status="done", due=date(2027, 2, 28), today=today)
    assert not is_overdue(status="on-track", due=today, today=today)
    old = now - timedelta(days=8)
    soon = digest_buckets(status="on-track", due=today + timedelta(days=14), updated_at=old, today=today, now=now)
    assert (soon.due_soon, soon.overdue, soon.changed) == (True, False, False)
    late = digest_buckets(status="at-risk", due=today - timedelta(days=1), updated_at=old, today=today, now=now)
    assert (late.due_soon, late.overdue, late.changed) == (False, True, False)
    closed = digest_buckets(status="done", due=today, updated_at=now - timedelta(days=6), today=today, now=now)
    assert (closed.due_soon, closed.overdue, closed.changed) == (False, False, True)
    far = digest_buckets(status="on-track", due=today + timedelta(days=15), updated_at=old, today=today, now=now)
    assert not far.any


def test_local_day_follows_the_zone():
    moment = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    assert local_day(moment, ZoneInfo("Europe/Warsaw")) == date(2026, 12, 1)
    assert local_day(moment, ZoneInfo("America/New_York")) == date(2026, 11, 30)


@pytest.mark.parametrize(
    "cell, shown",
    [
        ("=1+1", "'=1+1"),
        ('=HYPERLINK("http://x","click")', '\'=HYPERLINK("http://x","click")'),
        ("+48 12 345", "'+48 12 345"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Kraków: 1=1", "Kraków: 1=1"),  # only the first character matters
        ("Łódź", "Łódź"),
        ("", ""),
        ("'quoted", "'quoted"),
    ],
)
def test_csv_cells_that_would_be_formulas_are_neutralised(cell, shown):
    assert neutralise_cell(cell) == shown


def test_neutralised_cells_survive_a_csv_round_trip():
    cells = ["=cmd|' /C calc'!A0", "Łódź", "-1", "@here", "plain, with comma"]
    buffer = io.StringIO()
    csv.writer(buffer).writerow([neutralise_cell(c) for c in cells])
    [row] = list(csv.reader(io.StringIO(buffer.getvalue())))
    assert row == ["'=cmd|' /C calc'!A0", "Łódź", "'-1", "'@here", "plain, with comma"]
    assert not any(value.startswith(("=", "+", "-", "@")) for value in row)
