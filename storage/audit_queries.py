"""The audit trail's queries: add an entry, read entries newest first, and retention's delete. Nothing else here
changes a row: the trail is append-only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, or_
from sqlmodel import Session, col, select

from storage.db import rowcount
from storage.models import AuditEntry

MAX_ACTOR = 64
MAX_OBJECT_ID = 100
MAX_OBJECT_NAME = 200


def add_entry(
    *,
    session: Session,
    at: datetime,
    actor_id: int | None,
    actor: str,
    platform: str,
    what: str,
    object_kind: str,
    object_id: str,
    object_name: str = "",
    subject: str | None = None,
    before: dict[str, object] | None = None,
    after: dict[str, object] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        at=at,
        actor_id=actor_id,
        actor=actor[:MAX_ACTOR],
        platform=platform[:16],
        what=what,
        object_kind=object_kind[:16],
        object_id=object_id[:MAX_OBJECT_ID],
        object_name=object_name[:MAX_OBJECT_NAME],
        subject=subject[:MAX_ACTOR] if subject else None,
        before=before,
        after=after,
    )
    session.add(entry)
    session.flush()
    return entry


# one filter for a select of rows and a select of a count: two Select types.
def _filtered(statement, *, since: datetime | None, actor: str | None, whats: Sequence[str] | None):  # type: ignore[no-untyped-def]
    if since is not None:
        statement = statement.where(col(AuditEntry.at) >= since)
    if actor is not None:
        statement = statement.where(col(AuditEntry.actor) == actor)
    if whats is not None:
        statement = statement.where(col(AuditEntry.what).in_(list(whats)))
    return statement


def count_entries(
    *, session: Session, since: datetime | None = None, actor: str | None = None, whats: Sequence[str] | None = None
) -> int:
    statement = _filtered(select(func.count()).select_from(AuditEntry), since=since, actor=actor, whats=whats)
    count: int = session.exec(statement).one()
    return count


def find_entries(
    *,
    session: Session,
    since: datetime | None = None,
    actor: str | None = None,
    whats: Sequence[str] | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> list[AuditEntry]:
    """Entries newest first (ties by id, so pages never overlap), filtered by time, actor and kinds."""
    statement = _filtered(select(AuditEntry), since=since, actor=actor, whats=whats)
    statement = statement.order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc()).offset(offset)
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.exec(statement))


def entries_about(*, session: Session, external_id: str) -> list[AuditEntry]:
    """Every entry a person acted in or was the subject of, oldest first (for their privacy export)."""
    statement = (
        select(AuditEntry)
        .where(or_(col(AuditEntry.actor) == external_id, col(AuditEntry.subject) == external_id))
        .order_by(col(AuditEntry.at), col(AuditEntry.id))
    )
    return list(session.exec(statement))


def delete_before(*, session: Session, before: datetime) -> int:
    """Retention, the one way an audit row goes: entries older than `before`; how many went."""
    result = session.execute(delete(AuditEntry).where(col(AuditEntry.at) < before))
    return rowcount(result)
