"""Slack retries an event it thinks we missed; the retry may reach another process than the first delivery.
Two bolt apps on one database (as two `citypeers run` would be) handle each event id once between them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from core.clock import FakeClock
from tests.e2e.conftest import ANA, running_bot
from tests.support.fakeslack import FakeSlack, SlackSender

OPENED = {"type": "app_home_opened", "user": ANA, "channel": "D0ANA", "tab": "home", "event_ts": "1.1"}


@contextmanager
def bot_process(database_url: str, slack: FakeSlack, clock: FakeClock) -> Iterator[SlackSender]:
    """One process's worth of bot: its own engine, bolt app and HTTP server, on the shared database. Every
    listener it started has finished once it is left: nothing can publish behind the assertions."""
    with running_bot(database_url, slack, clock) as bot:
        yield bot.sender


def test_a_retry_that_reaches_another_process_is_answered_and_not_run_again(database_url, slack, clock):
    with ExitStack() as processes:
        first = processes.enter_context(bot_process(database_url, slack, clock))
        second = processes.enter_context(bot_process(database_url, slack, clock))
        assert first.event(OPENED, event_id="EvHome1").status == 200
        slack.wait_for_calls("views.publish")
        assert second.event(OPENED, event_id="EvHome1", retry_num=1).status == 200
        assert second.event(OPENED, event_id="EvHome1", retry_num=2).status == 200
    assert len(slack.calls("views.publish")) == 1


def test_the_same_event_at_two_processes_at_once_is_handled_once(database_url, slack, clock):
    with ExitStack() as processes:
        senders = [processes.enter_context(bot_process(database_url, slack, clock)) for _ in range(2)]
        answers: list[int] = []
        arrivals = [
            threading.Thread(target=lambda s=sender, n=n: answers.append(s.event(OPENED, event_id="EvHome2").status))
            for n, sender in enumerate(senders * 3)
        ]
        for arrival in arrivals:
            arrival.start()
        for arrival in arrivals:
            arrival.join()
        assert answers == [200] * 6
    assert len(slack.calls("views.publish")) == 1
