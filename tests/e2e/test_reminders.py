"""Reminders end to end: real `citypeers run` processes, the real scheduler, a fake Slack, real time.

Times are real here (the scheduler wakes on the wall clock), so events are set a minute or two ahead and
the tests wait for what the fake Slack receives, with timeouts rather than sleeps where they can.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from handlers.ledger import PLAN_MARGIN, PLAN_SHARE
from tests.support.botprocess import BotProcess
from tests.support.fakeslack import FakeSlack

pytestmark = pytest.mark.slow  # real processes on real time

ADMIN, ANA, BOB = "U0ADMIN", "U0ANA", "U0BOB"
LABS = "C0LABS"
BRUSSELS = ZoneInfo("Europe/Brussels")
FAST = {"citypeers_sweep_seconds": "1"}


@pytest.fixture
def slack():
    with FakeSlack() as fake:
        for user in (ADMIN, ANA, BOB):
            fake.set_user(user)
        yield fake
        assert not fake.problems, fake.problems


def typed(moment: datetime) -> str:
    """How the admin (Europe/Brussels in the fake) types a time, to the second."""
    return moment.astimezone(BRUSSELS).strftime("%Y-%m-%d %H:%M:%S")


def run(bot: BotProcess, user: str, line: str) -> str:
    sent = bot.sender.command(user, line)
    assert sent.status == 200
    (reply,) = bot.slack.wait_for_response(sent.response_token, timeout=30)
    return reply["text"]


def schedule(bot: BotProcess, *, due_in: float, remind: str, lead: timedelta, attendees=()) -> datetime:
    """An event whose `remind` reminder falls due `due_in` seconds from now; returns the due time."""
    due = datetime.now(UTC) + timedelta(seconds=due_in)
    reply = run(bot, ADMIN, f'/event add City Lab start="{typed(due + lead)}" remind={remind} channel=<#{LABS}|labs>')
    assert reply.startswith("Scheduled"), reply
    for user in attendees:
        assert run(bot, user, "/event rsvp 1").startswith("You are attending")
    return due


def reminders(slack: FakeSlack, recipient: str) -> list[dict]:
    return [
        c.params
        for c in slack.calls("chat.postMessage")
        if c.ok and c.params.get("channel") == recipient and "City Lab" in c.params.get("text", "")
    ]


def wait_for_reminders(slack: FakeSlack, recipients, timeout: float) -> None:
    slack.wait_for(
        lambda: all(reminders(slack, r) for r in recipients), timeout=timeout, what=f"reminders {recipients}"
    )


def test_a_reminder_due_in_seconds_arrives_once(slack, database_url):
    with BotProcess(slack, database_url, admins=ADMIN, **FAST) as bot:
        due = schedule(bot, due_in=4, remind="1m", lead=timedelta(minutes=1), attendees=[ANA])
        wait_for_reminders(slack, [LABS, ANA], timeout=30)
        arrived = datetime.now(UTC)
        time.sleep(3)  # three more sweeps: nothing may be sent twice
    for recipient in (LABS, ANA):
        [message] = reminders(slack, recipient)
        assert "Sent late" not in message["text"]
    # The organiser typed the start to the second; the ledger plans the two messages (channel, Ana) to be sent by
    # then at four fifths of Slack's five a second, the last PLAN_MARGIN before it: a little early, never late.
    planned_lead = PLAN_MARGIN + timedelta(seconds=1 / (5 * PLAN_SHARE))
    assert arrived >= due.replace(microsecond=0) - planned_lead


@pytest.mark.slow(seconds=40)  # down for more than 30 s
def test_killed_before_the_due_time_and_restarted_after_it_sends_once_marked_late(slack, tmp_path):
    database_url = f"sqlite:///{tmp_path / 'citypeers.db'}"
    bot = BotProcess(slack, database_url, admins=ADMIN, **FAST).start()
    due = schedule(bot, due_in=5, remind="2m", lead=timedelta(minutes=2), attendees=[ANA])
    bot.kill()
    assert reminders(slack, ANA) == []
    # Down while it fell due, and for longer than the 30 s after which a message counts as late.
    time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()) + 32)
    assert reminders(slack, ANA) == []
    with BotProcess(slack, database_url, admins=ADMIN, **FAST):
        wait_for_reminders(slack, [LABS, ANA], timeout=30)
        time.sleep(3)
    for recipient in (LABS, ANA):
        [message] = reminders(slack, recipient)
        assert "Sent late: this reminder was due" in message["text"]


def test_rate_limited_by_slack_it_waits_for_retry_after_and_sends_once(slack, database_url):
    with BotProcess(slack, database_url, admins=ADMIN, **FAST) as bot:
        schedule(bot, due_in=4, remind="1m", lead=timedelta(minutes=1))
        slack.fail_next("chat.postMessage", status=429, retry_after=2)
        wait_for_reminders(slack, [LABS], timeout=30)
        time.sleep(2)
    attempts = [c for c in slack.calls("chat.postMessage") if c.params.get("channel") == LABS]
    assert [c.status for c in attempts] == [429, 200]
    assert attempts[1].at - attempts[0].at >= 2.0
    assert len(reminders(slack, LABS)) == 1


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_processes_on_postgresql_send_one_message_per_recipient(slack, database_url):
    people = [f"U0P{n:03d}" for n in range(12)]
    for person in people:
        slack.set_user(person)
    with (
        BotProcess(slack, database_url, admins=ADMIN, **FAST) as first,
        BotProcess(slack, database_url, admins=ADMIN, **FAST) as second,
    ):
        schedule(first, due_in=8, remind="1m", lead=timedelta(minutes=1))
        for n, person in enumerate(people):  # RSVPs arrive at both processes
            assert run(first if n % 2 else second, person, "/event rsvp 1").startswith("You are attending")
        wait_for_reminders(slack, [LABS, *people], timeout=40)
        time.sleep(3)
    for recipient in (LABS, *people):
        assert len(reminders(slack, recipient)) == 1, recipient
