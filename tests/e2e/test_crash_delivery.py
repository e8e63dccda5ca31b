"""A process killed at each step of deliver-and-record: nothing lost, nothing doubled.

Real `citypeers run` processes against the fake Slack, killed with SIGKILL while Slack holds the answer to the
message they are sending: before Slack took it, and after Slack posted it (the answer lost). A second process
started on the same database takes the message over once the dead one's claim lapses, asks Slack whether it
arrived (conversations.history with the message's metadata), and sends it only if it did not.
"""

from __future__ import annotations

import time

import pytest
from sqlmodel import col, select

from storage.db import make_engine, unit_of_work
from storage.models import Delivery
from tests.support.botprocess import BotProcess
from tests.support.fakeslack import FakeSlack

pytestmark = pytest.mark.slow  # real processes killed mid-send

ADMIN, ANA = "U0ADMIN", "U0ANA"
QUICK = {"citypeers_sweep_seconds": "1", "citypeers_claim_seconds": "2"}


@pytest.fixture
def slack():
    with FakeSlack() as fake:
        for user in (ADMIN, ANA):
            fake.set_user(user)
        yield fake
        assert not fake.problems, fake.problems


def run(bot: BotProcess, user: str, line: str) -> str:
    sent = bot.sender.command(user, line)
    assert sent.status == 200
    (reply,) = bot.slack.wait_for_response(sent.response_token, timeout=30)
    return reply["text"]


def requests_to_admin(slack: FakeSlack) -> list[dict]:
    """Messages Slack posted (ok) in the admin's DM that carry ana's request."""
    return [m for m in slack.messages_in(ADMIN) if "asks to represent" in m.get("text", "")]


def crash_while_sending(slack: FakeSlack, database_url: str, *, slack_took_it: bool) -> BotProcess:
    """ana asks to join; the organiser's message is in flight when its process dies. Returns the process that
    takes over, not started yet."""
    first = BotProcess(slack, database_url, admins=ADMIN, **QUICK).start()
    assert run(first, ADMIN, "/city register Brno country=CZ") == "Registered Brno (CZ)."
    hold = slack.hold_next("chat.postMessage", accept=slack_took_it)
    assert run(first, ANA, "/city join Brno").startswith("Asked to represent Brno")
    assert hold.reached.wait(30), "the message was never sent"
    first.kill()  # between sending and recording: the ledger says "attempted", nothing more
    hold.release()
    return BotProcess(slack, database_url, admins=ADMIN, **QUICK)  # started by the caller's `with`


def test_killed_before_slack_took_the_message_it_is_sent_once_after_restart(slack, database_url):
    with crash_while_sending(slack, database_url, slack_took_it=False):
        slack.wait_for(lambda: requests_to_admin(slack), timeout=30, what="the organiser's message")
        wait_until_settled(database_url)
    assert slack.calls("conversations.history"), "it asked Slack before sending again"
    assert len(requests_to_admin(slack)) == 1


def test_killed_after_slack_posted_the_message_it_is_not_sent_again(slack, database_url):
    with crash_while_sending(slack, database_url, slack_took_it=True) as second:
        assert "had arrived before its sender stopped" in wait_for_log(second, "had arrived")
        wait_until_settled(database_url)
    assert len(requests_to_admin(slack)) == 1


def test_without_history_scopes_the_one_case_left_is_a_repeat(slack, database_url):
    """The case the README states: Slack posted it, the process died before recording, and the workspace refused
    CityPeers the *:history scopes, so nothing can tell whether it arrived: it is sent again (once more)."""
    slack.fail_next("conversations.history", error="missing_scope", times=5)
    with crash_while_sending(slack, database_url, slack_took_it=True) as second:
        assert "cannot tell whether it arrived" in wait_for_log(second, "cannot tell")
        wait_until_settled(database_url)
    assert len(requests_to_admin(slack)) == 2


def wait_until_settled(database_url: str, timeout: float = 30.0) -> None:
    """Until every message in the ledger is sent or given up: after that no process sends anything more."""
    engine = make_engine(database_url)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with unit_of_work(engine) as session:
                open_rows = session.exec(select(Delivery).where(col(Delivery.status).in_(("pending", "sending"))))
                if not list(open_rows):
                    return
            time.sleep(0.2)  # polling another process's work; nothing is timed here
        raise AssertionError("the ledger never settled")
    finally:
        engine.dispose()


def wait_for_log(bot: BotProcess, text: str, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = bot.log()
        if text in log:
            return log
        time.sleep(0.2)  # polling a log file written by another process; nothing is timed here
    raise AssertionError(f"{text!r} never logged:\n{bot.log()}")
