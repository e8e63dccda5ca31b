"""Work the scheduler runs: due follow-ups, check-ins and weekly digests become rows in the delivery ledger,
so they are sent like reminders are: once, retried through rate limits and outages, failures recorded."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session

from core.reminders import digest_week_due
from core.roles import Role
from handlers import goal, match
from handlers.types import Notice, Services, member_zone, reply_to_dict
from storage import event_queries, queries
from storage.db import unit_of_work
from storage.models import Delivery


def queue_notices(session: Session, notices: Iterable[Notice], *, now: datetime, key: str | None = None) -> int:
    """One ledger row per recipient; `key` (per recipient) makes queuing the same notice again a no-op."""
    now_queued = 0
    for notice in notices:
        body = json.dumps(reply_to_dict(notice.reply))
        for recipient in notice.recipients:
            row = Delivery(
                key=f"{key or 'notice:' + uuid.uuid4().hex}:{recipient}",
                kind="notice",
                recipient=recipient,
                recipient_kind="user",
                body=body,
                due_at=now,
                next_attempt_at=now,
            )
            now_queued += event_queries.queue_delivery(session=session, delivery=row) is not None
    return now_queued


def queue_followups(services: Services) -> int:
    """Introductions whose follow-up is due (matching) and goals whose check-in is due."""
    notices = match.due_followups(services) + goal.due_checkins(services)
    with unit_of_work(services.engine) as session:
        return queue_notices(session, notices, now=services.clock.now())


def queue_digests(services: Services) -> int:
    """Each expert's weekly digest, once their weekday and hour have come in their own zone."""
    now = services.clock.now()
    settings = services.settings
    due: dict[str, str] = {}
    with unit_of_work(services.engine) as session:
        for expert in queries.members_with_roles(session=session, roles=[Role.EXPERT]):
            zone = member_zone(expert, settings.default_tz)
            week = digest_week_due(now.astimezone(zone), settings.digest_weekday, settings.digest_hour)
            if week and not event_queries.delivery_exists(session=session, key=f"digest:{week}:{expert.external_id}"):
                due[expert.external_id] = week
    queued = 0
    for notice in goal.weekly_digest(services, only=set(due)) if due else []:
        [expert_id] = notice.recipients
        with unit_of_work(services.engine) as session:
            queued += queue_notices(session, [notice], now=now, key=f"digest:{due[expert_id]}")
    return queued
