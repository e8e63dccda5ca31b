"""Promises that hold over a programme year, one rule at a time (the clock starts at Sun 22 Nov 2026 09:00 UTC):
reminders however far ahead, recurring events as calendars read them, one occurrence changed on its own, time
checked at the door, all-day events, scheduled broadcasts that can be seen and withdrawn."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from ical.calendar_stream import IcsCalendarStream
from icalendar import Calendar

from bot.delivery import DeliveryEngine
from bot.demo import load_demo
from bot.scheduler import Runtime
from core.text import Moment
from handlers.event import feed_file
from handlers.event_reminders import event_occurrences, extend_reminders
from storage import event_queries, ledger_queries
from storage.db import unit_of_work
from storage.models import Delivery
from tests.core.test_linear_input import work_done
from tests.handlers.conversation import ask, say
from tests.support.outbox import RecordingSender, engine_for

DAY = timedelta(days=1)


def rows(services, event_id: int = 1, status: str | None = "pending") -> list[Delivery]:
    with unit_of_work(services.engine) as session:
        found = ledger_queries.deliveries_for(session=session, event_id=event_id)
        return [row for row in found if status is None or row.status == status]


def ics_of(services, user: str, line: str) -> Calendar:
    reply = ask(services, user, line)
    assert not reply.error, reply.plain()
    return Calendar.from_ical(reply.files[0].content)


# --- the ledger holds every promise ---------------------------------------------------------------------------


def test_a_summit_announced_95_days_ahead_has_its_reminders_in_the_ledger(services):
    reply = say(services, "ana", '/event add Mayors summit start="2027-02-25 10:00" remind=7d,1d,1h channel=#summit')
    assert "Reminders 7d, 1d, 1h before to #summit" in reply
    due = sorted(row.due_at for row in rows(services))
    assert due == [
        datetime(2027, 2, 18, 9, tzinfo=UTC),
        datetime(2027, 2, 24, 9, tzinfo=UTC),
        datetime(2027, 2, 25, 8, tzinfo=UTC),
    ]
    assert (
        say(services, "ana", "/event remind 1 2w,1d") == "Reminders for Mayors summit are now 2w, 1d before; 2 queued."
    )
    say(services, "bob", "/event rsvp 1")
    assert len(rows(services)) == 4


def test_a_process_started_after_three_months_down_queues_the_recurring_reminders_still_ahead(services, clock):
    say(services, "ana", '/event add WG start="2026-12-03 15:00" repeat=FREQ=MONTHLY;BYDAY=1TH remind=1d channel=#wg')
    horizon = max(row.occurrence_at for row in rows(services))
    assert horizon < clock.now() + 70 * DAY  # a rolling horizon: not every meeting for years
    clock.advance(100 * DAY)  # nobody ran the bot for three months; then a deploy starts a process at 09:00
    runtime = Runtime(services, RecordingSender(), sweep_seconds=3600)
    runtime.start()  # a start queues them at once, not at the next 02:30
    runtime.shutdown()
    ahead = sorted(row.occurrence_at for row in rows(services) if row.due_at > clock.now())
    # Every first Thursday within the horizon (two months), 15:00 in Brussels (CET, then CEST).
    assert ahead == [datetime(2027, 3, 4, 14, tzinfo=UTC), datetime(2027, 4, 1, 13, tzinfo=UTC)]


def test_a_slack_only_process_leaves_discord_rows_alone(services, clock):
    say(services, "ana", '/event add Lab start="2026-11-22 12:00" remind=1h channel=<#discord:123|labs>')
    say(services, "ana", "/event broadcast <#slack:C1|general> Hello")
    clock.advance(timedelta(minutes=90))  # the 1h reminder is due
    sender = RecordingSender()
    engine = DeliveryEngine(services, sender, worker="slack-only", platforms=frozenset({"slack"}))
    stats = engine.run_due()
    assert [who for _, who, _ in sender.sent] == ["slack:C1"]
    assert stats.retried == 0
    discord = [row for row in rows(services, status=None) if row.platform == "discord" and row.kind == "reminder"]
    assert [(row.status, row.attempts, row.claimed_by) for row in discord] == [("pending", 0, None)]
    everything = RecordingSender()
    engine_for(services, everything).run_due()  # a process serving every platform takes the rest
    assert sorted(who for _, who, _ in everything.sent) == ["ana", "discord:123", "discord:123"]


# --- recurring events as calendars read them --------------------------------------------------------------------


def test_a_start_off_its_rule_is_refused_with_the_nearest_dates(services):
    reply = say(services, "ana", '/event add WG start="2027-01-14 15:00" repeat=FREQ=MONTHLY;BYDAY=1TH')
    assert reply == (
        "The start is not one of the dates `FREQ=MONTHLY;BYDAY=1TH` gives, so calendars and reminders would "
        "disagree; the nearest are Thu 7 Jan 2027, 15:00 and Thu 4 Feb 2027, 15:00: start on one of them."
    )
    say(services, "ana", '/event add WG start="2027-01-07 15:00" repeat=FREQ=MONTHLY;BYDAY=1TH')
    assert "nearest are Thu 7 Jan 2027, 15:00 and Thu 4 Feb 2027" in say(
        services, "ana", '/event edit 1 start="2027-01-14 15:00"'
    )
    assert "Thu 7 Jan 2027" in say(services, "ana", "/event list")


def test_repeat_can_be_changed_and_removed(services):
    say(services, "ana", '/event add WG start="2027-01-07 15:00" repeat=FREQ=MONTHLY;BYDAY=1TH remind=1d channel=#wg')
    assert "Repeats: FREQ=WEEKLY;BYDAY=TH." in say(services, "ana", "/event edit 1 repeat=FREQ=WEEKLY;BYDAY=TH")
    assert len({row.occurrence_at for row in rows(services)}) == 2  # 7 and 14 Jan: within the horizon
    assert "It no longer repeats." in say(services, "ana", "/event edit 1 repeat=none")
    assert [row.occurrence_at for row in rows(services)] == [datetime(2027, 1, 7, 14, tzinfo=UTC)]
    assert "repeats" not in say(services, "ana", "/event list")


def test_a_rule_that_never_occurs_is_refused_in_bounded_work(services):
    line = '/event add Ghost start="2027-02-01 10:00" repeat=FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30'
    assert "gives no second date in the five years" in say(services, "ana", line)
    # Walking day by day to the year 9999 ran 77 million lines; now at most 400 years of periods are walked.
    assert work_done(lambda: say(services, "ana", line)) < 10_000_000
    huge = '/event add Rare start="2027-02-01 10:00" repeat=FREQ=DAILY;INTERVAL=99999999'
    assert "never repeats" in say(services, "ana", huge)


# --- one occurrence ---------------------------------------------------------------------------------------------


@pytest.fixture
def group(services):
    say(services, "ana", '/event add WG start="2027-01-07 15:00" repeat=FREQ=MONTHLY;BYDAY=1TH remind=1d,1h')
    say(services, "bob", "/event rsvp 1")
    return services


def test_one_occurrence_is_cancelled_and_its_reminders_withdrawn(group, clock):
    reply = ask(group, "ana", "/event cancel 1 on=2027-01-07")
    assert reply.plain() == (
        "WG on Thu 7 Jan 2027 is cancelled; the other dates stand. 2 pending reminders withdrawn, 1 attendee told."
    )
    assert [n.recipients for n in reply.notices] == [("bob",)]
    assert "WG on Thu 7 Jan 2027 is cancelled" in reply.notices[0].reply.plain()
    assert rows(group) == []  # 4 Feb is beyond the horizon yet
    # A date beyond the horizon is cancelled too: extending later never queues it.
    assert "2 pending" not in say(group, "ana", "/event cancel 1 on=04/03/2027")
    for _ in range(2):  # the daily extension, in January and in February
        clock.advance(40 * DAY)
        with unit_of_work(group.engine) as session:
            extend_reminders(session, group.settings, clock.now())
    queued = {row.occurrence_at for row in rows(group, status=None)}
    assert datetime(2027, 2, 4, 14, tzinfo=UTC) in queued and datetime(2027, 4, 1, 13, tzinfo=UTC) in queued
    assert datetime(2027, 3, 4, 14, tzinfo=UTC) not in queued
    listed = say(group, "ana", "/event list all")
    assert "Thu 4 Mar 2027, 15:00 CET cancelled" in listed
    exdates = ics_of(group, "bob", "/event ics 1").walk("VEVENT")[0]["EXDATE"]
    found = [d.dt for each in (exdates if isinstance(exdates, list) else [exdates]) for d in each.dts]
    assert found == [datetime(2027, 1, 7, 14, tzinfo=UTC), datetime(2027, 3, 4, 14, tzinfo=UTC)]
    assert "already cancelled" in say(group, "ana", "/event cancel 1 on=2027-03-04")
    assert "does not meet on Wed 10 Mar 2027" in say(group, "ana", "/event cancel 1 on=2027-03-10")


def test_one_occurrence_moves_with_its_reminders(group):
    reply = ask(group, "ana", '/event edit 1 on=2027-01-07 start="2027-01-08 16:00" where="Summit venue"')
    assert reply.plain() == (
        "WG on Thu 7 Jan 2027 now takes place Fri 8 Jan 2027, 16:00 CET · Summit venue; the other dates stand. "
        "1 attendee told."
    )
    assert "now takes place Fri 8 Jan 2027, 16:00 CET · Summit venue" in reply.notices[0].reply.plain()
    assert {row.occurrence_at for row in rows(group)} == {datetime(2027, 1, 8, 15, tzinfo=UTC)}
    vevents = list(ics_of(group, "bob", "/event ics 1").walk("VEVENT"))
    moved = [v for v in vevents if "RECURRENCE-ID" in v]
    assert len(moved) == 1 and moved[0]["RECURRENCE-ID"].dt == datetime(2027, 1, 7, 14, tzinfo=UTC)
    assert moved[0]["LOCATION"] == "Summit venue" and moved[0]["UID"] == vevents[0]["UID"]
    assert "(moved from Thu 7 Jan 2027, 15:00 CET)" in say(group, "ana", "/event list all")
    assert "only start=, end= and where=" in say(group, "ana", "/event edit 1 on=2027-04-01 title=Other")
    assert "Scheduled Lab (event 2)" in say(group, "ana", '/event add Lab start="2027-01-20 10:00"')
    assert "event 2 happens once" in say(group, "ana", '/event edit 2 on=2027-01-20 start="2027-01-21 10:00"')


DATE = re.compile(r"(\w{3} \d{1,2} \w{3} \d{4}),? (\d{2}:\d{2})")


def dates_read(body: bytes, after: datetime, until: datetime) -> dict[str, list[datetime]]:
    """Every occurrence an independent reader (`ical`, its own RFC 5545 parser) finds in a calendar file, by title."""
    found: dict[str, list[datetime]] = {}
    for event in IcsCalendarStream.calendar_from_ics(body.decode()).timeline_tz(UTC).overlapping(after, until):
        found.setdefault(str(event.summary), []).append(event.dtstart.astimezone(UTC))
    return {title: sorted(starts) for title, starts in found.items()}


def dates_listed(listed: str, zone) -> dict[str, list[datetime]]:  # type: ignore[no-untyped-def]
    """The dates `/event list all` shows: a repeating event's `Dates:` line (cancelled ones left out, a moved one
    where it moved to), a one-off event's own line."""
    found: dict[str, list[datetime]] = {}
    lines = listed.splitlines()
    for index, line in enumerate(lines):
        title = line.split(" (event ", 1)[0] if " (event " in line else None
        if title is None:
            continue
        following = lines[index + 1] if index + 1 < len(lines) else ""
        items = following.removeprefix("Dates: ").split("; ") if following.startswith("Dates: ") else [line]
        for item in items:
            match = DATE.search(item)
            if match and not item.endswith("cancelled"):
                wall = datetime.strptime(f"{match.group(1)} {match.group(2)}", "%a %d %b %Y %H:%M")
                found.setdefault(title, []).append(wall.replace(tzinfo=zone).astimezone(UTC))
    return {title: sorted(starts) for title, starts in found.items()}


