"""Build everything from settings: engine, schema, clock, services. Adapters take what this returns."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.config import Settings
from core.clock import Clock, SystemClock
from handlers.types import HandlerSettings, Services
from storage import queries
from storage.db import make_engine, unit_of_work, upgrade

if TYPE_CHECKING:  # the console needs none of the web side
    from bot.adapters import Adapter


def build_services(settings: Settings, *, clock: Clock | None = None, first_user_is_admin: bool = False) -> Services:
    """Open the database, bring its schema up to date, load the configured tracks."""
    # Every thread that may hold a connection at once: bolt's listeners (2 per web thread), the web threads
    # themselves, the scheduler's workers and the delivery engine.
    engine = make_engine(settings.database_url, pool_size=3 * settings.web_threads + 6)
    upgrade(engine)
    with unit_of_work(engine) as session:
        queries.sync_tracks(session=session, tracks=settings.tracks)
    handler_settings = HandlerSettings(
        admins=settings.admins,
        default_tz=settings.default_zone,
        tracks=settings.tracks,
        first_user_is_admin=first_user_is_admin,
        default_remind=settings.citypeers_remind_default,
        digest_weekday=settings.digest_weekday,
        digest_hour=settings.citypeers_digest_hour,
        public_url=settings.public_url,
    )
    return Services(engine=engine, clock=clock or SystemClock(), settings=handler_settings)


def build_adapters(settings: Settings, services: Services) -> list[Adapter]:
    """Every platform whose settings are present (settings.require_platforms() said which)."""
    adapters: list[Adapter] = []
    if settings.slack_enabled:
        from bot.slack.adapter import SlackAdapter

        adapters.append(SlackAdapter(settings, services))
    if settings.discord_enabled:
        from bot.discord.adapter import DiscordAdapter

        adapters.append(DiscordAdapter(settings, services, workers=2 * settings.web_threads))
    return adapters
