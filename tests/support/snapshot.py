"""Every row of every table, to show that a refused command changed nothing."""

from __future__ import annotations

from sqlalchemy import Engine, select
from sqlmodel import SQLModel


def snapshot(engine: Engine) -> dict[str, list[tuple]]:
    with engine.connect() as connection:
        return {
            name: sorted((tuple(row) for row in connection.execute(select(table))), key=repr)
            for name, table in SQLModel.metadata.tables.items()
        }