def assert_everyone_agrees(services, clock, user: str = "ana") -> dict[str, list[datetime]]:  # type: ignore[no-untyped-def]
    """`/event list all`, `/event ics all`, a feed of every event and the bot's own reckoning agree, date by date,
    for two years; the files are read by an independent iCalendar reader."""
    now, two_years = clock.now(), clock.now() + timedelta(days=730)
    from_ics = dates_read(ask(services, user, "/event ics all").files[0].content, now, two_years)
    token = say(services, user, "/event subscribe all=yes").split("/calendar/", 1)[1].split(".ics", 1)[0]
    with unit_of_work(services.engine) as session:
        feed = feed_file(session, token, now)
        assert feed is not None
        mine: dict[str, list[datetime]] = {}
        for event in event_queries.scheduled_events(session=session):
            starts = [o.start for o in event_occurrences(session, event, after=now, until=two_years)]
            if starts:
                mine[event.title] = starts
    from_feed = dates_read(feed.body, now, two_years)
    listed = dates_listed(say(services, user, "/event list all"), services.settings.default_tz)
    listed = {title: [d for d in starts if d < two_years] for title, starts in listed.items()}
    assert from_ics == mine == from_feed == {t: d for t, d in listed.items() if d}
    return mine


def test_the_bot_and_an_independent_reader_agree_on_every_date_for_two_years(group, clock):
    say(group, "ana", "/event cancel 1 on=2027-02-04")
    say(group, "ana", '/event edit 1 on=2027-03-04 start="2027-03-11 16:00"')
    say(group, "ana", '/event add Weekly start="2026-11-24 09:30" repeat=FREQ=WEEKLY;BYDAY=TU;COUNT=30')
    say(group, "ana", '/event add Summit start="2027-06-03 10:00" end="2027-06-03 16:00"')
    agreed = assert_everyone_agrees(group, clock)
    assert [len(agreed[title]) for title in ("WG", "Weekly", "Summit")] == [22, 30, 1]
    assert (
        datetime(2027, 3, 11, 15, tzinfo=UTC) in agreed["WG"]
        and datetime(2027, 2, 4, 14, tzinfo=UTC) not in agreed["WG"]
    )


