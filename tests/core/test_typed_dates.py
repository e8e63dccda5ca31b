"""Day-first dates are day first: a date that cannot be read day first is refused, never read month first."""

from datetime import UTC, date, datetime

import pytest

from core.dates import parse_day, parse_when, parse_zone
from core.grammar import GrammarError

BRUSSELS = parse_zone("Europe/Brussels")
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "typed, iso",
    [
        ("02/15/2027", "2027-02-15"),
        ("02-15-2027", "2027-02-15"),
        ("2/15/27", "2027-02-15"),
        ("12.13.2027", "2027-12-13"),
        ("02/15", "2026-02-15"),
        ("1/13 10:00", "2026-01-13 10:00"),
        ("02/15/2027 9:30", "2027-02-15 9:30"),
    ],
)
def test_typed_a_month_first_date_is_refused_with_its_iso_form(typed, iso):
    with pytest.raises(GrammarError) as caught:
        parse_when(typed, zone=BRUSSELS, now=NOW)
    message = str(caught.value)
    assert message.startswith(f"`{typed}` is read day first, as 28/09/2020 is, and ")
    assert message.endswith(f"is no month: write {iso} (year-month-day).")
    assert "\n" not in message
    with pytest.raises(GrammarError) as caught:  # a calendar day alone knows no year unless one is typed
        parse_day(typed)
    assert str(caught.value).endswith(f"is no month: write {iso.replace('2026-', 'YYYY-')} (year-month-day).")


@pytest.mark.parametrize(
    "typed, day",
    [
        ("03/04/2027", date(2027, 4, 3)),
        ("15/02/2027", date(2027, 2, 15)),
        ("28-09-2020", date(2020, 9, 28)),
        ("2027-02-15", date(2027, 2, 15)),
        ("2027/02/15", date(2027, 2, 15)),
        ("15.02.2027", date(2027, 2, 15)),
    ],
)
def test_typed_day_first_and_iso_dates_still_read(typed, day):
    assert parse_day(typed) == day


def test_typed_a_goal_due_month_first_is_refused(services):
    from tests.handlers.conversation import ask, say

    say(services, "ana", "/city register Porto country=PT")
    say(services, "bob", "/city join Porto")
    say(services, "ana", "/city approve @bob Porto")
    reply = ask(services, "bob", "/goal add Harbour plan due=02/15/2027")
    assert reply.error and reply.error_field == "due"
    assert reply.plain() == (
        "`02/15/2027` is read day first, as 28/09/2020 is, and 15 is no month: write 2027-02-15 (year-month-day)."
    )
    assert "Due 2027-02-15" in say(services, "bob", "/goal add Harbour plan due=2027-02-15")


@pytest.mark.parametrize("typed", ["2/30/2027", "13/13/2027", "02/31"])
def test_typed_no_date_either_way_round_is_not_a_date(typed):
    with pytest.raises(GrammarError, match="is not a date like"):
        parse_when(typed, zone=BRUSSELS, now=NOW)
