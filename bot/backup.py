"""`citypeers backup FILE`: a consistent copy of the SQLite database while the bot keeps running.

SQLite's online backup (`sqlite3.Connection.backup`) copies every page in one read transaction: in WAL mode the bot
keeps writing meanwhile, and the copy is the database as it was at one moment, with the delivery ledger whole, so
a bot started on it sends exactly what was still owed then. PostgreSQL has its own tool for this: `pg_dump`.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

PG_DUMP = 'pg_dump --format=custom --file=FILE "$DATABASE_URL"'


class BackupFailed(Exception):
    """Why no backup was written, in one line."""


def backup_sqlite(database_url: str, target: str | os.PathLike[str]) -> str:
    """Copy the database to `target`, a new file (an existing one is never overwritten); the line to print."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise BackupFailed(f"DATABASE_URL is PostgreSQL: back it up with its own tool, {PG_DUMP} (README: Backups)")
    name = url.database or ""
    if name in ("", ":memory:") or name.startswith("file:"):
        raise BackupFailed(f"DATABASE_URL names no SQLite file to back up ({name or 'in memory'})")
    source, destination = Path(name), Path(target)
    if not source.is_file():
        raise BackupFailed(f"there is no database at {source}")
    if destination.exists() or destination.is_symlink():
        raise BackupFailed(f"{destination} exists; a backup never overwrites a file: give a new name")
    if not destination.parent.is_dir():
        raise BackupFailed(f"directory {destination.parent} does not exist")
    # Written under a temporary name beside the target, then linked to it: a failed backup leaves no half file,
    # and a file that appeared meanwhile is still not overwritten.
    partial = destination.with_name(f".{destination.name}.{os.getpid()}.partial")
    try:
        _copy(source, partial)
        _claim(partial, destination)
    except sqlite3.Error as error:
        raise BackupFailed(f"cannot back up {source}: {error}") from None
    except OSError as error:
        raise BackupFailed(f"cannot write {destination}: {error.strerror or error}") from None
    finally:
        for leftover in (partial, *(partial.with_name(partial.name + end) for end in ("-wal", "-shm", "-journal"))):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
    return f"Backed up {source} to {destination} ({destination.stat().st_size:,} bytes, checked)."


def _copy(source: Path, partial: Path) -> None:
    reader = sqlite3.connect(source, timeout=30)  # waits out a writer's checkpoint, if one holds the lock
    try:
        writer = sqlite3.connect(partial)
        try:
            reader.backup(writer)  # every page in one step: one consistent snapshot
            check = writer.execute("PRAGMA quick_check").fetchone()
            if not check or check[0] != "ok":
                raise sqlite3.DatabaseError(f"the copy failed its check: {check[0] if check else 'no answer'}")
        finally:
            writer.close()  # checkpoints the copy's own WAL into its main file
    finally:
        reader.close()


def _claim(partial: Path, destination: Path) -> None:
    """Give the copy its name unless a file by that name exists (also one created since the check)."""
    try:
        os.link(partial, destination)
    except FileExistsError:
        raise BackupFailed(f"{destination} exists; a backup never overwrites a file: give a new name") from None
    except OSError:  # a file system without hard links: claim the name exclusively, then move the copy onto it
        os.close(os.open(destination, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        os.replace(partial, destination)
