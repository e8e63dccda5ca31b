"""The `citypeers` command as a user runs it: a subprocess fed from standard input."""

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from storage import queries
from storage.db import make_engine, unit_of_work

pytestmark = pytest.mark.slow  # the command line in real processes

# The script installed beside this interpreter, whether or not its virtual environment is activated.
CITYPEERS = str(Path(sys.executable).with_name("citypeers"))


def run(*args, stdin="", cwd, env=None):
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "CITYPEERS_", "DATABASE_URL"))
    }
    environment.update(env or {})
    return subprocess.run(
        [CITYPEERS, *args], input=stdin, capture_output=True, text=True, cwd=cwd, env=environment, timeout=60
    )


SESSION = """\
/city register Brno country=CZ population=380000 cohort="ICC 2020"
/city register Porto country=Portugal
/as @bob
/city join Brno
/city join Atlantis
/as @ana
/city approve bob Brno
/city approve @bob Brno
/as @bob
/city interests green economy, upskilling
/city interests space travel
/city offer open data platform <!channel>
/city need reskilling programme
/city need
/city show
"""

TRANSCRIPT = """\
@ana> /city register Brno country=CZ population=380000 cohort="ICC 2020"
Registered Brno (CZ).
@ana> /city register Porto country=Portugal
error: `country=` expects an ISO 3166 two-letter code such as CZ or PT, not `Portugal`.
@ana> /as @bob
You are now @bob.
@bob> /city join Brno
Asked to represent Brno. An organiser will approve it; you will hear back here.
  → to @ana: @bob asks to represent Brno.
      [Approve] /city approve @bob Brno
      [Reject] /city reject @bob Brno
@bob> /city join Atlantis
error: No city called `Atlantis`. See /city list.
@bob> /as @ana
You are now @ana.
@ana> /city approve bob Brno
error: Name the person as @name. Expected: /city approve <@user> <name>
@ana> /city approve @bob Brno
@bob now represents Brno.
  → to @bob: You now represent Brno (approved by @ana).
@ana> /as @bob
You are now @bob.
@bob> /city interests green economy, upskilling
Brno works on: Green economy and local green deals; Upskilling and reskilling.
@bob> /city interests space travel
error: `space travel` is not a track. Tracks: green-economy, public-administration, upskilling, supply-chains, \
tourism (see /city tracks).
@bob> /city offer open data platform <!channel>
Added to what Brno offers: open data platform <!channel>
@bob> /city need reskilling programme
Added to what Brno needs: reskilling programme
@bob> /city need
error: Expected: /city need <text> [city=<name>] | /city need remove <number> [city=<name>]
@bob> /city show
Brno · Czechia (CZ) · population 380,000 · cohort ICC 2020
Tracks: Green economy and local green deals, Upskilling and reskilling
Offers:
1. open data platform <!channel>
Needs:
1. reskilling programme
Representatives: @bob
"""


def test_scripted_session_leaves_exactly_what_was_typed(database_url, tmp_path):
    result = run("console", "--user", "ana", "--db", database_url, stdin=SESSION, cwd=tmp_path)
    assert result.returncode == 1, result.stderr  # some commands failed, as they were meant to
    assert result.stdout == TRANSCRIPT
    assert "Traceback" not in result.stderr

    engine = make_engine(database_url)
    with unit_of_work(engine) as session:
        [brno] = queries.list_cities(session=session)
        assert (brno.name, brno.country, brno.population) == ("Brno", "CZ", 380000)
        assert queries.cohort_names(session=session, cohort_ids=[brno.cohort_id]) == {brno.cohort_id: "ICC 2020"}
        assert [m.external_id for m in queries.reps_of(session=session, city_id=brno.id)] == ["bob"]
        assert queries.get_member(session=session, external_id="ana").role == "admin"
        tracks = queries.city_tracks(session=session, city_ids=[brno.id])[brno.id]
        assert [t.key for t in tracks] == ["green-economy", "upskilling"]
        offers = queries.city_items(session=session, city_id=brno.id, kind="offer")
        needs = queries.city_items(session=session, city_id=brno.id, kind="need")
        assert [i.text for i in offers] == ["open data platform <!channel>"]
        assert [i.text for i in needs] == ["reskilling programme"]
    engine.dispose()


def test_the_same_database_serves_separate_runs(tmp_path):
    db = str(tmp_path / "shared.db")
    run("console", "--user", "ana", "--db", db, stdin="/city register Riga country=LV\n", cwd=tmp_path)
    result = run("console", "--user", "bob", "--db", db, stdin="/city join Riga\n", cwd=tmp_path)
    assert result.stdout.startswith("@bob> /city join Riga\nAsked to represent Riga.")
    assert "→ to @ana" in result.stdout


def test_demo_answers_show_and_list(tmp_path):
    result = run("console", "--demo", stdin="/city show Brno\n/city list track=tourism\n", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "@you> /city show Brno"
    assert lines[1].startswith("Brno · Czechia (CZ) · population 380,000")
    assert "Porto (PT) · mentor · green-economy, public-administration, tourism" in lines
    assert (tmp_path / "citypeers.db").exists()
    again = run("console", "--demo", stdin="/city list\n/event list\n", cwd=tmp_path)
    assert again.stdout.splitlines()[1] == "12 cities", "the demo loads once, not on every start"
    events = [line for line in again.stdout.splitlines() if "(event " in line]
    assert len(events) == 3 and any(
        line.startswith("ICC City Lab (five days online) (event 1) · Mon") for line in events
    )


def test_discord_settings_are_checked_with_one_line_naming_the_setting(tmp_path):
    (tmp_path / ".env").write_text("DISCORD_APPLICATION_ID=123\nDISCORD_PUBLIC_KEY=abc\n")
    result = run("run", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "citypeers: DISCORD_PUBLIC_KEY: expected the application's public key: 64 hexadecimal characters"
    ]
    (tmp_path / ".env").write_text(f"DISCORD_APPLICATION_ID=123\nDISCORD_PUBLIC_KEY={'ab' * 32}\n")
    result = run("run", cwd=tmp_path)
    assert result.stderr.strip().splitlines() == [
        "citypeers: DISCORD_BOT_TOKEN not set: Discord needs all three (see .env.example)"
    ]


def test_a_malformed_setting_is_named(tmp_path):
    (tmp_path / ".env").write_text("CITYPEERS_DEFAULT_TZ=Mars/Olympus\n")
    result = run("console", stdin="", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "citypeers: CITYPEERS_DEFAULT_TZ: `Mars/Olympus` is not an IANA time zone such as Europe/Brussels"
    )


def test_db_upgrade(tmp_path):
    result = run("db", "upgrade", cwd=tmp_path, env={"DATABASE_URL": str(tmp_path / "x.db")})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"Database at sqlite:///{tmp_path / 'x.db'} is up to date."


def test_event_calendar_file_is_saved_next_to_the_user(tmp_path):
    # The console runs on the real clock, and an event may not start in the past.
    start = date.today() + timedelta(days=30)
    script = f'/event add City Lab start="{start} 10:00" tz=Europe/Brussels\n/event ics 1\n/event ics 1\n'
    result = run("console", "--db", str(tmp_path / "c.db"), stdin=script, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"  saved {tmp_path / 'citypeers-event-1.ics'}" in result.stdout.splitlines()
    assert f"  saved {tmp_path / 'citypeers-event-1-2.ics'}" in result.stdout.splitlines()  # never overwritten
    assert (tmp_path / "citypeers-event-1.ics").read_bytes().startswith(b"BEGIN:VCALENDAR")
