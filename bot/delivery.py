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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Protocol

from sqlmodel import Session

from handlers import ledger
from handlers.ledger import Outcome, Status
from handlers.types import Reply, Services
from storage.db import run_transaction, unit_of_work
from storage.models import Delivery

if TYPE_CHECKING:
    from core.calendar import Entry

log = logging.getLogger(__name__)
CLAIM_HOLD = timedelta(minutes=5)
# Look for an interrupted message from a little before its attempt: the platform's clock is not ours.
ARRIVAL_MARGIN = timedelta(minutes=2)
BATCH_SECONDS = 0.5


@dataclass(frozen=True)
class SendOutcome:
    """What the platform said: sent; retry (after `retry_after` seconds when it said so); or failed for good.

    `certain` is False when the message may have arrived although we did not hear so (a timeout, a dropped
    connection, a 5xx after the platform may have acted): the next attempt asks the platform first.
    """

    status: Outcome | str  # sent, retry, failed (handlers.ledger.Outcome)
    retry_after: float | None = None
    error: str | None = None
    certain: bool = True

    @classmethod
    def sent(cls) -> SendOutcome:
        return cls(Outcome.SENT)


class Arrival(Enum):
    """What the platform says about a message we may have sent before a crash."""

    ARRIVED = "arrived"
    ABSENT = "absent"
    UNKNOWN = "unknown"  # the platform cannot tell us (no permission to look): send again
    LATER = "later"  # the platform could not answer now (rate limit, outage): ask again later


@dataclass(frozen=True)
class Outgoing:
    """One message of the ledger on its way: where it goes and the key that names it for good.

    A row of kind `calendar` is no message: it asks the platform to show `entry` (the event as it is now) in its
    own event list, if it has one."""

    key: str
    recipient_kind: str  # channel, user, group
    recipient: str
    reply: Reply
    kind: str = ""  # the ledger row's kind (handlers.ledger.RowKind): reminder, broadcast, notice, calendar…
    entry: Entry | None = None
    platform: str = ""  # the row's platform (its recipient's), whose pace it keeps


class Sender(Protocol):
    """A platform's half of delivery: send one message carrying its key, and say whether a message with a given
    key arrived since a moment (asked only after a send was interrupted, so it may be slow)."""

    def send(self, message: Outgoing) -> SendOutcome: ...

    def arrived(self, message: Outgoing, since: datetime) -> Arrival: ...


@dataclass
class RunStats:
    sent: int = 0
    late: int = 0
    retried: int = 0
    failed: int = 0
    missed: int = 0
    errors: list[str] = field(default_factory=list)