def test_the_demo_events_agree_everywhere_for_two_years(services, clock):
    with unit_of_work(services.engine) as session:
        load_demo(session=session, now=clock.now())
    agreed = assert_everyone_agrees(services, clock, user="org")
    assert sorted(len(starts) for starts in agreed.values()) == [1, 1, 24]


# --- time checked at the door -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('/event add Old start="2020-03-01 10:00"', "is in the past: give a time from now on."),
        ('/event add Soon start="2026-11-25 10:00" remind=7d', "A 7d reminder would fall before now: the event"),
        ('/event add Lab start="2027-03-01 10:00" remind=1w,6d,5d,4d,3d,2d', "At most 5 reminders an event"),
        ('/event add Lab start="2027-03-01 10:00" remind=400d', "A 400d reminder would fall before now"),
        ('/event add Lab start="2027-03-01 10:00" repeat=FREQ=WEEKLY remind=400d', "at most 365d before its event"),
        ('/event broadcast #general Hi at="2026-11-21 10:00"', "in the past: give a time from now on"),
    ],
)
def test_time_is_checked_at_the_door(services, line, expected):
    reply = ask(services, "ana", line)
    assert reply.error and expected in reply.plain(), reply.plain()
    assert rows(services, status=None) == []


def test_remind_refuses_an_offset_longer_than_the_time_to_the_event(services):
    say(services, "ana", '/event add Summit start="2027-02-25 10:00" remind=1d channel=#summit')
    assert "A 400d reminder would fall before now" in say(services, "ana", "/event remind 1 400d")
    assert [row.offset_minutes for row in rows(services)] == [24 * 60]


