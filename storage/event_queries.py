"""Queries for events, RSVPs and broadcasts. They flush; the caller commits. The delivery ledger's are in
storage.ledger_queries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from storage.db import rowcount
from storage.models import OWED_STATUSES, Broadcast, Delivery, Event, EventOccurrence, Member, Rsvp

# --- events --------------------------------------------------------------------------------------------


def add_event(*, session: Session, event: Event) -> Event:
    session.add(event)
    session.flush()
    return event


def get_event(*, session: Session, event_id: int) -> Event | None:
    return session.get(Event, event_id)


def scheduled_events(*, session: Session) -> list[Event]:
    return list(session.exec(select(Event).where(col(Event.status) == "scheduled").order_by(col(Event.start_at))))


def all_events(*, session: Session) -> list[Event]:
    return list(session.exec(select(Event).order_by(col(Event.start_at))))


def recurring_events(*, session: Session) -> list[Event]:
    query = select(Event).where(col(Event.status) == "scheduled", col(Event.rrule).is_not(None))
    return list(session.exec(query))


def occurrence_changes(*, session: Session, event_id: int) -> list[EventOccurrence]:
    query = (
        select(EventOccurrence)
        .where(col(EventOccurrence.event_id) == event_id)
        .order_by(col(EventOccurrence.original_at))
    )
    return list(session.exec(query))


def change_occurrence(*, session: Session, change: EventOccurrence) -> EventOccurrence:
    """Record (or replace) how one occurrence differs from its rule."""
    existing = session.get(EventOccurrence, (change.event_id, change.original_at))
    if existing is not None:
        for name in ("status", "start_at", "end_at", "location", "changed_by_id", "changed_at"):
            setattr(existing, name, getattr(change, name))
        session.flush()
        return existing
    session.add(change)
    session.flush()
    return change


def clear_occurrence_changes(*, session: Session, event_id: int) -> int:
    """A new rule or start makes the old rule's dates meaningless: their changes go with them."""
    result = session.execute(delete(EventOccurrence).where(col(EventOccurrence.event_id) == event_id))
    return rowcount(result)


# --- RSVPs ---------------------------------------------------------------------------------------------


def get_rsvp(*, session: Session, event_id: int, member_id: int) -> Rsvp | None:
    return session.get(Rsvp, (event_id, member_id))


def add_rsvp(*, session: Session, event_id: int, member_id: int, now: datetime) -> Rsvp:
    rsvp = Rsvp(event_id=event_id, member_id=member_id, created_at=now)
    session.add(rsvp)
    session.flush()
    return rsvp


def delete_rsvp(*, session: Session, rsvp: Rsvp) -> None:
    session.delete(rsvp)
    session.flush()


def attendees(*, session: Session, event_id: int) -> list[Member]:
    query = (
        select(Member)
        .join(Rsvp, col(Rsvp.member_id) == col(Member.id))
        .where(col(Rsvp.event_id) == event_id)
        .order_by(col(Member.id))
    )
    return list(session.exec(query))


def rsvp_counts(*, session: Session, event_ids: Sequence[int]) -> dict[int, int]:
    if not event_ids:
        return {}
    query = (
        select(col(Rsvp.event_id), func.count()).where(col(Rsvp.event_id).in_(event_ids)).group_by(col(Rsvp.event_id))
    )
    return {event_id: count for event_id, count in session.exec(query)}


# --- broadcasts ----------------------------------------------------------------------------------------


def add_broadcast(*, session: Session, broadcast: Broadcast) -> Broadcast:
    session.add(broadcast)
    session.flush()
    return broadcast


def get_broadcast(*, session: Session, broadcast_id: int) -> Broadcast | None:
    return session.get(Broadcast, broadcast_id)


def broadcasts_to_go(*, session: Session) -> list[Broadcast]:
    """Broadcasts with a delivery still pending (not yet sent, not withdrawn), soonest first."""
    query = (
        select(Broadcast)
        .where(
            col(Broadcast.cancelled_at).is_(None),
            col(Broadcast.id).in_(
                select(col(Delivery.broadcast_id)).where(
                    col(Delivery.kind) == "broadcast", col(Delivery.status).in_(OWED_STATUSES)
                )
            ),
        )
        .order_by(col(Broadcast.send_at), col(Broadcast.id))
    )
    return list(session.exec(query))
