"""A PostgreSQL schema of one's own, created for a test or a bench run and dropped afterwards."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from storage.db import normalise_url


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
