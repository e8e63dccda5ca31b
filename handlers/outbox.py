"""The outbox: whatever a command or a job decides to send to other people is written to the delivery ledger in
the same transaction as the decision, so a crash at any point between deciding and sending loses nothing; the
delivery engine of `citypeers run` (or the console) sends it, once."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session

from handlers.types import Notice, reply_to_dict
from storage import event_queries
from storage.models import Delivery


def queue_notices(
    session: Session,
    notices: Iterable[Notice],
    *,
    now: datetime,
    key: str | None = None,
    created_by: int | None = None,
) -> int:
    """One ledger row per recipient, or one for a conversation of several (`together`); returns rows queued.

    `key` names the notice for good (a check-in, a digest week), so queuing it again is a no-op; without one
    each call queues afresh. `created_by` is the member whose command decided it: a failure is reported to them.
    """
    queued = 0
    for notice in notices:
        body = json.dumps(reply_to_dict(notice.reply))
        name = key or f"notice:{uuid.uuid4().hex}"
        targets = (
            [("group", ",".join(notice.recipients))]
            if notice.together
            else [("user", recipient) for recipient in notice.recipients]
        )
        for kind, recipient in targets:
            row = Delivery(
                key=f"{name}:{recipient}"[:200],
                kind="notice",
                recipient=recipient,
                recipient_kind=kind,
                body=body,
                due_at=now,
                next_attempt_at=now,
                created_by_id=created_by,
            )
            queued += event_queries.queue_delivery(session=session, delivery=row) is not None
    return queued