def test_defaults_that_would_fall_before_now_are_left_out_and_said(services):
    reply = say(services, "ana", '/event add Soon start="2026-11-25 10:00"')
    assert "The default 7d would fall before now, so reminders are 1d, 1h before." in reply


def test_an_rsvp_after_the_reminders_went_out_promises_none(services, clock):
    say(services, "ana", '/event add Lab start="2026-11-24 10:00" remind=1d,1h')
    clock.advance(DAY + timedelta(hours=10))  # past the 1d reminder
    assert "Its reminders before this date have gone out; by direct message you get 1h." in say(
        services, "bob", "/event rsvp 1"
    )
    clock.advance(timedelta(hours=13, minutes=30))
    assert say(services, "carla", "/event rsvp 1").endswith("Its reminders have already gone out.")


def test_a_late_reminder_says_how_late_in_words(services, clock):
    say(services, "ana", '/event add Lab start="2026-11-24 10:00" remind=1d channel=#labs')
    sender = RecordingSender()
    clock.advance(DAY + timedelta(minutes=5))  # the 1d reminder, five minutes late
    engine_for(services, sender).run_due()
    (text,) = sender.texts_to("labs")
    assert text.startswith("⏰ Lab starts in 24 hours: ") and "1435 minutes" not in text
    assert "Sent late" in text


