"""Queries for events, RSVPs, broadcasts and the delivery ledger. They flush; the caller commits."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, or_, update
from sqlmodel import Session, col, select

from storage.db import insert_ignoring_conflict
from storage.models import Broadcast, Delivery, Event, EventOccurrence, Member, Rsvp

OPEN = ("pending", "sending")

# --- events --------------------------------------------------------------------------------------------


def add_event(*, session: Session, event: Event) -> Event:
    session.add(event)
    session.flush()
    return event


def get_event(*, session: Session, event_id: int) -> Event | None:
    return session.get(Event, event_id)


def scheduled_events(*, session: Session) -> list[Event]:
    return list(session.exec(select(Event).where(Event.status == "scheduled").order_by(Event.start_at)))


def all_events(*, session: Session) -> list[Event]:
    return list(session.exec(select(Event).order_by(Event.start_at)))


def recurring_events(*, session: Session) -> list[Event]:
    query = select(Event).where(Event.status == "scheduled", col(Event.rrule).is_not(None))
    return list(session.exec(query))


def occurrence_changes(*, session: Session, event_id: int) -> list[EventOccurrence]:
    query = select(EventOccurrence).where(EventOccurrence.event_id == event_id).order_by(EventOccurrence.original_at)
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
    return result.rowcount or 0


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
        .where(Rsvp.event_id == event_id)
        .order_by(Member.id)
    )
    return list(session.exec(query))


def rsvp_counts(*, session: Session, event_ids: Sequence[int]) -> dict[int, int]:
    if not event_ids:
        return {}
    query = select(Rsvp.event_id, func.count()).where(col(Rsvp.event_id).in_(event_ids)).group_by(Rsvp.event_id)
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
                select(Delivery.broadcast_id).where(Delivery.kind == "broadcast", col(Delivery.status).in_(OPEN))
            ),
        )
        .order_by(Broadcast.send_at, Broadcast.id)
    )
    return list(session.exec(query))


def withdraw_broadcast(*, session: Session, broadcast_id: int) -> int:
    """Withdraw a broadcast's deliveries not yet claimed for sending; returns how many."""
    result = session.execute(
        update(Delivery)
        .where(Delivery.broadcast_id == broadcast_id, Delivery.status == "pending")
        .values(status="withdrawn")
    )
    return result.rowcount or 0


# --- the delivery ledger -------------------------------------------------------------------------------


def queue_delivery(*, session: Session, delivery: Delivery) -> Delivery | None:
    """Queue by key: a withdrawn row comes back, a pending one takes the new time, a finished one stays."""
    values = {column.name: getattr(delivery, column.name) for column in Delivery.__table__.columns}  # type: ignore[attr-defined]
    values.pop("id")
    # Insert or yield to the row already there (also one a concurrent transaction is adding right now).
    inserted = insert_ignoring_conflict(session, Delivery, values, ["key"])
    existing = session.exec(
        select(Delivery).where(Delivery.key == delivery.key).with_for_update().execution_options(populate_existing=True)
    ).one()
    if inserted:
        return existing
    if existing.status in ("withdrawn", "pending"):
        existing.status = "pending"
        existing.due_at = existing.next_attempt_at = delivery.due_at
        existing.attempts = 0
        existing.error = None
        session.flush()
        return existing
    return None


def pending_delivery(*, session: Session, kind: str, recipient: str) -> Delivery | None:
    """A message of this kind still waiting to be sent to this recipient, locked until our commit so that no
    worker claims it before what we add to it is visible."""
    query = (
        select(Delivery)
        .where(Delivery.kind == kind, Delivery.recipient == recipient, Delivery.status == "pending")
        .limit(1)
        .with_for_update()
    )
    return session.exec(query).first()


def withdraw_pending(
    *,
    session: Session,
    event_id: int,
    recipient: str | None = None,
    keep_kind: str | None = None,
    occurrence_at: datetime | None = None,
) -> int:
    """Withdraw what an event still owes (all of it, one recipient's or one occurrence's, but rows of
    `keep_kind`); sent rows stay as history."""
    conditions = [Delivery.event_id == event_id, Delivery.status == "pending"]
    if recipient is not None:
        conditions.append(Delivery.recipient == recipient)
    if occurrence_at is not None:
        conditions.append(Delivery.occurrence_at == occurrence_at)
    if keep_kind is not None:
        conditions.append(Delivery.kind != keep_kind)
    result = session.execute(update(Delivery).where(*conditions).values(status="withdrawn"))
    return result.rowcount or 0


