"""Platform event ids already received, shared by every process: the Events API retries an event it thinks
we missed, and the retry may reach another process than the first delivery."""

from __future__ import annotations

import zlib
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from storage.db import rowcount
from storage.models import SeenEvent

KEEP = timedelta(days=1)  # Slack retries within minutes; a day is plenty
PRUNE_ONE_IN = 64  # about one first sighting in this many also deletes the ids older than KEEP
MAX_ID = 100  # the column's width


def first_sighting(*, session: Session, event_id: str, now: datetime) -> bool:
    """Record `event_id` as seen; False when it already was, by this process or another.

    INSERT … ON CONFLICT DO NOTHING waits for a concurrent insert of the same id and then yields to it, so two
    processes receiving the same event at once handle it once.
    """
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(SeenEvent)
        .values(event_id=event_id[:MAX_ID], seen_at=now)
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(col(SeenEvent.event_id))
    )
    # A returned row, not rowcount: drivers disagree on rowcount once RETURNING is involved.
    first = session.connection().execute(statement).first() is not None
    # Chosen by the id rather than at random, so which sightings prune is the same in every run.
    if first and zlib.crc32(event_id.encode()) % PRUNE_ONE_IN == 0:
        forget_before(session=session, before=now - KEEP)
    return first


def forget_before(*, session: Session, before: datetime) -> int:
    """Delete the ids seen before `before`; how many went."""
    result = session.execute(delete(SeenEvent).where(col(SeenEvent.seen_at) < before))
    return rowcount(result)
