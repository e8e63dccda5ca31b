"""Engine factory, unit of work and schema upgrades. Nothing here runs at import time."""

from __future__ import annotations

import logging
import random
import re
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy import CursorResult, Engine, Result, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"


def normalise_url(url: str) -> str:
    """`postgres://` and `postgresql://` use psycopg 3; a bare path means a SQLite file."""
    if "://" not in url:
        return f"sqlite:///{url}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    """An engine whose pool holds `pool_size` connections (size it to the threads that use the database)."""
    url = normalise_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        # The scheduler's and the web server's threads share the file; waits beat "database is locked".
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=pool_size,
            max_overflow=pool_size,
        )
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=pool_size)


# a DB-API connection and pool record, which SQLAlchemy's event hooks type as Any.
def _sqlite_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # We say when transactions begin (below), instead of the driver's habit of beginning before the first write.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


# a SQLAlchemy event hook; its connection argument is untyped there.
def _sqlite_begin(connection) -> None:  # type: ignore[no-untyped-def]
    """Every transaction takes SQLite's one write lock at its start, waiting for it (busy_timeout): a transaction
    that read first and wrote later could otherwise fail at once with "database is locked" when another wrote in
    between. Commands are short, so taking turns costs little; readers in WAL mode are never blocked."""
    connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """One transaction: committed when the block ends normally, rolled back when it raises."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


# --- transactions that meet others -----------------------------------------------------------------------

T = TypeVar("T")
MAX_ATTEMPTS = 6
# PostgreSQL: serialization failure, deadlock, unique violation (two first contacts racing), lock not available.
TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "23505", "55P03"})


def is_transient(error: BaseException) -> bool:
    """A conflict with another transaction that running the whole transaction again resolves."""
    if not isinstance(error, DBAPIError):
        return False
    original = error.orig
    if getattr(original, "sqlstate", None) in TRANSIENT_SQLSTATES:
        return True
    message = str(original).lower()
    if isinstance(original, sqlite3.OperationalError):
        return "locked" in message or "busy" in message
    return isinstance(original, sqlite3.IntegrityError) and "unique constraint failed" in message


def retry_delay(attempt: int) -> float:
    """Seconds before attempt `attempt + 1`: growing, with full jitter so racers do not collide again."""
    return random.uniform(0, min(0.5, 0.01 * 2**attempt))


def run_transaction(
    engine: Engine,
    work: Callable[[Session], T],
    *,
    attempts: int = MAX_ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run `work` in one transaction; on a transient conflict run all of it again, up to `attempts` times, so
    it applies once or not at all. Anything else (a user's mistake, a bug) rolls back and propagates at once."""
    for attempt in range(1, attempts + 1):
        try:
            with unit_of_work(engine) as session:
                return work(session)
        except DBAPIError as error:
            if attempt == attempts or not is_transient(error):
                raise
            log.info("transaction met another (%s); running it again (attempt %d)", type(error.orig).__name__, attempt)
            sleep(retry_delay(attempt))
    raise AssertionError("unreachable")


def insert_ignoring_conflict(session: Session, table: Any, values: dict[str, Any], conflict: Sequence[str]) -> bool:
    """INSERT … ON CONFLICT DO NOTHING: True when this call inserted the row, False when it was already there.

    On PostgreSQL a concurrent insert of the same key makes this wait for that transaction and then yield to it.
    """
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(table).values(**values).on_conflict_do_nothing(index_elements=list(conflict))
    primary = next(iter(table.__table__.primary_key.columns))
    # A returned row, not rowcount: drivers disagree on rowcount once RETURNING is involved.
    return session.connection().execute(statement.returning(primary)).first() is not None


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config  # Alembic loads only when the schema is behind (a second saved at start)

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


_REVISION = re.compile(r"^revision(?:\s*:[^=]*)?=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision(?:\s*:[^=]*)?=(.*)$", re.MULTILINE)


def schema_heads() -> frozenset[str]:
    """The newest revisions (those no other revision builds on), read from the migration files as text."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revision, down = _REVISION.search(source), _DOWN_REVISION.search(source)
        if revision is None or down is None:
            raise ValueError(f"{path.name}: no revision or down_revision line")
        revisions.add(revision.group(1))
        parents.update(re.findall(r"['\"]([^'\"]+)['\"]", down.group(1)))
    return frozenset(revisions - parents)


def schema_is_current(engine: Engine) -> bool:
    """Whether the database already stands at every head: one small query, no Alembic."""
    try:
        with engine.connect() as connection:
            stamped = {row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))}
    except DBAPIError:  # no alembic_version table yet: a new database
        return False
    return stamped == schema_heads()


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision, keeping the data (`citypeers db upgrade`)."""
    if schema_is_current(engine):
        return
    from alembic import command

    command.upgrade(alembic_config(engine), "heads")


def rowcount(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE run through Session.execute touched. The session is typed to return a plain
    Result, but for those statements it returns the CursorResult that counts them (0 when the driver says None)."""
    return cast("CursorResult[Any]", result).rowcount or 0
