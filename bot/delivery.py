"""The delivery engine: send what the ledger says is due, exactly once, and record what happened.

Each row is claimed by one worker before it is sent (other processes skip it) and marked after. A 429
waits for its Retry-After, a server error or dropped connection backs off, a permanent error is recorded
and reported to the organiser. Messages due while the bot was down go out late (and say so) if they are
still useful, otherwise they are recorded as missed. Platform specifics live behind `Sender`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from core.reminders import MAX_TRANSIENT_ATTEMPTS, is_late, transient_backoff
from handlers import event as event_handlers
from handlers.types import Reply, Services
from storage import event_queries
from storage.db import unit_of_work
from storage.models import Delivery

log = logging.getLogger(__name__)
CLAIM_HOLD = timedelta(minutes=5)


@dataclass(frozen=True)
class SendOutcome:
    """What the platform said: sent; retry (after `retry_after` seconds when it said so); or failed for good."""

    status: str  # sent, retry, failed
    retry_after: float | None = None
    error: str | None = None

    @classmethod
    def sent(cls) -> SendOutcome:
        return cls("sent")


class Sender(Protocol):
    def send(self, recipient_kind: str, recipient: str, reply: Reply) -> SendOutcome: ...


@dataclass
class RunStats:
    sent: int = 0
    late: int = 0
    retried: int = 0
    failed: int = 0
    missed: int = 0
    errors: list[str] = field(default_factory=list)


class Pacer:
    """Keeps within the platform's pace: one message a second per channel, `per_second` overall."""

    def __init__(self, *, per_channel: float, per_second: float, sleep: Callable[[float], None] = time.sleep) -> None:
        self.per_channel = per_channel
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.sleep = sleep
        self._last_any = 0.0
        self._last_by_channel: dict[str, float] = {}
        self._paused_until = 0.0

    def wait_for(self, channel: str) -> None:
        now = time.monotonic()
        ready = max(
            self._paused_until,
            self._last_any + self.interval,
            self._last_by_channel.get(channel, 0.0) + self.per_channel,
        )
        if ready > now:
            self.sleep(ready - now)
        stamp = time.monotonic()
        self._last_any = stamp
        self._last_by_channel[channel] = stamp

    def pause(self, seconds: float) -> None:
        """After a 429 the whole sender slows down, not only the row that got it."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)


class DeliveryEngine:
    def __init__(
        self,
        services: Services,
        sender: Sender,
        *,
        worker: str,
        pacer: Pacer | None = None,
        batch: int = 50,
        claim_hold: timedelta = CLAIM_HOLD,
    ) -> None:
        self.services = services
        self.sender = sender
        self.worker = worker
        self.pacer = pacer or Pacer(per_channel=1.0, per_second=20.0)
        self.batch = batch
        self.claim_hold = claim_hold
        self._running = threading.Lock()
        self._again = threading.Event()

    def run_due(self) -> RunStats:
        """Send everything due now; if another thread of this process is already at it, ask it to go again."""
        stats = RunStats()
        if not self._running.acquire(blocking=False):
            self._again.set()
            return stats
        try:
            while True:
                self._again.clear()
                claimed = self._claim()
                for delivery_id in claimed:
                    self._deliver(delivery_id, stats)
                if not claimed and not self._again.is_set():
                    return stats
        finally:
            self._running.release()

    def _claim(self) -> list[int]:
        now = self.services.clock.now()
        with unit_of_work(self.services.engine) as session:
            rows = event_queries.claim_due(
                session=session, worker=self.worker, now=now, limit=self.batch, hold=self.claim_hold
            )
            return [row.id for row in rows]

    def _deliver(self, delivery_id: int, stats: RunStats) -> None:
        settings = self.services.settings
        with unit_of_work(self.services.engine) as session:
            now = self.services.clock.now()
            # A batch can take a while at Slack's pace: renew the claim, or skip a row another worker took over.
            if not event_queries.renew_claim(
                session=session, delivery_id=delivery_id, worker=self.worker, until=now + self.claim_hold
            ):
                return
            delivery = session.get(Delivery, delivery_id)
            if event_handlers.is_missed(session, delivery, settings, now):
                delivery.status = "missed"
                stats.missed += 1
                self._settle(session, delivery, now)
                return
            delivery.late = is_late(delivery.due_at, now)
            reply = event_handlers.delivery_message(session, delivery, settings, now)
            kind, recipient = delivery.recipient_kind, delivery.recipient
        # Send outside any transaction: the row stays claimed by us, so nobody else sends it meanwhile.
        self.pacer.wait_for(recipient)
        try:
            outcome = self.sender.send(kind, recipient, reply)
        except Exception as error:  # an unexpected failure must not lose the row: retry it later
            log.exception("sending delivery %s failed", delivery_id)
            outcome = SendOutcome("retry", error=type(error).__name__)
        self._record(delivery_id, outcome, stats)

    def _record(self, delivery_id: int, outcome: SendOutcome, stats: RunStats) -> None:
        with unit_of_work(self.services.engine) as session:
            delivery = session.get(Delivery, delivery_id)
            now = self.services.clock.now()
            delivery.attempts += 1
            delivery.claimed_by = delivery.claim_expires_at = None
            if outcome.status == "sent":
                delivery.status, delivery.sent_at, delivery.error = "sent", now, None
                stats.sent += 1
                stats.late += int(delivery.late)
            elif outcome.status == "retry" and (
                outcome.retry_after is not None or delivery.attempts < MAX_TRANSIENT_ATTEMPTS
            ):
                wait = (
                    timedelta(seconds=outcome.retry_after)
                    if outcome.retry_after is not None
                    else transient_backoff(delivery.attempts)
                )
                if outcome.retry_after is not None:
                    self.pacer.pause(outcome.retry_after)
                delivery.status, delivery.next_attempt_at, delivery.error = "pending", now + wait, outcome.error
                stats.retried += 1
            else:
                delivery.status, delivery.error = "failed", (outcome.error or "gave up after retries")[:200]
                stats.failed += 1
                stats.errors.append(delivery.error)
                if delivery.kind != "report":
                    event_handlers.failure_report(session, delivery, now)
            self._settle(session, delivery, now)

    def _settle(self, session, delivery: Delivery, now: datetime) -> None:  # type: ignore[no-untyped-def]
        """A broadcast whose last delivery just settled gets its summary queued for the organiser."""
        if delivery.broadcast_id is not None and delivery.status != "pending":
            session.flush()
            event_handlers.broadcast_report(session, delivery.broadcast_id, now)
