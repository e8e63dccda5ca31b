"""Retention: what is kept only for a while. Each query is one statement, so a large ledger is pruned in one pass.

The delivery ledger's rows themselves stay: a row's unique key is what makes each reminder and notice go out once,
and deleting it would let a job that looks again (an occurrence's reminders, a named notice) queue it anew. What
goes is what a settled row no longer needs: the message's body, and the traces of its attempts (when it was last
tried, the platform's error, which process held it).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, exists, func, or_, update
from sqlmodel import Session, col

from storage.models import Broadcast, Delivery

SETTLED = ("sent", "failed", "missed")  # a row in one of these is never sent again


def prune_delivery_bodies(*, session: Session, before: datetime) -> int:
    """Bodies of settled rows whose time (sent, else due) is before `before`; how many rows."""
    settled_at = func.coalesce(col(Delivery.sent_at), col(Delivery.due_at))
    statement = (
        update(Delivery)
        .where(col(Delivery.status).in_(SETTLED), settled_at < before, col(Delivery.body).is_not(None))
        .values(body=None)
    )
    return session.execute(statement).rowcount or 0


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
    return session.execute(statement).rowcount or 0


def prune_broadcast_texts(*, session: Session, before: datetime) -> int:
    """A broadcast's text is its messages' body: emptied once it was due before `before` and none of its rows is
    still to go (pending or being sent), so a broadcast's text leaves with its bodies."""
    to_go = exists().where(
        and_(col(Delivery.broadcast_id) == col(Broadcast.id), col(Delivery.status).in_(("pending", "sending")))
    )
    statement = (
        update(Broadcast)
        .where(col(Broadcast.send_at) < before, col(Broadcast.text) != "", ~to_go)
        .values(text="")
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).rowcount or 0
