"""The Discord adapter: its route on the web app, its renderer and its sender (see bot/adapters.py)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from bot.discord import render as discord_render
from bot.discord.api import DiscordClient
from bot.discord.commands import command_set
from bot.discord.events import ScheduledEvents
from bot.discord.interactions import INTERACTIONS_PATH, Interactions
from bot.discord.sender import DiscordDeliverySender
from bot.discord.settings import DiscordSettings
from bot.web import Route
from handlers.dispatch import FAMILIES, SUMMARIES
from handlers.types import Services


class DiscordAdapter:
    platform = "discord"

    def __init__(self, settings: DiscordSettings, services: Services, *, workers: int | None = None) -> None:
        self.settings = settings
        self.services = services
        self.client = DiscordClient(
            settings.discord_api_url,
            settings.discord_bot_token,
            on_rate_limited=lambda: services.meter.rate_limited("discord"),
        )
        self.interactions = Interactions(
            services,
            self.client,
            application_id=settings.discord_application_id,
            public_key=settings.discord_public_key,
            workers=workers or 2 * settings.web_threads,
        )

    def routes(self) -> Sequence[Route]:
        return [Route("POST", INTERACTIONS_PATH, self.interactions)]

    def sender(self) -> DiscordDeliverySender:
        events = ScheduledEvents(self.client, self.services.engine, self.services.clock)
        # The sender renders a message to a channel its own way (times as Discord's timestamps), so it takes the
        # renderer with the buttons' ids decided, not the interactions' answers' renderer.
        render = functools.partial(discord_render.render, custom_id=self.interactions.custom_id)
        return DiscordDeliverySender(self.client, render, events)

    def start(self) -> None:
        """Nothing runs beside the route: Discord calls us over HTTP."""

    def stop(self) -> None:
        """Interactions under way finish (their answers are sent) before the process ends."""
        self.interactions.executor.shutdown(wait=True)

    def sync_commands(self, guild_id: str | None = None) -> list[dict[str, Any]]:
        """Register the slash commands: for one guild (at once, for testing) or globally."""
        app = self.settings.discord_application_id
        path = f"/applications/{app}/guilds/{guild_id}/commands" if guild_id else f"/applications/{app}/commands"
        registered: list[dict[str, Any]] = self.client.request(
            "PUT", path, body=command_set(FAMILIES, SUMMARIES), retries=3
        )
        return registered  # Discord answers with the commands as it registered them
