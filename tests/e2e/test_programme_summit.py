"""A summit announced five months ahead, and a real `citypeers run` started only now, long after: what fell due
while no process ran goes out once, marked late; what is still ahead goes out once, at its time.

The announcement is made through the real handlers on the programme's database with the clock five months back
(as it was when the organiser typed it); the process then starts on real time, with a fake Slack."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from bot.app import build_services
from core.clock import FakeClock
from handlers.dispatch import handle
from handlers.types import Request
from tests.conftest import make_settings
from tests.e2e.test_reminders import ADMIN, ANA, BRUSSELS, FAST
from tests.support.botprocess import BotProcess
from tests.support.fakeslack import FakeSlack

pytestmark = pytest.mark.slow  # real processes on real time

SUMMIT = "C0SUMMIT"


@pytest.fixture
def slack():
    with FakeSlack() as fake:
        for user in (ADMIN, ANA):
            fake.set_user(user)
        yield fake
        assert not fake.problems, fake.problems


def reminders(slack: FakeSlack, recipient: str) -> list[dict]:
    return [
        c.params
        for c in slack.calls("chat.postMessage")
        if c.ok and c.params.get("channel") == recipient and "Mayors summit" in c.params.get("text", "")
    ]


def announce(database_url: str, *, at: datetime, start: datetime) -> None:
    """The organiser's commands, typed at `at`: the summit, and Ana attending it."""
    settings = make_settings(database_url, citypeers_admins=ADMIN)
    services = build_services(settings, clock=FakeClock(at))
    try:
        for user, line in (
            (
                ADMIN,
                f'/event add Mayors summit start="{start.astimezone(BRUSSELS):%Y-%m-%d %H:%M:%S}" '
                f"remind=7d,1d,1m channel=<#slack:{SUMMIT}|summit>",
            ),  # fmt: skip
            (ANA, "/event rsvp 1"),
        ):
            reply = handle(services, Request(f"slack:{user}", user.lower(), "event", line.removeprefix("/event ")))
            assert not reply.error, reply.plain()
    finally:
        services.engine.dispose()


def test_a_process_started_months_later_sends_what_is_owed_once(slack, database_url):
    now = datetime.now(UTC).replace(microsecond=0)
    start = now + timedelta(seconds=75)  # the summit: its 1m reminder falls due 15 s from now
    announce(database_url, at=now - timedelta(days=150), start=start)
    with BotProcess(slack, database_url, admins=ADMIN, **FAST) as bot:
        # The 7d and 1d reminders fell due while nothing ran: sent at once, marked late, to #summit and Ana.
        slack.wait_for(lambda: all(len(reminders(slack, r)) >= 2 for r in (SUMMIT, ANA)), timeout=30, what="late")
        slack.wait_for(lambda: all(len(reminders(slack, r)) >= 3 for r in (SUMMIT, ANA)), timeout=60, what="1m")
        on_time = datetime.now(UTC)
        time.sleep(3)  # three more sweeps: nothing may be sent twice
        assert bot.process is not None and bot.process.poll() is None
    assert on_time >= start - timedelta(minutes=1) - timedelta(seconds=1)
    for recipient in (SUMMIT, ANA):
        texts = [message["text"] for message in reminders(slack, recipient)]
        assert len(texts) == 3, texts
        assert ["Sent late" in text for text in texts] == [True, True, False], texts
        assert "starts in 1 minute" in texts[2]
