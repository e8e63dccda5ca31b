"""Which Discord scheduled event shows which of our events. Keyword-only; they add and flush, the caller commits."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from storage.db import insert_ignoring_conflict
from storage.models import DiscordScheduledEvent


def get_scheduled_event(*, session: Session, event_uid: str) -> DiscordScheduledEvent | None:
    return session.get(DiscordScheduledEvent, event_uid)


def remember_scheduled_event(
    *, session: Session, event_uid: str, guild_id: str, scheduled_event_id: str, canceled: bool, now: datetime
) -> DiscordScheduledEvent:
    row = session.get(DiscordScheduledEvent, event_uid) or DiscordScheduledEvent(
        event_uid=event_uid, guild_id=guild_id, scheduled_event_id=scheduled_event_id, updated_at=now
    )
    row.guild_id, row.scheduled_event_id, row.canceled, row.updated_at = guild_id, scheduled_event_id, canceled, now
    session.add(row)
    session.flush()
    return row


def claim_creation(
    *,
    session: Session,
    event_uid: str,
    guild_id: str,
    replacing: str | None,
    marker: str,
    now: datetime,
    stale_before: datetime,
) -> bool:
    """Take the right to create the scheduled event for `event_uid`: compare-and-set on the map's row, which then
    holds `marker` instead of an id until the creator remembers what Discord made.

    It succeeds when the row is as the caller saw it (absent for `replacing` None, else holding `replacing`), when
    it holds this same `marker` (the caller's own earlier attempt), or when another creator's marker is older than
    `stale_before` (that process died mid-create). It fails when someone else made the event or is making it.
    """
    values = {
        "event_uid": event_uid,
        "guild_id": guild_id,
        "scheduled_event_id": marker,
        "canceled": False,
        "updated_at": now,
    }
    if replacing is None and insert_ignoring_conflict(session, DiscordScheduledEvent, values, ["event_uid"]):
        return True
    query = select(DiscordScheduledEvent).where(col(DiscordScheduledEvent.event_uid) == event_uid).with_for_update()
    row = session.exec(query).first()
    if row is None:
        return False  # withdrawn meanwhile: the caller tries again from scratch
    current = row.scheduled_event_id
    if current != marker and current != replacing and not (is_marker(current) and row.updated_at < stale_before):
        return False
    row.guild_id, row.scheduled_event_id, row.canceled, row.updated_at = guild_id, marker, False, now
    session.add(row)
    session.flush()
    return True


def release_creation(*, session: Session, event_uid: str, marker: str) -> None:
    """Forget a claim whose create Discord certainly refused, so the next change may try again."""
    row = session.get(DiscordScheduledEvent, event_uid)
    if row is not None and row.scheduled_event_id == marker:
        session.delete(row)
        session.flush()


MARKER = "~"  # Discord's ids are digits: a map row holding "~…" is a create under way, not an event


def is_marker(scheduled_event_id: str) -> bool:
    return scheduled_event_id.startswith(MARKER)
