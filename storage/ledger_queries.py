"""The delivery ledger's queries: the storage half of its one owner, handlers.ledger. They flush; the caller commits.

Only this module and handlers.ledger write a row of `delivery`: its status, its claim, its attempts and its key
(tests/handlers/test_ledger_ownership.py reads the tree to hold everyone to it). Anyone may read.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, text, update
from sqlmodel import Session, col, select

from storage.db import insert_ignoring_conflict, rowcount
from storage.models import OWED_STATUSES, SETTLED_STATUSES, Delivery, DeliveryStatus

Status = DeliveryStatus
OWED = OWED_STATUSES
SETTLED = SETTLED_STATUSES

# --- writing: queuing, withdrawing ---------------------------------------------------------------------


def queue_delivery(*, session: Session, delivery: Delivery) -> Delivery | None:
    """Queue by key: a withdrawn row comes back, a pending one takes the new time, a finished one stays."""
    # SQLModel sets __table__ on every table class when it is made; its stubs do not declare it.
    values = {column.name: getattr(delivery, column.name) for column in Delivery.__table__.columns}  # type: ignore[attr-defined]
    values.pop("id")
    # Insert or yield to the row already there (also one a concurrent transaction is adding right now).
    inserted = insert_ignoring_conflict(session, Delivery, values, ["key"])
    existing = session.exec(
        select(Delivery)
        .where(col(Delivery.key) == delivery.key)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if inserted:
        return existing
    if existing.status in (Status.WITHDRAWN, Status.PENDING):
        existing.status = Status.PENDING
        existing.due_at = existing.next_attempt_at = delivery.due_at
        existing.planned = False  # its new time is placed again by its platform's pace
        existing.attempts = 0
        existing.error = None
        session.flush()
        return existing
    return None


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
    conditions = [col(Delivery.event_id) == event_id, col(Delivery.status) == Status.PENDING]
    if recipient is not None:
        conditions.append(col(Delivery.recipient) == recipient)
    if occurrence_at is not None:
        conditions.append(col(Delivery.occurrence_at) == occurrence_at)
    if keep_kind is not None:
        conditions.append(col(Delivery.kind) != keep_kind)
    result = session.execute(update(Delivery).where(*conditions).values(status=Status.WITHDRAWN))
    return rowcount(result)


def withdraw_broadcast(*, session: Session, broadcast_id: int) -> int:
    """Withdraw a broadcast's deliveries not yet claimed for sending; returns how many."""
    result = session.execute(
        update(Delivery)
        .where(col(Delivery.broadcast_id) == broadcast_id, col(Delivery.status) == Status.PENDING)
        .values(status=Status.WITHDRAWN)
    )
    return rowcount(result)


def forget_row(*, session: Session, delivery_id: int, recipient: str, body: str | None, withdraw: bool) -> None:
    """A row that named a person now forgotten: its key no longer names them (and can never be queued again), its
    recipients and body are what the caller kept; withdrawn if it was still to go and goes to nobody else now."""
    values: dict[str, Any] = {"key": f"forgotten:{delivery_id}", "recipient": recipient, "body": body}
    if withdraw:
        values["status"] = Status.WITHDRAWN
    session.execute(update(Delivery).where(col(Delivery.id) == delivery_id).values(values))