def claim_due(
    *,
    session: Session,
    worker: str,
    now: datetime,
    limit: int,
    hold: timedelta,
    platforms: Collection[str] | None = None,
) -> list[Delivery]:
    """Take up to `limit` due rows for this worker only; other workers skip them (SKIP LOCKED on PostgreSQL,
    one writer at a time on SQLite). A claim that outlived `hold` (its worker died) can be taken again. With
    `platforms`, only rows for those platforms: a process leaves the others to a process that serves them."""
    due = or_(
        and_(Delivery.status == "pending", Delivery.next_attempt_at <= now),
        and_(Delivery.status == "sending", Delivery.claim_expires_at < now),
    )
    if platforms is not None:
        due = and_(col(Delivery.platform).in_(sorted(platforms)), due)
    candidates = (
        select(Delivery.id).where(due).order_by(Delivery.next_attempt_at).limit(limit).with_for_update(skip_locked=True)
    )
    claimed_ids = session.execute(
        update(Delivery)
        .where(col(Delivery.id).in_(candidates.scalar_subquery()), due)
        .values(status="sending", claimed_by=worker, claim_expires_at=now + hold)
        .returning(Delivery.id)
    ).scalars()
    ids = list(claimed_ids)
    if not ids:
        return []
    session.expire_all()
    rows = session.exec(select(Delivery).where(col(Delivery.id).in_(ids)).order_by(Delivery.next_attempt_at))
    return list(rows)


def renew_claim(*, session: Session, delivery_id: int, worker: str, until: datetime) -> bool:
    """Extend this worker's claim just before sending; False when the claim lapsed and another worker took it."""
    result = session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.claimed_by == worker, Delivery.status == "sending")
        .values(claim_expires_at=until)
    )
    return (result.rowcount or 0) == 1


def next_pending_at(*, session: Session, platforms: Collection[str] | None = None) -> datetime | None:
    """When the next pending row falls due (of these platforms). Rows being sent are left out: their sender
    settles them, or the sweep takes them over once the claim lapses."""
    query = select(func.min(Delivery.next_attempt_at)).where(Delivery.status == "pending")
    if platforms is not None:
        query = query.where(col(Delivery.platform).in_(sorted(platforms)))
    return session.exec(query).one()


def delivery_keys(*, session: Session, event_id: int) -> set[str]:
    """Every key the ledger holds for an event, whatever its status."""
    return set(session.exec(select(Delivery.key).where(Delivery.event_id == event_id)))


def deliveries_for(*, session: Session, event_id: int | None = None, broadcast_id: int | None = None) -> list[Delivery]:
    query = select(Delivery).order_by(Delivery.due_at, Delivery.id)
    if event_id is not None:
        query = query.where(Delivery.event_id == event_id)
    if broadcast_id is not None:
        query = query.where(Delivery.broadcast_id == broadcast_id)
    return list(session.exec(query))


def status_counts(*, session: Session, broadcast_id: int) -> Counter[str]:
    query = select(Delivery.status, func.count()).where(Delivery.broadcast_id == broadcast_id).group_by(Delivery.status)
    return Counter({status: count for status, count in session.exec(query)})


def delivery_exists(*, session: Session, key: str) -> bool:
    return session.exec(select(Delivery.id).where(Delivery.key == key)).first() is not None


def owed_counts(*, session: Session) -> list[tuple[str, str, int]]:
    """Rows still owed (pending or being sent), counted by kind and platform: the ledger's depth."""
    query = (
        select(Delivery.kind, Delivery.platform, func.count())
        .where(col(Delivery.status).in_(OPEN))
        .group_by(Delivery.kind, Delivery.platform)
    )
    return [(kind, platform, count) for kind, platform, count in session.exec(query)]


def oldest_owed_due(*, session: Session) -> datetime | None:
    """The due time of the oldest row still owed."""
    return session.exec(select(func.min(Delivery.due_at)).where(col(Delivery.status).in_(OPEN))).one()
