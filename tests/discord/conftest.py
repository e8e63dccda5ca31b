"""Shared by the Discord tests: a fake Discord that validates everything, and the real web app and handlers
serving it in-process (`bot`)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from bot.app import build_services
from bot.delivery import DeliveryEngine, Pacer
from bot.discord.adapter import DiscordAdapter
from bot.web import create_server, database_check, make_wsgi_app, stop_http_server
from core.clock import FakeClock
from handlers.types import Services
from tests.conftest import make_settings
from tests.support.discord import APPLICATION_ID, GUILD_ID, DiscordInteractions, FakeDiscord

ADMIN = "1310000000000000901"
ANA = "1310000000000000902"
BOB = "1310000000000000903"
LABS = "1310000000000000300"


@dataclass
class Bot:
    discord: FakeDiscord
    interactions: DiscordInteractions
    services: Services
    adapter: DiscordAdapter


@pytest.fixture
def discord() -> Iterator[FakeDiscord]:
    with FakeDiscord() as fake:
        fake.add_channel(LABS, name="city-labs")
        yield fake
        # Every body the bot sent, and every answer it gave, passed Discord's schema and documented limits.
        assert not fake.problems, fake.problems


@pytest.fixture
def bot(database_url: str, discord: FakeDiscord, clock: FakeClock) -> Iterator[Bot]:
    with serving(database_url, discord, clock) as served:
        yield served


@contextlib.contextmanager
def serving(database_url: str, discord: FakeDiscord, clock: FakeClock) -> Iterator[Bot]:
    """The real web app and handlers on `database_url`, talking to `discord`, its commands registered."""
    interactions = DiscordInteractions("http://127.0.0.1:1", discord)
    settings = make_settings(
        database_url,
        discord_application_id=APPLICATION_ID,
        discord_public_key=interactions.public_key_hex,
        discord_bot_token="discord-bot-token",
        discord_api_url=discord.api_url,
        citypeers_discord_admins=ADMIN,
        web_threads=4,
    )
    services = build_services(settings, clock=clock)
    adapter = DiscordAdapter(settings, services, workers=4)
    # The real engine and Discord sender; every commit runs it at once here (citypeers run wakes it by schedule).
    delivery = DeliveryEngine(services, adapter.sender(), worker="e2e", pacer=Pacer(per_channel=0, per_second=0))
    services.on_commit.append(delivery.run_due)
    server = create_server(
        make_wsgi_app(adapter.routes(), [database_check(services.engine)]), "127.0.0.1", 0, threads=4
    )
    thread = threading.Thread(target=server.run, name="bot-http", daemon=True)
    thread.start()
    interactions.url = f"http://127.0.0.1:{server.effective_port}/discord/interactions"
    adapter.sync_commands(GUILD_ID)
    try:
        yield Bot(discord, interactions, services, adapter)
    finally:
        adapter.stop()
        stop_http_server(server)
        thread.join(timeout=5)
        services.engine.dispose()