# --- all-day events -------------------------------------------------------------------------------------------


def test_a_date_only_start_is_an_all_day_event(services):
    reply = say(services, "ana", "/event add City Lab start=01/03/2027 end=05/03/2027 remind=1d channel=#labs")
    assert "Mon 1 Mar 2027 – Fri 5 Mar 2027 (all day)" in reply
    (row,) = rows(services)
    assert row.occurrence_at == datetime(2027, 2, 28, 23, tzinfo=UTC)  # midnight in Brussels
    event = ics_of(services, "ana", "/event ics 1").walk("VEVENT")[0]
    assert type(event["DTSTART"].dt) is date and b"DTSTART;VALUE=DATE:20270301" in event.to_ical()
    assert str(event["DTSTART"].dt) == "2027-03-01" and str(event["DTEND"].dt) == "2027-03-06"
    assert "end= a date without a time" in say(services, "ana", '/event add X start=01/03/2027 end="05/03/2027 10:00"')


# --- scheduled broadcasts ---------------------------------------------------------------------------------------


def test_scheduled_broadcasts_are_listed_and_can_be_withdrawn(services, clock):
    assert say(services, "ana", "/event broadcast list") == "No broadcasts are waiting to go."
    say(services, "ana", '/event broadcast #general Summit registration opens today at="2026-11-30 09:00"')
    say(services, "ana", "/event broadcast #labs Now")
    listed = ask(services, "ana", "/event broadcast list")
    assert listed.plain().splitlines() == [
        "Broadcasts still to go",
        "Broadcast 2 · Sun 22 Nov 2026, 10:00 CET · #labs · by @ana · “Now”",
        "Broadcast 1 · Mon 30 Nov 2026, 09:00 CET · #general · by @ana · “Summit registration opens today”",
    ]
    assert listed.sections[1].buttons[0].command == "/event broadcast cancel 1"
    assert "organiser" in say(services, "bob", "/event broadcast list")
    assert say(services, "ana", "/event broadcast cancel 1") == (
        "Broadcast 1 to #general is withdrawn; it will not be sent."
    )
    sender = RecordingSender()
    engine_for(services, sender).run_due()
    assert "already been sent" in say(services, "ana", "/event broadcast cancel 2")
    clock.advance(10 * DAY)
    engine_for(services, sender).run_due()
    assert [who for _, who, _ in sender.sent] == ["labs", "ana"]  # #labs, then ana's summary of it
    assert say(services, "ana", "/event broadcast list") == "No broadcasts are waiting to go."
    assert "There is no broadcast 1 waiting" in say(services, "ana", "/event broadcast cancel 1")


def test_a_late_broadcast_says_when_it_was_due_as_a_moment_each_reader_sees_in_their_zone(services, clock):
    say(services, "ana", '/event broadcast #general Doors open at="2026-11-22 12:00"')
    clock.advance(timedelta(hours=5))  # the bot was down when it fell due
    sender = RecordingSender()
    engine_for(services, sender).run_due()
    (message,) = [m for m in sender.messages if m.kind == "broadcast"]
    due = message.reply.sections[-1].text.values["due"]
    assert isinstance(due, Moment) and due.instant == datetime(2026, 11, 22, 11, tzinfo=UTC)
    assert message.reply.plain().endswith("Sent late: this broadcast was due Sun 22 Nov 2026, 12:00 CET.")