class Pacer:
    """Keeps within a platform's pace: one message a second per channel, `per_second` overall."""

    def __init__(
        self,
        *,
        per_channel: float,
        per_second: float,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_channel = per_channel
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.sleep = sleep
        self.monotonic = monotonic
        self._last_any = float("-inf")
        self._last_by_channel: dict[str, float] = {}
        self._paused_until = float("-inf")

    def wait_for(self, channel: str) -> None:
        now = self.monotonic()
        ready = max(
            self._paused_until,
            self._last_any + self.interval,
            self._last_by_channel.get(channel, float("-inf")) + self.per_channel,
        )
        if ready > now:
            self.sleep(ready - now)
        stamp = self.monotonic()
        self._last_any = stamp
        self._last_by_channel[channel] = stamp

    def pause(self, seconds: float) -> None:
        """After a 429 the whole sender slows down, not only the row that got it."""
        self._paused_until = max(self._paused_until, self.monotonic() + seconds)


class DeliveryEngine:
    """Sends what the ledger says is due. With `paces` (platform -> messages a second this process sends it at),
    each platform's rows are planned by that pace (handlers.ledger.plan) and paced by a Pacer of their own; a
    `pacer` given instead paces every row (the console, tests)."""

    def __init__(
        self,
        services: Services,
        sender: Sender,
        *,
        worker: str,
        pacer: Pacer | None = None,
        batch: int | None = None,
        claim_hold: timedelta = CLAIM_HOLD,
        platforms: frozenset[str] | None = None,
        paces: Mapping[str, float] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.services = services
        self.platforms = platforms  # the platforms whose rows this engine claims (None: every row)
        self.sender = sender
        self.worker = worker
        self.paces = dict(paces or {})
        self.pacer = pacer or Pacer(per_channel=1.0, per_second=20.0, sleep=sleep, monotonic=monotonic)
        self._pacers = {
            platform: Pacer(per_channel=1.0, per_second=pace, sleep=sleep, monotonic=monotonic)
            for platform, pace in self.paces.items()
            if pacer is None
        }
        # Planned: a claim is what goes in half a second at the fastest pace, so a planned row that falls due while
        # messages due at once are being sent waits no longer than that for its turn.
        planned_batch = max(1, round(BATCH_SECONDS * max(self.paces.values()))) if self.paces else 50
        self.batch = batch or planned_batch
        self.claim_hold = claim_hold
        self._running = threading.Lock()
        self._again = threading.Event()
        self.last_progress = time.monotonic()  # advances with every run and every row: a heartbeat for /healthz

    def planning_needed(self, session: Session) -> bool:
        return bool(self.paces) and ledger.planning_needed(session, list(self.paces))

    def plan(self, *, looked: bool = False) -> int:
        """Place the rows queued since the last look by their platform's pace (one planner at a time). `looked`:
        the caller just saw rows waiting to be placed (planning_needed)."""
        if not self.paces:
            return 0
        if not looked:
            with unit_of_work(self.services.engine) as session:
                if not self.planning_needed(session):
                    return 0

        def place(session: Session) -> int:
            now = self.services.clock.now()
            return sum(ledger.plan(session, platform=p, pace=pace, now=now) for p, pace in self.paces.items())

        return run_transaction(self.services.engine, place)

    def _pacer(self, platform: str) -> Pacer:
        return self._pacers.get(platform, self.pacer)

    def run_due(self) -> RunStats:
        """Send everything due now; if another thread of this process is already at it, ask it to go again."""
        stats = RunStats()
        self.last_progress = time.monotonic()
        if not self._running.acquire(blocking=False):
            self._again.set()
            return stats
        try:
            while True:
                self._again.clear()
                self.plan()
                claimed = self._claim()
                for delivery_id in claimed:
                    self._deliver(delivery_id, stats)
                if not claimed and not self._again.is_set():
                    return stats
        finally:
            self._running.release()

    def _claim(self) -> list[int]:
        def claim(session: Session) -> list[int]:
            return ledger.claim(
                session,
                worker=self.worker,
                now=self.services.clock.now(),
                limit=self.batch,
                hold=self.claim_hold,
                platforms=self.platforms,
            )

        return run_transaction(self.services.engine, claim)

    def _deliver(self, delivery_id: int, stats: RunStats) -> None:
        self.last_progress = time.monotonic()
        prepared = self._prepare(delivery_id, stats)
        if prepared is None:
            return
        message, interrupted_at = prepared
        if interrupted_at is not None:
            # A send of this row began and its outcome was never recorded: its process died, or the platform's
            # answer was lost. Ask before sending again, so a message that arrived is not sent twice.
            arrival = self.sender.arrived(message, interrupted_at - ARRIVAL_MARGIN)
            if arrival == Arrival.ARRIVED:
                log.info("delivery %s had arrived before its sender stopped; not sent again", delivery_id)
                self._record(delivery_id, SendOutcome.sent(), stats)
                return
            if arrival == Arrival.LATER:
                self._record(delivery_id, SendOutcome(Outcome.RETRY, error="arrival unknown yet", certain=False), stats)
                return
            if arrival == Arrival.UNKNOWN:
                log.warning("delivery %s: cannot tell whether it arrived before; sending it again", delivery_id)
        # Send outside any transaction: the row stays claimed by us, so nobody else sends it meanwhile.
        self._pacer(message.platform).wait_for(message.recipient)
        try:
            outcome = self.sender.send(message)
        except Exception as error:  # an unexpected failure must not lose the row: retry it later
            log.exception("sending delivery %s failed", delivery_id)
            outcome = SendOutcome(Outcome.RETRY, error=type(error).__name__, certain=False)
        self._record(delivery_id, outcome, stats)

    def _prepare(self, delivery_id: int, stats: RunStats) -> tuple[Outgoing, datetime | None] | None:
        """Renew the claim, render the message and record the attempt, committed before anything is sent.
        None when there is nothing to send (another worker took the row over, or it is too late)."""
        settings = self.services.settings

        def prepare(session: Session) -> tuple[Outgoing, datetime | None] | None:
            now = self.services.clock.now()
            # A batch can take a while at Slack's pace: renew the claim, or skip a row another worker took over.
            begun = ledger.begin(session, delivery_id, worker=self.worker, now=now, hold=self.claim_hold)
            if begun is None:
                return None
            delivery, interrupted_at = begun
            if interrupted_at is None and ledger.is_missed(session, delivery, settings, now):
                ledger.mark_missed(session, delivery, now)
                return None
            as_of = ledger.attempt(delivery, now)  # an interrupted attempt is written again as it was
            reply = ledger.render(session, delivery, settings, as_of)
            entry = ledger.calendar_entry(session, delivery, now)
            kind, platform = delivery.kind, delivery.platform
            message = Outgoing(delivery.key, delivery.recipient_kind, delivery.recipient, reply, kind, entry, platform)
            return message, interrupted_at

        prepared = run_transaction(self.services.engine, prepare)
        missed = self._missed(delivery_id) if prepared is None else None
        if missed is not None:
            stats.missed += 1
            self.services.meter.delivery(*missed, "missed")
        return prepared

    def _missed(self, delivery_id: int) -> tuple[str, str] | None:
        """The row's kind and platform if we just recorded it as missed (not when another worker took it over)."""
        with unit_of_work(self.services.engine) as session:
            delivery = session.get(Delivery, delivery_id)
            if delivery is not None and delivery.status == Status.MISSED and delivery.claimed_by == self.worker:
                return delivery.kind, delivery.platform
            return None

    def _record(self, delivery_id: int, outcome: SendOutcome, stats: RunStats) -> None:
        settled = run_transaction(self.services.engine, lambda session: self._record_in(session, delivery_id, outcome))
        self.last_progress = time.monotonic()
        lateness = None
        if settled.status == Status.SENT:
            stats.sent += 1
            stats.late += int(settled.late)
            told = "late" if settled.late else "sent"
            lateness = (settled.sent_at - settled.due_at).total_seconds() if settled.sent_at else None
        elif settled.status == Status.PENDING:
            stats.retried += 1
            told = "retried"
            if outcome.retry_after is not None:
                self._pacer(settled.platform).pause(outcome.retry_after)
        else:
            stats.failed += 1
            told = "failed"
            stats.errors.append(settled.error or "")
        self.services.meter.delivery(settled.kind, settled.platform, told, lateness)

    def _record_in(self, session: Session, delivery_id: int, outcome: SendOutcome) -> Delivery:
        return ledger.record(
            session,
            delivery_id,
            outcome.status,
            now=self.services.clock.now(),
            retry_after=outcome.retry_after,
            error=outcome.error,
            certain=outcome.certain,
        )
