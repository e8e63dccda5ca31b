"""Slack retries an event it thinks we missed; the retry may reach another process than the first delivery.
Two bolt apps on one database (as two `citypeers run` would be) handle each event id once between them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from bot.app import build_services
from bot.slack.app import build_slack_app
from bot.slack.server import create_http_server
from bot.web import stop_http_server
from core.clock import FakeClock
from tests.conftest import make_settings
from tests.e2e.conftest import ADMIN, ANA, SIGNING_SECRET
from tests.support.fakeslack import FakeSlack, SlackSender

OPENED = {"type": "app_home_opened", "user": ANA, "channel": "D0ANA", "tab": "home", "event_ts": "1.1"}


@contextmanager
def bot_process(database_url: str, slack: FakeSlack, clock: FakeClock) -> Iterator[SlackSender]:
    """One process's worth of bot: its own engine, bolt app and HTTP server, on the shared database."""
    settings = make_settings(
        database_url,
        slack_api_url=slack.api_url,
        slack_bot_token="xoxb-test",
        slack_signing_secret=SIGNING_SECRET,
        citypeers_admins=ADMIN,
        web_threads=4,
    )
    services = build_services(settings, clock=clock)
    slack_app = build_slack_app(settings, services)
    server = create_http_server(settings, services, "127.0.0.1", 0, slack_app=slack_app)
    thread = threading.Thread(target=server.run, name="bot-http", daemon=True)
    thread.start()
    try:
        yield SlackSender(f"http://127.0.0.1:{server.effective_port}", SIGNING_SECRET, slack)
    finally:
        # Every listener it started has finished once this returns: nothing can publish behind the assertions.
        slack_app.listener_runner.listener_executor.shutdown(wait=True)
        stop_http_server(server)
        thread.join(timeout=5)
        services.engine.dispose()


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
