"""Shared fixtures. Database tests run on SQLite and on PostgreSQL.

PostgreSQL is required: when it cannot be reached the tests fail, they are not skipped. Which server: the one at
TEST_DATABASE_URL; else the one answering on 127.0.0.1:5432 (database `test`, trust auth); else, or with
TEST_DATABASE_URL=throwaway, a throwaway server the run starts and removes (tests/support/databases.py), chosen once
for every xdist worker. Each test gets its own schema, so parallel runs on one server never see each other's rows.
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
from tests.support.databases import DEFAULT_URL, MigratedCopies, answers, temporary_schema, throwaway_server

START = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", DEFAULT_URL)  # pytest_configure settles it before collection
POSTGRES_CHOSEN = "TEST_DATABASE_URL"
THROWAWAY = pytest.StashKey[contextlib.ExitStack]()


def pytest_configure(config: pytest.Config) -> None:
    """Choose the PostgreSQL once, in the process that starts the xdist workers (they inherit the environment)."""
    global POSTGRES_URL, POSTGRES_CHOSEN
    wanted = os.environ.get("TEST_DATABASE_URL", "")
    if hasattr(config, "workerinput") or (wanted and wanted != "throwaway"):
        return
    if not wanted and answers("127.0.0.1", 5432):
        POSTGRES_URL = os.environ["TEST_DATABASE_URL"] = DEFAULT_URL
        POSTGRES_CHOSEN = "the server answering on 127.0.0.1:5432"
        return
    why = "TEST_DATABASE_URL=throwaway" if wanted else "nothing answers on 127.0.0.1:5432"
    server = contextlib.ExitStack()
    POSTGRES_URL, folder = server.enter_context(throwaway_server())
    os.environ["TEST_DATABASE_URL"] = POSTGRES_URL
    POSTGRES_CHOSEN = f"a throwaway server started for this run in {folder}: {why}"
    config.stash[THROWAWAY] = server


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """`postgres` marks every test that runs on PostgreSQL through database_url (parametrized here or indirectly).
    The longest tests go first (`slow(seconds=…)`, then the other slow ones), and pyproject's --maxschedchunk=1 has
    xdist hand each worker one test at a time: the workers start the long ones while the short ones fill the gaps.
    (xdist's default hands out chunks of a quarter of a worker's share: one worker got a hundred slow tests in a row,
    and the run waited for it for minutes at the end.)"""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("database_url") == "postgresql":
            item.add_marker(pytest.mark.postgres)
    items.sort(key=lambda item: -expected_seconds(item))


def expected_seconds(item: pytest.Item) -> float:
    """About how long a test takes on this machine: what its `slow` marker says, 5 for other slow tests, else 0."""
    slow = item.get_closest_marker("slow")
    return 0.0 if slow is None else float(slow.kwargs.get("seconds", 5))


def pytest_unconfigure(config: pytest.Config) -> None:
    if THROWAWAY in config.stash:
        config.stash[THROWAWAY].close()
        del os.environ["TEST_DATABASE_URL"]


def pytest_report_header(config: pytest.Config) -> str:
    return f"PostgreSQL: {POSTGRES_URL} ({POSTGRES_CHOSEN})"


def _postgres_schema_url() -> Iterator[str]:
    with contextlib.ExitStack() as stack:
        try:
            url = stack.enter_context(temporary_schema(POSTGRES_URL))
        except Exception as error:  # noqa: BLE001 - any failure to reach the server fails the run
            pytest.fail(f"PostgreSQL is unreachable at {POSTGRES_URL} ({type(error).__name__}); see README, Tests")
        yield url


@pytest.fixture(scope="session")
def migrated_copies(tmp_path_factory: pytest.TempPathFactory) -> MigratedCopies:
    return MigratedCopies(tmp_path_factory.mktemp("migrated"))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path, migrated_copies: MigratedCopies) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A database of the test's own, its schema already migrated (a copy, see MigratedCopies); a test module marked
    `empty_database` gets it empty, to run the migrations itself."""
    migrated = request.node.get_closest_marker("empty_database") is None
    if request.param == "sqlite":
        path = tmp_path / "citypeers.db"
        if migrated:
            migrated_copies.sqlite(path)
        yield f"sqlite:///{path}"
    else:
        for url in _postgres_schema_url():
            if migrated:
                migrated_copies.postgresql(url, POSTGRES_URL)
            yield url


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
