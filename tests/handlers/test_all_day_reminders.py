"""An all-day event (days typed without a time) is reminded in the morning of its zone, never at night: the real
delivery engine, the fake clock walked over months (it starts at 22 Nov 2026 09:00 UTC; the programme's zone is
Europe/Brussels)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from storage import ledger_queries
from storage.db import unit_of_work
from tests.handlers.conversation import ask, say
from tests.support.outbox import RecordingSender, engine_for

BRUSSELS = ZoneInfo("Europe/Brussels")
HELSINKI = ZoneInfo("Europe/Helsinki")


def reminders_due(services, event_id=1) -> list[tuple[str, datetime]]:
    """(recipient, due) of the event's reminders still to go, by due time."""
    with unit_of_work(services.engine) as session:
        rows = ledger_queries.deliveries_for(session=session, event_id=event_id)
        return sorted(
            ((d.recipient, d.due_at.astimezone(UTC)) for d in rows if d.kind == "reminder" and d.status == "pending"),
            key=lambda r: (r[1], r[0]),
        )


def walk(services, clock, until: datetime, step: timedelta) -> list[tuple[datetime, str, str]]:
    """Move the clock to `until` in steps, running the delivery engine at each: (when sent, to whom, text)."""
    sender, sent = RecordingSender(), []
    engine = engine_for(services, sender)
    while clock.now() < until:
        clock.advance(step)
        before = len(sender.sent)
        engine.run_due()
        sent += [(clock.now(), who, text) for _, who, text in sender.sent[before:]]
    return sent


def test_a_city_lab_typed_as_days_is_reminded_at_nine_on_the_days_before(services, clock):
    reply = say(services, "ana", "/event add City Lab Tartu start=01/02/2027 end=05/02/2027 channel=#labs")
    assert reply.splitlines() == [
        "Scheduled City Lab Tartu (event 1): Mon 1 Feb 2027 – Fri 5 Feb 2027 (all day).",
        "Reminders 7d, 1d before to #labs, and by direct message to everyone who RSVPs.",
        "An all-day event has no time of day, so the default 1h before is left out; it is reminded at 09:00 in its "
        "zone (Europe/Brussels).",
    ]
    say(services, "bob", "/event rsvp 1")
    nine = [datetime(2027, 1, 25, 8, 0, tzinfo=UTC), datetime(2027, 1, 31, 8, 0, tzinfo=UTC)]
    assert reminders_due(services) == [("bob", nine[0]), ("labs", nine[0]), ("bob", nine[1]), ("labs", nine[1])]
    # Over two months, an hour at a time: each reminder goes out once, at 09:00 in Brussels, none at night.
    sent = walk(services, clock, datetime(2027, 2, 6, tzinfo=UTC), timedelta(hours=1))
    assert sorted((when, who) for when, who, _ in sent) == [
        (nine[0], "bob"),
        (nine[0], "labs"),
        (nine[1], "bob"),
        (nine[1], "labs"),
    ]
    assert {when.astimezone(BRUSSELS).hour for when, _, _ in sent} == {9}
    texts = [text for _, who, text in sent if who == "bob"]
    assert texts == [
        "⏰ City Lab Tartu starts in 7 days: Mon 1 Feb 2027 – Fri 5 Feb 2027 (all day)",
        "⏰ City Lab Tartu starts tomorrow: Mon 1 Feb 2027 – Fri 5 Feb 2027 (all day)",
    ]


def test_across_the_clock_change_and_in_another_zone_it_is_still_nine_there(services, clock):
    say(services, "ana", "/event add Spring lab start=29/03/2027 remind=1w,1d tz=Europe/Helsinki channel=#labs")
    say(services, "ana", "/event add Midsummer lab start=2027-06-24 remind=3d channel=#labs")
    assert [due for _, due in reminders_due(services, 1)] == [
        datetime(2027, 3, 22, 7, 0, tzinfo=UTC),  # 09:00 EET
        datetime(2027, 3, 28, 6, 0, tzinfo=UTC),  # 09:00 EEST, the morning the clocks went forward
    ]
    assert [due for _, due in reminders_due(services, 2)] == [datetime(2027, 6, 21, 7, 0, tzinfo=UTC)]  # 09:00 CEST
    sent = walk(services, clock, datetime(2027, 6, 25, tzinfo=UTC), timedelta(hours=6))
    assert len(sent) == 3
    assert all(not 0 <= when.astimezone(HELSINKI).hour < 7 for when, _, _ in sent)


@pytest.mark.parametrize("offsets", ["1h", "7d,12h", "36h"])
def test_an_offset_within_a_day_on_an_all_day_event_is_refused_and_said_why(services, offsets):
    reply = ask(services, "ana", f"/event add Lab start=01/02/2027 remind={offsets}")
    assert reply.error and reply.error_field == "remind"
    assert reply.plain().startswith(
        "An all-day event has no time of day: its reminders go at 09:00 in its zone on a day before, so give them "
        "in whole days or weeks (1d, 7d, 2w);"
    )
    assert say(services, "ana", "/event list") == "No upcoming events. Organisers add them with /event add."


def test_a_timed_event_made_all_day_keeps_only_its_whole_day_reminders(services):
    say(services, "ana", '/event add Lab start="2027-02-01 10:00" remind=7d,1d,2h channel=#labs')
    reply = say(services, "ana", "/event edit 1 start=2027-02-01 end=2027-02-03")
    assert (
        "An all-day event has no time of day, so its 2h reminder is left out; reminders are 7d, 1d before, at 09:00 "
        "in its zone (Europe/Brussels)."
    ) in reply
    assert [due for _, due in reminders_due(services)] == [
        datetime(2027, 1, 25, 8, 0, tzinfo=UTC),
        datetime(2027, 1, 31, 8, 0, tzinfo=UTC),
    ]
    assert ask(services, "ana", "/event remind 1 30m").error


def test_a_reminder_that_would_be_this_morning_already_is_refused(services, clock):
    # 22 Nov 2026 10:00 Brussels: tomorrow's 1d reminder would have been at 09:00 today.
    reply = ask(services, "ana", "/event add Lab start=23/11/2026 remind=1d")
    assert reply.error and reply.plain().startswith("A 1d reminder would fall before now: the event starts tomorrow.")
