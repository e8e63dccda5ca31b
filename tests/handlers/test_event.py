"""The /event family as conversations, on SQLite and PostgreSQL (the clock stands at 22 Nov 2026 09:00 UTC)."""

from datetime import UTC, datetime

import pytest
from icalendar import Calendar

from handlers.dispatch import handle
from handlers.types import Request
from storage import ledger_queries
from storage.db import unit_of_work
from tests.handlers.conversation import ask, say
from tests.support.snapshot import snapshot

LAB = '/event add First ICC City Lab start="28/12/2026 10:00" end="01/01/2027 17:00" where="Online" channel=#labs'


def say_in_zone(services, user, zone, line):
    command, _, text = line.lstrip("/").partition(" ")
    return handle(services, Request(user_id=user, user_name=user, command=command, text=text, tz=zone)).plain()


@pytest.fixture
def lab(services):
    say(services, "ana", LAB)
    return services


def test_add_list_rsvp_in_each_readers_time_zone(services):
    assert say(services, "ana", LAB).splitlines() == [
        "Scheduled First ICC City Lab (event 1): Mon 28 Dec 2026 10:00 – Fri 1 Jan 2027 17:00 CET.",
        "Reminders 7d, 1d, 1h before to #labs, and by direct message to everyone who RSVPs.",
    ]
    assert say_in_zone(services, "bob", "Europe/Lisbon", "/event list").splitlines() == [
        "Upcoming events",
        # The time as the organiser typed it, in the event's zone, and the reader's beside it.
        "First ICC City Lab (event 1) · Mon 28 Dec 2026 10:00 – Fri 1 Jan 2027 17:00 Brussels — "
        "Mon 28 Dec 09:00 – Fri 1 Jan 16:00 your time (WET) · Online · 0 attending",
    ]
    assert say_in_zone(services, "bob", "Europe/Lisbon", "/event rsvp 1") == (
        "You are attending First ICC City Lab: Mon 28 Dec 2026 10:00 – Fri 1 Jan 2027 17:00 Brussels — "
        "Mon 28 Dec 09:00 – Fri 1 Jan 16:00 your time (WET). "
        "Reminders come by direct message 7d, 1d, 1h before."
    )
    with unit_of_work(services.engine) as session:
        keys = [d.key for d in ledger_queries.deliveries_for(session=session, event_id=1)]
    assert len(keys) == 6 and len(set(keys)) == 6  # 3 offsets × (#labs, bob)
    assert "already attending" in say(services, "bob", "/event rsvp 1")
    assert "1 attending" in say(services, "ana", "/event list")


def test_withdrawing_an_rsvp_withdraws_its_reminders(lab):
    say(lab, "bob", "/event rsvp 1")
    assert say(lab, "bob", "/event rsvp 1 no").startswith("You are no longer attending First ICC City Lab")
    with unit_of_work(lab.engine) as session:
        bobs = [d.status for d in ledger_queries.deliveries_for(session=session, event_id=1) if d.recipient == "bob"]
    assert bobs == ["withdrawn"] * 3


def test_an_rsvp_is_withdrawn_by_each_word_it_ever_took_and_yes_attends(lab):
    """`no` as help says, `cancel` and `off` as the command read them before it was declared; `yes` (Matrix's form
    in product.md, `!event rsvp 3 yes`) attends."""
    for word in ("no", "cancel", "OFF"):
        assert say(lab, "bob", "/event rsvp 1 yes").startswith("You are attending First ICC City Lab"), word
        assert say(lab, "bob", f"/event rsvp 1 {word}").startswith("You are no longer attending"), word
    assert say(lab, "bob", "/event rsvp 1 yes no") == "Expected: /event rsvp <id> [no]"


def test_recurring_event_gets_reminders_for_each_occurrence(services):
    reply = say(
        services,
        "ana",
        '/event add WG meeting start="2026-12-03 14:00" remind=1d channel=#wg repeat="FREQ=MONTHLY;BYDAY=1TH"',
    )
    assert "Repeats: FREQ=MONTHLY;BYDAY=1TH." in reply
    with unit_of_work(services.engine) as session:
        due = [d.due_at for d in ledger_queries.deliveries_for(session=session, event_id=1)]
    # Within the 60-day horizon: 3 Dec and 7 Jan (the day before each, 14:00 CET).
    assert due == [datetime(2026, 12, 2, 13, tzinfo=UTC), datetime(2027, 1, 6, 13, tzinfo=UTC)]


def test_remind_edit_cancel(lab):
    say(lab, "bob", "/event rsvp 1")
    assert say(lab, "ana", "/event remind 1 2d,30m") == (
        "Reminders for First ICC City Lab are now 2d, 30m before; 4 queued."
    )
    reply = ask(lab, "ana", '/event edit 1 start="29/12/2026 10:00" where="Brussels"')
    assert reply.plain() == (
        "First ICC City Lab (event 1) changed: Tue 29 Dec 2026 10:00 – Sat 2 Jan 2027 17:00 CET. "
        "Pending reminders moved; 1 attendee told."
    )
    assert [n.recipients for n in reply.notices] == [("bob",)]
    assert reply.notices[0].reply.plain().endswith("Tue 29 Dec 2026 10:00 – Sat 2 Jan 2027 17:00 CET · Brussels.")
    cancelled = ask(lab, "ana", "/event cancel 1")
    assert cancelled.plain() == "First ICC City Lab is cancelled; 4 pending reminders withdrawn, 1 attendee told."
    assert cancelled.notices[0].reply.plain().startswith("First ICC City Lab, planned for Tue 29 Dec 2026")
    assert say(lab, "ana", "/event list") == "No upcoming events. Organisers add them with /event add."
    assert "cancelled" in say(lab, "ana", "/event list all")


