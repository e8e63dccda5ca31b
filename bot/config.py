"""Typed settings, read once from the environment and an optional `.env`. Nothing else reads os.environ."""

from __future__ import annotations

import types
from typing import TYPE_CHECKING, TypeAlias
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

from bot.platforms import platforms
from core.dates import parse_durations
from core.grammar import GrammarError
from core.reminders import WEEKDAYS
from core.tracks import ICC_TRACKS, parse_track_list
from storage.db import normalise_url


class ConfigError(Exception):
    """A missing or malformed setting; the message is one line that names it."""


class StartupFailure(Exception):
    """A service a setting points at cannot be used (refused, unreachable, not there): one line naming the setting
    and the cause, such as `DATABASE_URL: cannot reach PostgreSQL at db:5432 (connection refused)`."""

    def __init__(self, setting: str, problem: str, *, joiner: str = ": ") -> None:
        super().__init__(f"{setting}{joiner}{problem}")
        self.setting, self.problem, self.joiner = setting, problem, joiner

    def named(self, setting: str) -> StartupFailure:
        """The same failure told under the name the user gave the setting (`--db` for DATABASE_URL)."""
        return StartupFailure(setting, self.problem, joiner=self.joiner)


class CoreSettings(BaseSettings):
    """The settings of CityPeers itself; each platform adds its own (bot/platforms.py), and `Settings` is this with
    every platform's taken in."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    host: str = "0.0.0.0"
    port: int = Field(default=3000, ge=1, le=65535)
    web_threads: int = Field(default=8, ge=1, le=64)
    database_url: str = "sqlite:///citypeers.db"
    citypeers_default_tz: str = "Europe/Brussels"
    # The programme's language: channel posts, and people who chose none and whose platform reports none we have.
    citypeers_default_language: str = "en"
    citypeers_tracks: str = ICC_TRACKS
    citypeers_log_level: str = "INFO"
    citypeers_remind_default: str = "7d,1d,1h"
    # Messages a second per platform from each process, and the pace sends are planned by (0: each platform's own).
    citypeers_send_per_second: float = Field(default=0.0, ge=0, le=100)
    citypeers_sweep_seconds: float = Field(default=15.0, ge=0.5, le=3600)
    # How long a process's claim on a message lasts; after a crash another process takes it over then.
    citypeers_claim_seconds: float = Field(default=300.0, ge=2, le=3600)
    citypeers_digest_day: str = "mon"
    citypeers_digest_hour: int = Field(default=8, ge=0, le=23)
    # Someone who left the Slack workspace is erased this many days later (0: at once); organisers are told at once.
    citypeers_forget_departed_days: int = Field(default=30, ge=0, le=36500)
    # Retention: sent messages' bodies, delivery attempts and seen event ids go after this many days (a daily job).
    citypeers_retention_days: int = Field(default=90, ge=1, le=36500)
    citypeers_audit_retention_days: int = Field(default=730, ge=1, le=36500)  # audit trail entries
    # Where people reach this server, for the links it gives out (calendar feeds); default http://localhost:PORT.
    citypeers_public_url: str = ""
    # GET /metrics answers only requests bearing this token (Authorization: Bearer …); unset, it is off (404).
    citypeers_metrics_token: str = ""

    @field_validator("citypeers_default_tz")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"`{value}` is not an IANA time zone such as Europe/Brussels") from None
        return value

    @field_validator("citypeers_default_language")
    @classmethod
    def _language(cls, value: str) -> str:
        import locales

        found = locales.find(value)
        if found is None:
            there = ", ".join(locales.codes())
            raise ValueError(f"`{value}` is no language CityPeers is written in; there are {there}") from None
        return found

    @field_validator("citypeers_tracks")
    @classmethod
    def _tracks(cls, value: str) -> str:
        parse_track_list(value)
        return value

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        try:
            backend = make_url(normalise_url(value)).get_backend_name()
        except Exception:
            raise ValueError(f"`{value}` is not a database URL such as sqlite:///citypeers.db") from None
        if backend not in ("sqlite", "postgresql"):
            raise ValueError("only sqlite:// and postgresql:// databases are supported")
        return normalise_url(value)

    @field_validator("citypeers_public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("expected an http(s) URL such as https://citypeers.example.org")
        return value.rstrip("/")

    @property
    def public_url(self) -> str:
        return self.citypeers_public_url or f"http://localhost:{self.port}"

    @field_validator("citypeers_remind_default")
    @classmethod
    def _offsets(cls, value: str) -> str:
        try:
            parse_durations(value)
        except GrammarError as error:
            raise ValueError(str(error)) from None
        return value

    @field_validator("citypeers_digest_day")
    @classmethod
    def _weekday(cls, value: str) -> str:
        if value.strip().lower()[:3] not in WEEKDAYS:
            raise ValueError("expected a weekday: mon, tue, wed, thu, fri, sat or sun")
        return value.strip().lower()[:3]

    @property
    def digest_weekday(self) -> int:
        return WEEKDAYS.index(self.citypeers_digest_day) + 1

    @field_validator("citypeers_log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        if value.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("expected DEBUG, INFO, WARNING or ERROR")
        return value.upper()

    @property
    def admins(self) -> frozenset[str]:
        """Admins by configuration, as member ids carrying their platform (each platform's list of its own ids)."""
        return frozenset(
            found.prefixed(part.strip())
            for found in platforms()
            for part in str(getattr(self, found.admins)).split(",")
            if part.strip()
        )

    def require_platforms(self) -> None:
        """`citypeers run` serves every platform whose settings are present (none: the dashboard and calendar feeds
        alone); each present one must be whole."""
        for found in platforms():
            if getattr(self, found.enabled):
                getattr(self, found.require)()

    @property
    def platforms_enabled(self) -> list[str]:
        return [found.name for found in platforms() if getattr(self, found.enabled)]

    @property
    def default_zone(self) -> ZoneInfo:
        return ZoneInfo(self.citypeers_default_tz)

    @property
    def tracks(self) -> tuple[tuple[str, str], ...]:
        return tuple((t.key, t.name) for t in parse_track_list(self.citypeers_tracks))


def _with_every_platform() -> type[CoreSettings]:
    """CoreSettings with every platform's settings taken in: one class, read from the environment in one go."""
    mixins: tuple[type[CoreSettings], ...] = tuple(found.load("settings") for found in platforms())
    bases = mixins or (CoreSettings,)
    made = types.new_class(
        "Settings", bases, exec_body=lambda body: body.update(__module__=__name__, __doc__=CoreSettings.__doc__)
    )
    assert issubclass(made, CoreSettings)  # each base is
    return made


if TYPE_CHECKING:
    # The class is made at run time from the platforms' declarations (bot/platforms.py), which the type checker
    # cannot follow: it sees the settings every platform shares. A platform's code reads its own through its own
    # class (bot/slack takes SlackSettings), which Settings derives from.
    Settings: TypeAlias = CoreSettings
else:
    Settings = _with_every_platform()


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning pydantic's report into one line per bad setting."""
    try:
        # Overrides stand for environment variables (tests, `--db`): pydantic checks and converts them as it does
        # the environment's text, so they are not typed as each field.
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        lines = []
        for problem in error.errors():
            name = str(problem["loc"][0]).upper() if problem["loc"] else "settings"
            message = str(problem["msg"]).removeprefix("Value error, ")
            lines.append(f"{name}: {message}")
        raise ConfigError("; ".join(lines)) from None


def use_matplotlib_cache() -> None:
    """Matplotlib keeps its font cache under MPLCONFIGDIR; without a writable home it makes a temporary one on every
    start, says so, and rebuilds the cache. Give it a lasting cache directory of ours unless the user chose one (the
    environment is read here, as every setting is)."""
    import os
    import tempfile
    from pathlib import Path

    if os.environ.get("MPLCONFIGDIR"):
        return
    home_cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    getuid = getattr(os, "getuid", None)
    user = str(getuid()) if getuid else "user"
    for candidate in (
        Path(home_cache) / "citypeers" / "matplotlib",
        Path(tempfile.gettempdir()) / f"citypeers-{user}" / "matplotlib",
    ):
        try:
            candidate.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(candidate, os.W_OK):
            os.environ["MPLCONFIGDIR"] = str(candidate)
            return
