"""Times as people type them, read back as they typed them: zones, abbreviations, clock changes, reminder offsets,
quotes and values that need them, times in the audit trail (the clock stands at 22 Nov 2026 09:00 UTC; the
programme's zone is Europe/Brussels)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from handlers.dispatch import handle
from handlers.types import Request
from storage import event_queries
from storage.db import unit_of_work
from tests.handlers.conversation import ask, say
from tests.support.outbox import deliver


def say_in_zone(services, user, zone, line):
    command, _, text = line.lstrip("/").partition(" ")
    return handle(services, Request(user_id=user, user_name=user, command=command, text=text, tz=zone)).plain()


def stored_event(services, event_id=1):
    with unit_of_work(services.engine) as session:
        event = event_queries.get_event(session=session, event_id=event_id)
        return None if event is None else (event.start_at.astimezone(UTC), event.tz, event.remind, event.title)


def test_an_eastern_european_time_is_kept_and_read_back_with_the_readers(services):
    reply = say(services, "ana", '/event add "Vilnius call" start="2027-02-09 14:30 EET"').splitlines()
    assert reply[0] == "Scheduled Vilnius call (event 1): Tue 9 Feb 2027, 14:30 EET — 13:30 your time (CET)."
    assert reply[1].startswith("`EET` read as Eastern European time (Helsinki, Tallinn, Riga, Vilnius")
    assert reply[1].endswith("EET, UTC+02:00 on Tue 9 Feb 2027.")
    assert stored_event(services)[:2] == (datetime(2027, 2, 9, 12, 30, tzinfo=UTC), "EET")
    # A reader in the event's own clock reads it once; one in Lisbon reads both.
    assert "Tue 9 Feb 2027, 14:30 EET · 0 attending" in say_in_zone(services, "eve", "Europe/Riga", "/event list")
    assert "14:30 EET — 12:30 your time (WET)" in say_in_zone(services, "rui", "Europe/Lisbon", "/event list")


def test_a_summer_meeting_written_in_cet_is_the_clock_in_brussels_and_said(services):
    reply = say(services, "ana", '/event add "Ghent visit" start="2027-06-17 09:15 CET" tz=Europe/Brussels')
    first, note = reply.splitlines()[:2]
    assert first == "Scheduled Ghent visit (event 1): Thu 17 Jun 2027, 09:15 CEST."
    assert note.startswith("`CET` read as Central European time (Brussels, Paris, Berlin")
    assert note.endswith("on Thu 17 Jun 2027 its clocks show CEST, UTC+02:00; for a fixed offset write +01:00.")
    assert stored_event(services)[:2] == (datetime(2027, 6, 17, 7, 15, tzinfo=UTC), "Europe/Brussels")


def test_a_typed_zone_is_read_back_as_typed_and_in_the_readers_time(services):
    reply = say(services, "ana", '/event add "Tartu lab" start="22/04/2027 11:00" end="22/04/2027 13:00" tz=Tallinn')
    assert reply.splitlines()[0] == (
        "Scheduled Tartu lab (event 1): Thu 22 Apr 2027, 11:00–13:00 Tallinn — 10:00–12:00 your time (CEST)."
    )
    assert stored_event(services)[:2] == (datetime(2027, 4, 22, 8, 0, tzinfo=UTC), "Europe/Tallinn")


def test_a_fixed_offset_is_the_offset_written(services):
    reply = say(services, "ana", '/event add "Ops sync" start="2027-05-04 16:00 +03:00"')
    assert (
        reply.splitlines()[0]
        == "Scheduled Ops sync (event 1): Tue 4 May 2027, 16:00 UTC+03:00 — 15:00 your time (CEST)."
    )


def test_abbreviations_used_elsewhere_are_refused_and_nothing_is_kept(services):
    for line in (
        '/event add "West coast call" start="2027-03-02 08:00 PDT"',
        '/event add "West coast call" start="2027-03-02 08:00" tz=PST',
        '/event add "Delhi call" start="2027-03-02 08:00 IST"',
    ):
        reply = ask(services, "ana", line)
        assert reply.error and "\n" not in reply.plain()
        assert "write the zone" in reply.plain()
    assert stored_event(services) is None


def test_no_library_warning_reaches_the_log(services, caplog):
    caplog.set_level("DEBUG")
    say(services, "ana", '/event add "Riga call" start="2027-03-01 10:00 EET"')
    say(services, "ana", '/event add "LA call" start="2027-03-01 10:00 PST"')
    assert not [r for r in caplog.records if "Warning" in r.getMessage() or r.levelname == "WARNING"]


def test_a_time_the_clocks_skip_is_refused_with_the_nearest_and_a_doubled_one_is_said(services):
    gap = ask(services, "ana", '/event add "Night shift" start="2027-03-28 02:15" tz=Europe/Brussels')
    assert gap.error and gap.plain() == (
        "02:15 does not exist on Sun 28 Mar 2027 in Europe/Brussels: clocks go from 02:00 straight to 03:00. "
        "The nearest valid times are 01:59 and 03:00."
    )
    helsinki = ask(services, "ana", '/event add "Night shift" start="28/03/2027 03:40 Europe/Helsinki"')
    assert helsinki.error and "The nearest valid times are 02:59 and 04:00." in helsinki.plain()
    assert stored_event(services) is None
    twice = say(services, "ana", '/event add "Night shift" start="2027-10-31 02:40"').splitlines()
    assert twice[0] == "Scheduled Night shift (event 1): Sun 31 Oct 2027, 02:40 CEST."
    assert twice[1] == (
        "02:40 happens twice on Sun 31 Oct 2027 in Europe/Brussels (clocks go back at 03:00): taken as the first, "
        "02:40 CEST (UTC+02:00); for the second, write 02:40 +01:00."
    )
    assert stored_event(services)[0] == datetime(2027, 10, 31, 0, 40, tzinfo=UTC)


def test_start_and_tz_that_disagree_are_refused(services):
    reply = ask(services, "ana", '/event add Sync start="2027-03-01 10:00 EET" tz=Europe/Lisbon')
    assert reply.error and reply.error_field == "tz"
    assert "`start=` names EET and `tz=` is Europe/Lisbon" in reply.plain()
    agree = say(services, "ana", '/event add Sync start="2027-03-01 10:00 EET" tz=Europe/Sofia')
    assert agree.startswith("Scheduled Sync (event 1): Mon 1 Mar 2027, 10:00 Sofia — 09:00 your time (CET).")


def test_a_reminder_of_nothing_is_refused_and_the_same_one_twice_is_one(services):
    zero = ask(services, "ana", '/event add "Board" start="2027-03-01 10:00" remind=0m')
    assert zero.error and zero.error_field == "remind"
    assert zero.plain() == "A reminder 0 before is no reminder: give how long before, e.g. 15m, 1h or 1d."
    assert stored_event(services) is None
    reply = say(services, "ana", '/event add "Board" start="2027-03-01 10:00" remind=2d,48h,1h,60m')
    assert "Reminders 2d, 1h before, and by direct message to everyone who RSVPs." in reply
    assert "2d and 48h are the same time before: one reminder. 1h and 60m are the same time before" in reply
    assert stored_event(services)[2] == "2d, 1h"
    again = say(services, "ana", "/event remind 1 3d,72h")
    assert again.startswith("Reminders for Board are now 3d before")
    assert "3d and 72h are the same time before: one reminder." in again


def test_an_unquoted_value_is_shown_quoted_and_nothing_is_kept(services):
    reply = ask(services, "ana", "/event add Porto lab start=2027-04-20 09:30 where=Casa da Música")
    assert reply.error
    assert reply.plain() == 'Quote values with spaces: start="2027-04-20 09:30" where="Casa da Música"'
    assert stored_event(services) is None
    fixed = say(services, "ana", '/event add Porto lab start="2027-04-20 09:30" where="Casa da Música"')
    assert fixed.startswith("Scheduled Porto lab (event 1): Tue 20 Apr 2027, 09:30 CEST.")


def test_a_quoted_broadcast_posts_its_content(services):
    say(services, "ana", "/event broadcast #labs \u201eWillkommen in der Kohorte 2027!\u201c")
    say(services, "ana", '/event broadcast #general "Doors open at 9" at="2027-01-11 08:00"')
    listed = say(services, "ana", "/event broadcast list")
    assert "\u201cDoors open at 9\u201d" in listed and '"Doors open at 9"' not in listed
    posted = [m.reply.plain() for m in deliver(services) if m.recipient == "labs"]
    assert posted == ["Willkommen in der Kohorte 2027!"]


def test_a_quoted_goal_note_is_kept_without_its_quotes(services):
    say(services, "ana", "/city register Gent country=BE")
    say(services, "bob", "/city join Gent")
    say(services, "ana", "/city approve @bob Gent")
    say(services, "bob", "/goal add \u201cTwo districts on the heat plan\u201d due=2027-02-01")
    updated = say(services, "bob", "/goal update 1 on-track \u201cTwo districts signed\u201d")
    assert updated == "Goal #1 of Gent is now on-track: Two districts signed"
    listed = say(services, "bob", "/goal list")
    assert "Two districts on the heat plan" in listed and "\u201cTwo" not in listed
    unquoted = ask(services, "bob", "/goal update 1 done learned=Working with Miskolc's office")
    assert unquoted.error
    assert unquoted.plain() == 'Quote values with spaces: learned="Working with Miskolc\'s office"'


def test_the_audit_trail_shows_times_in_the_readers_zone_and_the_file_keeps_iso(services):
    say(services, "ana", '/event add "Summit" start="2027-04-07 09:30" tz=Europe/Brussels')
    say(services, "ana", '/event edit 1 start="2027-04-07 10:30"')
    trail = say_in_zone(services, "ana", "Europe/Helsinki", "/city audit")
    assert "start: Wed 7 Apr 2027, 10:30 EEST → Wed 7 Apr 2027, 11:30 EEST" in trail
    assert "T07:30:00+00:00" not in trail
    reply = ask(services, "ana", "/city audit")
    rows = list(csv.DictReader(io.StringIO(reply.files[0].content.decode("utf-8-sig"))))
    edit = next(row for row in rows if row["what"] == "event-edit")
    assert '"start": "2027-04-07T08:30:00+00:00"' in edit["after"]
