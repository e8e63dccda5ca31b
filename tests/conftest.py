"""Shared fixtures. Database tests run on SQLite and on PostgreSQL (TEST_DATABASE_URL).

PostgreSQL is required: when it cannot be reached the tests fail, they are not skipped. Each test gets
its own schema, so parallel runs on one server never see each other's rows.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from bot.app import build_services
from bot.config import Settings, load_settings
from core.clock import FakeClock
from handlers.types import Services
from tests.support.databases import temporary_schema

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
START = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def _postgres_schema_url() -> Iterator[str]:
    with contextlib.ExitStack() as stack:
        try:
            url = stack.enter_context(temporary_schema(POSTGRES_URL))
        except Exception as error:  # noqa: BLE001 - any failure to reach the server fails the run
            pytest.fail(f"PostgreSQL is unreachable at {POSTGRES_URL} ({type(error).__name__}); start it, see README")
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'citypeers.db'}"
    else:
        yield from _postgres_schema_url()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


def make_settings(database_url: str, **overrides: object) -> Settings:
    """Settings for a test: nothing from the developer's environment file."""
    values: dict[str, object] = {"_env_file": None, "database_url": database_url}
    values.update(overrides)
    return load_settings(**values)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
def services(settings: Settings, clock: FakeClock) -> Iterator[Services]:
    built = build_services(settings, clock=clock, first_user_is_admin=True)
    yield built
    built.engine.dispose()
