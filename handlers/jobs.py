"""Work the scheduler runs: due follow-ups, check-ins and weekly digests become rows in the delivery ledger,
so they are sent like reminders are: once, retried through rate limits and outages, failures recorded.

Each job decides and queues in one transaction (the outbox): a check-in is claimed as sent in the very
transaction that writes its messages to the ledger, so a crash between the two cannot lose it.
"""

from __future__ import annotations

import logging

from sqlmodel import Session

from core.reminders import digest_week_due
from core.roles import Role
from handlers import goal, ledger, match
from handlers.ledger import queue_notices
from handlers.types import Services, member_zone
from storage import audit_queries, ledger_queries, queries, retention_queries, seen_events
from storage.db import run_transaction

log = logging.getLogger(__name__)


def queue_followups(services: Services) -> int:
    """Introductions whose follow-up is due (matching) and goals whose check-in is due."""

    def decide_and_queue(session: Session) -> int:
        notices = match.due_followups(services, session) + goal.due_checkins(services, session)
        return queue_notices(session, notices, now=services.clock.now())

    return run_transaction(services.engine, decide_and_queue)


def queue_digests(services: Services) -> int:
    """Each expert's weekly digest, once their weekday and hour have come in their own zone. The ISO week in the
    key makes it once a week, whichever process gets there first."""
    settings = services.settings

    def due_experts(session: Session) -> dict[str, str]:
        now = services.clock.now()
        due: dict[str, str] = {}
        for expert in queries.members_with_roles(session=session, roles=[Role.EXPERT]):
            zone = member_zone(expert, settings.default_tz)
            week = digest_week_due(now.astimezone(zone), settings.digest_weekday, settings.digest_hour)
            if week and not ledger.digest_queued(session, week=week, recipient=expert.external_id):
                due[expert.external_id] = week
        return due

    queued = 0
    for expert_id, week in run_transaction(services.engine, due_experts).items():

        def queue_one(session: Session, expert_id: str = expert_id, week: str = week) -> int:
            notices = goal.weekly_digest(services, only={expert_id}, session=session)
            return queue_notices(session, notices, now=services.clock.now(), name=ledger.digest_name(week))

        queued += run_transaction(services.engine, queue_one)
    return queued


def prune_old_data(services: Services) -> dict[str, int]:
    """Retention, daily: what is kept only for a while goes, in one transaction. After `retention` (default 90
    days): the bodies of messages settled (sent, failed, missed) and broadcasts' texts, the traces of delivery
    attempts, seen platform event ids. After `audit_retention` (default two years): audit entries."""
    settings = services.settings

    def prune(session: Session) -> dict[str, int]:
        now = services.clock.now()
        cutoff = now - settings.retention
        return {
            "bodies": ledger_queries.prune_delivery_bodies(session=session, before=cutoff),
            "broadcasts": retention_queries.prune_broadcast_texts(session=session, before=cutoff),
            "attempts": ledger_queries.prune_delivery_attempts(session=session, before=cutoff),
            "seen_events": seen_events.forget_before(session=session, before=cutoff),
            "audit": audit_queries.delete_before(session=session, before=now - settings.audit_retention),
        }

    pruned = run_transaction(services.engine, prune)
    if any(pruned.values()):
        log.info("retention: %s", ", ".join(f"{count} {what}" for what, count in pruned.items()))
    return pruned