# --- writing: the engine's claims and outcomes ---------------------------------------------------------


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
        and_(col(Delivery.status) == Status.PENDING, col(Delivery.next_attempt_at) <= now),
        and_(col(Delivery.status) == Status.SENDING, col(Delivery.claim_expires_at) < now),
    )
    if platforms is not None:
        due = and_(col(Delivery.platform).in_(sorted(platforms)), due)
    # Rows placed ahead of their due time by the plan go first; rows already due when queued (a notice) fill the
    # gaps, so a burst of notices never makes a planned reminder late.
    order = (col(Delivery.next_attempt_at) >= col(Delivery.due_at), col(Delivery.next_attempt_at))
    # Locked and limited once, in a CTE of its own: as a plain IN (subquery) PostgreSQL may run the subquery again
    # for each row it updates, each run skipping what the last one locked, and claim far more than `limit`.
    candidates = (
        select(col(Delivery.id))
        .where(due)
        .order_by(*order)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("candidates")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    claimed_ids = session.execute(
        update(Delivery)
        .where(col(Delivery.id).in_(select(candidates.c.id)), due)
        .values(status=Status.SENDING, claimed_by=worker, claim_expires_at=now + hold)
        .returning(col(Delivery.id))
    ).scalars()
    ids = list(claimed_ids)
    if not ids:
        return []
    session.expire_all()
    rows = session.exec(select(Delivery).where(col(Delivery.id).in_(ids)).order_by(*order))
    return list(rows)


def renew_claim(*, session: Session, delivery_id: int, worker: str, until: datetime) -> bool:
    """Extend this worker's claim just before sending; False when the claim lapsed and another worker took it."""
    result = session.execute(
        update(Delivery)
        .where(
            col(Delivery.id) == delivery_id, col(Delivery.claimed_by) == worker, col(Delivery.status) == Status.SENDING
        )
        .values(claim_expires_at=until)
    )
    return rowcount(result) == 1


# --- the plan: each platform's sends placed by its pace (handlers.ledger.plan) -------------------------


def lock_plan(*, session: Session, platform: str) -> None:
    """One planner at a time per platform, across processes, until the transaction ends: PostgreSQL's advisory
    lock; SQLite's transactions already take the one write lock when they begin."""
    if session.get_bind().dialect.name == "postgresql":
        key = zlib.crc32(f"citypeers plan {platform}".encode())
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def unplanned(*, session: Session, platform: str, limit: int) -> list[tuple[int, datetime]]:
    """(id, due time) of rows queued and not placed yet, latest due first."""
    query = (
        select(col(Delivery.id), col(Delivery.due_at))
        .where(
            col(Delivery.status) == Status.PENDING, col(Delivery.planned).is_(False), col(Delivery.platform) == platform
        )
        .order_by(col(Delivery.due_at).desc(), col(Delivery.id).desc())
        .limit(limit)
    )
    return [(row_id, due) for row_id, due in session.exec(query) if row_id is not None]


def any_unplanned(*, session: Session, platforms: Collection[str]) -> bool:
    query = select(col(Delivery.id)).where(
        col(Delivery.status) == Status.PENDING, col(Delivery.planned).is_(False), col(Delivery.platform).in_(platforms)
    )
    return session.exec(query.limit(1)).first() is not None


def _placed_early(platform: str) -> Any:
    """Rows still owed that the plan placed ahead of their due time: they hold a slot of their platform's pace."""
    return and_(
        col(Delivery.platform) == platform,
        col(Delivery.status).in_(OWED),
        col(Delivery.planned).is_(True),
        col(Delivery.next_attempt_at) < col(Delivery.due_at),
    )


def earliest_placed(*, session: Session, platform: str, due: datetime) -> datetime | None:
    """The earliest slot held by the rows due at `due` (one reminder's recipients): the first such row in the
    (platform, due_at, next_attempt_at) index, so a send of 10,000 is not read whole for each row placed."""
    query = (
        select(col(Delivery.next_attempt_at))
        .where(col(Delivery.platform) == platform, col(Delivery.due_at) == due, _placed_early(platform))
        .order_by(col(Delivery.next_attempt_at))
        .limit(1)
    )
    return session.exec(query).first()


def placed_between(
    *, session: Session, platform: str, after: datetime, before: datetime
) -> tuple[datetime, datetime] | None:
    """(slot, due time) of a row holding a slot strictly between `after` and `before`, the earliest such."""
    query = (
        select(col(Delivery.next_attempt_at), col(Delivery.due_at))
        .where(_placed_early(platform), col(Delivery.next_attempt_at) > after, col(Delivery.next_attempt_at) < before)
        .order_by(col(Delivery.next_attempt_at))
        .limit(1)
    )
    found = session.exec(query).first()
    return (found[0], found[1]) if found else None


def place(*, session: Session, delivery_id: int, at: datetime | None) -> None:
    """The row is planned: sent at `at`, or (None) at its due time, as queued."""
    values: dict[str, Any] = {"planned": True}
    if at is not None:
        values["next_attempt_at"] = at
    session.execute(
        update(Delivery).where(col(Delivery.id) == delivery_id, col(Delivery.status) == Status.PENDING).values(values)
    )


# --- writing: retention --------------------------------------------------------------------------------


def prune_delivery_bodies(*, session: Session, before: datetime) -> int:
    """Bodies of settled rows whose time (sent, else due) is before `before`; how many rows."""
    settled_at = func.coalesce(col(Delivery.sent_at), col(Delivery.due_at))
    statement = (
        update(Delivery)
        .where(col(Delivery.status).in_(SETTLED), settled_at < before, col(Delivery.body).is_not(None))
        .values(body=None)
    )
    return rowcount(session.execute(statement))


def prune_delivery_attempts(*, session: Session, before: datetime) -> int:
    """The attempt traces (attempted_at, error, claim) of settled rows whose time is before `before`."""
    settled_at = func.coalesce(col(Delivery.sent_at), col(Delivery.due_at))
    traces = or_(
        col(Delivery.attempted_at).is_not(None),
        col(Delivery.error).is_not(None),
        col(Delivery.claimed_by).is_not(None),
        col(Delivery.claim_expires_at).is_not(None),
    )
    statement = (
        update(Delivery)
        .where(col(Delivery.status).in_(SETTLED), settled_at < before, traces)
        .values(attempted_at=None, error=None, claimed_by=None, claim_expires_at=None)
    )
    return rowcount(session.execute(statement))


# --- reading -------------------------------------------------------------------------------------------


def pending_delivery(*, session: Session, kind: str, recipient: str) -> Delivery | None:
    """A message of this kind still waiting to be sent to this recipient, locked until our commit so that no
    worker claims it before what we add to it is visible."""
    query = (
        select(Delivery)
        .where(col(Delivery.kind) == kind, col(Delivery.recipient) == recipient, col(Delivery.status) == Status.PENDING)
        .limit(1)
        .with_for_update()
    )
    return session.exec(query).first()


def next_pending_at(*, session: Session, platforms: Collection[str] | None = None) -> datetime | None:
    """When the next pending row falls due (of these platforms). Rows being sent are left out: their sender
    settles them, or the sweep takes them over once the claim lapses."""
    query = select(func.min(col(Delivery.next_attempt_at))).where(col(Delivery.status) == Status.PENDING)
    if platforms is not None:
        query = query.where(col(Delivery.platform).in_(sorted(platforms)))
    return session.exec(query).one()


def delivery_keys(*, session: Session, event_id: int) -> set[str]:
    """Every key the ledger holds for an event, whatever its status."""
    return set(session.exec(select(col(Delivery.key)).where(col(Delivery.event_id) == event_id)))


def deliveries_for(*, session: Session, event_id: int | None = None, broadcast_id: int | None = None) -> list[Delivery]:
    query = select(Delivery).order_by(col(Delivery.due_at), col(Delivery.id))
    if event_id is not None:
        query = query.where(col(Delivery.event_id) == event_id)
    if broadcast_id is not None:
        query = query.where(col(Delivery.broadcast_id) == broadcast_id)
    return list(session.exec(query))


def status_counts(*, session: Session, broadcast_id: int) -> Counter[str]:
    query = (
        select(col(Delivery.status), func.count())
        .where(col(Delivery.broadcast_id) == broadcast_id)
        .group_by(col(Delivery.status))
    )
    return Counter({status: count for status, count in session.exec(query)})


def delivery_exists(*, session: Session, key: str) -> bool:
    return session.exec(select(col(Delivery.id)).where(col(Delivery.key) == key)).first() is not None


def owed_counts(*, session: Session) -> list[tuple[str, str, int]]:
    """Rows still owed (pending or being sent), counted by kind and platform: the ledger's depth."""
    query = (
        select(col(Delivery.kind), col(Delivery.platform), func.count())
        .where(col(Delivery.status).in_(OWED))
        .group_by(col(Delivery.kind), col(Delivery.platform))
    )
    return [(kind, platform, count) for kind, platform, count in session.exec(query)]


def oldest_owed_due(*, session: Session) -> datetime | None:
    """The due time of the oldest row still owed."""
    return session.exec(select(func.min(col(Delivery.due_at))).where(col(Delivery.status).in_(OWED))).one()
