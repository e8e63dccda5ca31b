"""Queries for private calendar feeds. They flush; the caller commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from storage.models import CalendarFeed, Event, Rsvp


def add_feed(*, session: Session, member_id: int, token_hash: str, scope: str, now: datetime) -> CalendarFeed:
    feed = CalendarFeed(token_hash=token_hash, member_id=member_id, scope=scope, created_at=now)
    session.add(feed)
    session.flush()
    return feed


def live_feed(*, session: Session, token_hash: str) -> CalendarFeed | None:
    """The feed this token opens, unless it was revoked."""
    query = select(CalendarFeed).where(
        col(CalendarFeed.token_hash) == token_hash, col(CalendarFeed.revoked_at).is_(None)
    )
    return session.exec(query).first()


def revoke_feeds(*, session: Session, member_id: int, now: datetime) -> int:
    """Revoke every live feed of a member; returns how many there were."""
    statement = (
        update(CalendarFeed)
        .where(col(CalendarFeed.member_id) == member_id, col(CalendarFeed.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    return session.connection().execute(statement).rowcount


def attended_events(*, session: Session, member_id: int) -> list[Event]:
    """Every event the member RSVP'd to, cancelled ones too (a feed shows them as cancelled)."""
    query = (
        select(Event)
        .join(Rsvp, col(Rsvp.event_id) == col(Event.id))
        .where(col(Rsvp.member_id) == member_id)
        .order_by(col(Event.start_at), col(Event.id))
    )
    return list(session.exec(query))
