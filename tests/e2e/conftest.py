"""The real bolt App over real HTTP (waitress on port 0) against the fake Slack, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from bot.app import build_services
from bot.delivery import DeliveryEngine, Pacer
from bot.slack.app import build_slack_app
from bot.slack.notifier import SlackDeliverySender, make_delivery_client
from bot.slack.server import create_http_server
from bot.web import stop_http_server
from core.clock import FakeClock
from handlers.types import Services
from tests.conftest import make_settings
from tests.support.fakeslack import FakeSlack, SlackSender

SIGNING_SECRET = "e2e-signing-secret"
ADMIN = "U0ADMIN"
ANA = "U0ANA"
BOB = "U0BOB"


@dataclass
class Bot:
    slack: FakeSlack
    sender: SlackSender
    services: Services
    delivery: DeliveryEngine  # sends the ledger (notices, reminders) to the fake Slack after every command


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        fake.set_user(ADMIN, "admin")
        fake.set_user(ANA, "ana", tz="Europe/Prague")
        fake.set_user(BOB, "bob")
        yield fake
        # Every blocks payload and respond body any test sent was checked with slack_sdk's models.
        assert not fake.problems, fake.problems


@contextmanager
def running_bot(database_url: str, slack: FakeSlack, clock: FakeClock) -> Iterator[Bot]:
    """One process's worth of bot on `database_url`: the real bolt app over HTTP, the real delivery engine."""
    settings = make_settings(
        database_url,
        slack_api_url=slack.api_url,
        slack_bot_token="xoxb-test",
        slack_signing_secret=SIGNING_SECRET,
        citypeers_admins=ADMIN,
        web_threads=4,
    )
    services = build_services(settings, clock=clock)
    # The real engine and Slack sender; here every commit runs it at once (unpaced), where `citypeers run`
    # wakes it through its scheduler, so a test sees a command's notices as soon as its reply.
    delivery = DeliveryEngine(
        services,
        SlackDeliverySender(make_delivery_client(settings)),
        worker="e2e",
        pacer=Pacer(per_channel=0, per_second=0),
    )
    services.on_commit.append(delivery.run_due)
    slack_app = build_slack_app(settings, services)
    server = create_http_server(settings, services, "127.0.0.1", 0, slack_app=slack_app)
    thread = threading.Thread(target=server.run, name="bot-http", daemon=True)
    thread.start()
    try:
        sender = SlackSender(f"http://127.0.0.1:{server.effective_port}", SIGNING_SECRET, slack)
        yield Bot(slack, sender, services, delivery)
    finally:
        # Listeners still running finish before the database (and its test schema) goes away.
        slack_app.listener_runner.listener_executor.shutdown(wait=True)
        stop_http_server(server)
        thread.join(timeout=5)
        services.engine.dispose()


@pytest.fixture
def bot(database_url: str, slack: FakeSlack, clock: FakeClock) -> Iterator[Bot]:
    with running_bot(database_url, slack, clock) as running:
        yield running
