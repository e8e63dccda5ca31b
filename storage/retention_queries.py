"""Retention: what is kept only for a while. Each query is one statement, so a large ledger is pruned in one pass.
The ledger's own rows are pruned by storage.ledger_queries (prune_delivery_bodies, prune_delivery_attempts).

The delivery ledger's rows themselves stay: a row's unique key is what makes each reminder and notice go out once,
and deleting it would let a job that looks again (an occurrence's reminders, a named notice) queue it anew. What
goes is what a settled row no longer needs: the message's body, and the traces of its attempts (when it was last
tried, the platform's error, which process held it).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, exists, update
from sqlmodel import Session, col

from storage.db import rowcount
from storage.models import OWED_STATUSES, Broadcast, Delivery


def prune_broadcast_texts(*, session: Session, before: datetime) -> int:
    """A broadcast's text is its messages' body: emptied once it was due before `before` and none of its rows is
    still to go (pending or being sent), so a broadcast's text leaves with its bodies."""
    to_go = exists().where(
        and_(col(Delivery.broadcast_id) == col(Broadcast.id), col(Delivery.status).in_(OWED_STATUSES))
    )
    statement = (
        update(Broadcast)
        .where(col(Broadcast.send_at) < before, col(Broadcast.text) != "", ~to_go)
        .values(text="")
        .execution_options(synchronize_session=False)
    )
    return rowcount(session.execute(statement))
