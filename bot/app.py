"""Build everything from settings: engine, schema, clock, services. Adapters take what this returns."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import OperationalError

from bot.config import Settings, StartupFailure
from bot.platforms import Platform, platform, platforms
from core.clock import Clock, SystemClock
from handlers.types import HandlerSettings, Meter, Services
from storage import queries
from storage.db import make_engine, unit_of_work, upgrade

if TYPE_CHECKING:  # the console needs none of the web side
    from bot.adapters import Adapter


def build_services(
    settings: Settings, *, clock: Clock | None = None, first_user_is_admin: bool = False, metered: bool = False
) -> Services:
    """Open the database, bring its schema up to date, load the configured tracks. `metered`: count for GET /metrics
    (`citypeers run` when CITYPEERS_METRICS_TOKEN is set), in a registry of these services' own."""
    # Every thread that may hold a connection at once: bolt's listeners (2 per web thread), the web threads
    # themselves, the scheduler's workers and the delivery engine.
    engine = open_database(settings.database_url, pool_size=3 * settings.web_threads + 6)
    with unit_of_work(engine) as session:
        queries.sync_tracks(session=session, tracks=settings.tracks)
    handler_settings = HandlerSettings(
        admins=settings.admins,
        default_tz=settings.default_zone,
        default_language=settings.citypeers_default_language,
        tracks=settings.tracks,
        first_user_is_admin=first_user_is_admin,
        default_remind=settings.citypeers_remind_default,
        digest_weekday=settings.digest_weekday,
        digest_hour=settings.citypeers_digest_hour,
        public_url=settings.public_url,
        forget_departed_after=timedelta(days=settings.citypeers_forget_departed_days),
        retention=timedelta(days=settings.citypeers_retention_days),
        audit_retention=timedelta(days=settings.citypeers_audit_retention_days),
    )
    meter = Meter()
    if metered:
        from bot.metrics import Metrics
        from handlers.dispatch import FAMILIES, HELP

        meter = Metrics(engine, families=[*FAMILIES, HELP])
    return Services(engine=engine, clock=clock or SystemClock(), settings=handler_settings, meter=meter)


def open_database(database_url: str, *, pool_size: int = 10) -> Engine:
    """The engine with its schema brought up to date; a database that cannot be opened is one StartupFailure
    naming DATABASE_URL, not a driver's traceback."""
    url = make_url(database_url)
    _check_sqlite_directory(url)
    engine = make_engine(database_url, pool_size=pool_size)
    try:
        upgrade(engine)
    except OperationalError as error:
        engine.dispose()
        raise database_failure(url, error) from None
    return engine


def _check_sqlite_directory(url: URL) -> None:
    # SQLite creates the file but not its directory, and then says only "unable to open database file".
    path = url.database or ""
    if url.get_backend_name() != "sqlite" or path in ("", ":memory:") or path.startswith("file:"):
        return
    directory = Path(path).parent
    if not directory.exists():
        raise StartupFailure("DATABASE_URL", f"directory {directory} does not exist")
    if not directory.is_dir():
        raise StartupFailure("DATABASE_URL", f"{directory} is not a directory")
    if Path(path).is_dir():
        raise StartupFailure("DATABASE_URL", f"{path} is a directory, not a database file")


# Causes that mean the server was never reached, as opposed to a server that answered and refused.
_NETWORK_CAUSES = ("refused", "timeout", "timed out", "resolve", "name or service", "no route", "unreachable")


def database_failure(url: URL, error: OperationalError) -> StartupFailure:
    """The driver's message cut to its cause: psycopg says `connection failed: connection to server at "h", port
    5432 failed: Connection refused` and a hint on the next line."""
    text = str(error.orig).strip().splitlines()[0] if str(error.orig).strip() else type(error.orig).__name__
    if url.get_backend_name() == "sqlite":
        return StartupFailure("DATABASE_URL", f"cannot open the SQLite database {url.database} ({text})")
    cause = re.sub(r"\[Errno [-\d]+\]\s*", "", text.rsplit("failed: ", 1)[-1].removeprefix("FATAL:").strip())
    cause = cause[:1].lower() + cause[1:]
    where = f"at {url.host}:{url.port or 5432}" if url.host else "on the local socket"
    if any(word in cause.lower() for word in _NETWORK_CAUSES):
        return StartupFailure("DATABASE_URL", f"cannot reach PostgreSQL {where} ({cause})")
    return StartupFailure("DATABASE_URL", f"PostgreSQL {where} refused the connection ({cause})")


def enabled_platforms(settings: Settings) -> list[Platform]:
    """The platforms whose settings are present, in the registry's order."""
    return [found for found in platforms() if getattr(settings, found.enabled)]


@contextlib.contextmanager
def told_in_one_line(found: Platform, settings: Settings, phase: str) -> Iterator[None]:
    """A platform refusing us while its adapter is built (`build`) or started (`start`) stops the program with one
    line naming the setting, as the platform's declaration tells it (the same handling for every platform)."""
    try:
        yield
    except Exception as error:
        failure = found.load("startup_failure")(error, settings, phase) if found.startup_failure else None
        if failure is None:
            raise
        raise failure from None


def build_adapters(settings: Settings, services: Services) -> list[Adapter]:
    """Every platform whose settings are present (settings.require_platforms() said which)."""
    adapters: list[Adapter] = []
    for found in enabled_platforms(settings):
        with told_in_one_line(found, settings, "build"):
            adapters.append(found.load("adapter")(settings, services))
    return adapters


def start_adapters(settings: Settings, adapters: list[Adapter]) -> None:
    """Start each adapter (Slack's Socket Mode connects here)."""
    for adapter in adapters:
        with told_in_one_line(platform(adapter.platform), settings, "start"):
            adapter.start()
