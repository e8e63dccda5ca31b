"""Which Discord scheduled event shows which of our events. Keyword-only; they add and flush, the caller commits."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

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
