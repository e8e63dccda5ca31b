"""`citypeers backup` of a running bot's SQLite database, restored into a new file: the bot started on the copy sends
exactly the reminders still owed when the backup was taken (real processes, a fake Slack, real time)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import main
from tests.e2e.test_reminders import ADMIN, ANA, FAST, LABS, run, typed
from tests.support.botprocess import SETTINGS_PREFIXES, BotProcess
from tests.support.fakeslack import FakeSlack

pytestmark = pytest.mark.slow  # real processes, a backup and a restore

# The morning: two sessions whose reminders go out before the backup, two whose reminders are still owed then.
SENT_BEFORE = {"Session Alpha": 6, "Session Bravo": 9}  # seconds from now until the reminder is due
OWED = {"Session Charlie": 40, "Session Delta": 44}
RECIPIENTS = (LABS, ANA)  # the channel, and the attendee's DM


@pytest.fixture
def slack():
    with FakeSlack() as fake:
        for user in (ADMIN, ANA):
            fake.set_user(user)
        yield fake
        assert not fake.problems, fake.problems


def delivered(slack: FakeSlack) -> list[tuple[str, str]]:
    """(session, recipient) of every reminder Slack accepted, in order, repeats included."""
    sessions = [*SENT_BEFORE, *OWED]
    found = []
    for call in slack.calls("chat.postMessage"):
        text = call.params.get("text", "")
        for session in sessions:
            if call.ok and session in text:
                found.append((session, call.params.get("channel")))
    return found


def backup(database: Path, target: Path) -> subprocess.CompletedProcess[str]:
    """The real command line, as an operator runs it beside the bot."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(SETTINGS_PREFIXES)}
    env["DATABASE_URL"] = f"sqlite:///{database}"
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "backup", str(target)],
        capture_output=True,
        text=True,
        env=env,
        cwd=target.parent,
        timeout=60,
        check=False,
    )


@pytest.mark.slow(seconds=40)
def test_a_backup_taken_mid_morning_restores_to_a_bot_that_sends_exactly_what_was_still_owed(slack, tmp_path):
    live, copy, restored = tmp_path / "live.db", tmp_path / "backup.db", tmp_path / "restored.db"
    with BotProcess(slack, f"sqlite:///{live}", admins=ADMIN, **FAST) as first:
        now = datetime.now(UTC)  # once the bot is up: its start takes longer on a busy machine
        dues = {name: now + timedelta(seconds=seconds) for name, seconds in {**SENT_BEFORE, **OWED}.items()}
        for number, (name, due) in enumerate(dues.items(), start=1):
            start = typed(due + timedelta(minutes=1))
            reply = run(first, ADMIN, f'/event add {name} start="{start}" remind=1m channel=<#{LABS}|labs>')
            assert reply.startswith("Scheduled"), reply
            assert run(first, ANA, f"/event rsvp {number}").startswith("You are attending")
        expected_before = {(name, to) for name in SENT_BEFORE for to in RECIPIENTS}
        slack.wait_for(lambda: set(delivered(slack)) >= expected_before, timeout=30, what="the first reminders")
        time.sleep(1.5)  # their outcomes are recorded just after Slack's answers

        taken = backup(live, copy)
        backed_up_at = datetime.now(UTC)
        sent_before = delivered(slack)
    assert taken.returncode == 0, taken.stderr
    assert taken.stdout.startswith(f"Backed up {live} to {copy} (") and taken.stdout.count("\n") == 1, taken.stdout
    assert backed_up_at < min(dues[name] for name in OWED) - timedelta(seconds=5), "the machine was too slow"
    assert sorted(sent_before) == sorted(expected_before)  # each once; none of the owed ones yet

    # Restore: the backup copied into a new database file, and a new bot started on it.
    shutil.copyfile(copy, restored)
    with BotProcess(slack, f"sqlite:///{restored}", admins=ADMIN, **FAST):
        expected_after = {(name, to) for name in OWED for to in RECIPIENTS}
        slack.wait_for(lambda: set(delivered(slack)) >= expected_before | expected_after, timeout=60, what="the rest")
        time.sleep(3)  # three more sweeps: nothing may go twice
    sent_after = delivered(slack)[len(sent_before) :]
    assert sorted(sent_after) == sorted(expected_after)  # exactly what was owed: none twice, none lost


def test_a_backup_never_overwrites_a_file(tmp_path, capsys):
    live, copy = tmp_path / "live.db", tmp_path / "backup.db"
    with sqlite3.connect(live) as database:
        database.execute("CREATE TABLE kept (x)")
    copy.write_bytes(b"an earlier backup")
    assert main(["backup", "--db", str(live), str(copy)]) == 1
    assert copy.read_bytes() == b"an earlier backup"
    err = capsys.readouterr().err.strip()
    assert err == f"citypeers: backup: {copy} exists; a backup never overwrites a file: give a new name"


def test_postgresql_is_backed_up_with_pg_dump(tmp_path, capsys):
    target = tmp_path / "backup.db"
    assert main(["backup", "--db", "postgresql://citypeers@db.example.org/citypeers", str(target)]) == 1
    assert not target.exists()
    err = capsys.readouterr().err.strip()
    assert err.startswith("citypeers: backup: DATABASE_URL is PostgreSQL: back it up with its own tool, pg_dump ")
    assert "\n" not in err