def test_ics_is_a_calendar_file_that_parses(lab):
    say(lab, "ana", '/event add Mayors summit start="2026-12-14 09:30" tz=Europe/Lisbon repeat=FREQ=YEARLY')
    reply = ask(lab, "bob", "/event ics all")
    [attachment] = reply.files
    assert (attachment.filename, attachment.mime_type) == ("citypeers-events.ics", "text/calendar")
    calendar = Calendar.from_ical(attachment.content)
    events = calendar.walk("VEVENT")  # in start order
    assert [str(e["SUMMARY"]) for e in events] == ["Mayors summit", "First ICC City Lab"]
    lab_start = events[1].decoded("DTSTART")
    assert (lab_start.isoformat(), str(lab_start.tzinfo)) == ("2026-12-28T10:00:00+01:00", "Europe/Brussels")
    assert events[0]["RRULE"].to_ical() == b"FREQ=YEARLY"
    assert {str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")} == {"Europe/Brussels", "Europe/Lisbon"}
    assert ask(lab, "bob", "/event ics 1").files[0].filename == "citypeers-event-1.ics"


def test_broadcast_is_queued_for_now_or_later(services):
    assert say(services, "ana", "/event broadcast #general Welcome to ICC") == (
        "Broadcast 1 to #general queued for now. You will get a delivery summary."
    )
    assert say(services, "ana", '/event broadcast <#C42|summit> See you soon at="2026-11-23 08:00"') == (
        "Broadcast 2 to #summit queued for Mon 23 Nov 2026, 08:00 CET. You will get a delivery summary.\n"
        "/event broadcast cancel 2 withdraws it before it goes."
    )


@pytest.mark.parametrize(
    "user, line, expected",
    [
        ("ana", "/event add Lab", "`start=` is required"),
        ("ana", "/event add start=2026-12-01", "Give the event a title. Expected: /event add <title>"),
        ("ana", "/event add Lab start=someday", "`someday` is not a date like 2020-09-28 10:00 or 28/09/2020."),
        ("ana", "/event add Lab start=2026-12-01 end=2026-11-30", "The end must come after the start."),
        ("ana", "/event add Lab start=2026-12-01 tz=Mars/Olympus", "is not a time zone"),
        ("ana", "/event add Lab start=2026-12-01 remind=soon", "`soon` is not a duration"),
        ("ana", "/event add Lab start=2026-12-01 channel=general", "`general` is not a channel"),
        ("ana", "/event add Lab start=2026-12-01 repeat=FREQ=MINUTELY", "Events repeat at most daily"),
        ("ana", "/event add Lab start=2026-12-01 strat=x", "Did you mean `start=`?"),
        ("bob", "/event add Lab start=2026-12-01", "Only admins and organisers can create events."),
        ("bob", "/event rsvp 42", "There is no event 42; see /event list."),
        ("bob", "/event rsvp one", "`one` is not an event number; see /event list."),
        ("bob", "/event rsvp", "Expected: /event rsvp <id> [no]"),
        ("bob", "/event rsvp 1 no", "You were not attending First ICC City Lab."),
        ("bob", "/event remind 1 1d", "Only admins and organisers can change reminders."),
        ("ana", "/event remind 1", "Expected: /event remind <id> <offsets>"),
        ("ana", "/event edit 1", "Say what changes"),
        ("bob", "/event cancel 1", "Only admins and organisers can cancel events."),
        ("ana", "/event ics", "Expected: /event ics <id>|all"),
        ("ana", "/event broadcast general hi", "`general` is not a channel"),
        ("ana", "/event broadcast #general", "Expected: /event broadcast <#channel> <text>"),
        ("bob", "/event broadcast #general hi", "Only admins and organisers can broadcast."),
        ("ana", "/event list tomorrow", "Expected: /event list [all]"),
    ],
)
def test_malformed_or_refused_lines_get_one_line_and_change_nothing(lab, user, line, expected):
    say(lab, "bob", "/event list")
    before = snapshot(lab.engine)
    reply = ask(lab, user, line)
    assert reply.error and expected in reply.plain()
    assert len(reply.plain().splitlines()) == 1
    assert snapshot(lab.engine) == before


def test_help(services):
    text = say(services, "bob", "/event help")
    for usage in ("/event add <title> start=<when>", "/event rsvp <id>", "/event broadcast <#channel> <text>"):
        assert usage in text


def test_a_repeated_rsvp_says_so_and_queues_and_audits_nothing(lab):
    say(lab, "bob", "/event rsvp 1")
    before = snapshot(lab.engine)
    again = ask(lab, "bob", "/event rsvp 1")
    assert again.error and again.plain() == "You are already attending First ICC City Lab."
    assert again.notices == [] and snapshot(lab.engine) == before  # no reminder queued twice, no audit entry
