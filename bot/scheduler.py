"""APScheduler set-up. The truth of what must be sent is in our delivery table; the scheduler only wakes us.

Jobs live in a persistent SQLAlchemy job store in the same database, and are module-level functions
without arguments (a pickled job must still load after an upgrade). `misfire_grace_time=None` makes a
wake-up that fell due while the bot was down run at start instead of being dropped.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from bot.delivery import CLAIM_HOLD, DeliveryEngine, Pacer, Sender
from handlers import event as event_handlers
from handlers import jobs
from handlers.types import Notice, Services
from storage import event_queries
from storage.db import unit_of_work

log = logging.getLogger(__name__)
SWEEP_SECONDS = 15

_runtime: Runtime | None = None  # the one runtime of this process, found by the argument-less jobs


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Runtime:
    """The delivery engine plus the scheduler that wakes it, for one `citypeers run` process."""

    def __init__(
        self,
        services: Services,
        sender: Sender,
        *,
        pacer: Pacer | None = None,
        deliver_notices: Callable[[Iterable[Notice]], object] | None = None,
        sweep_seconds: float = SWEEP_SECONDS,
        claim_hold: timedelta = CLAIM_HOLD,
    ) -> None:
        self.services = services
        self.engine = DeliveryEngine(services, sender, worker=worker_name(), pacer=pacer, claim_hold=claim_hold)
        self.deliver_notices = deliver_notices
        self.sweep_seconds = sweep_seconds
        self._wake_for: datetime | None = None  # the due time the wake-up job is set for
        self.scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=services.engine)},
            executors={"default": ThreadPoolExecutor(4)},
            # Overlapping wake-ups are fine (the engine runs one batch at a time and is told to go again),
            # so APScheduler need not skip them with a warning.
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 3},
            timezone=UTC,
        )

    def start(self) -> None:
        global _runtime
        _runtime = self
        self.scheduler.start()
        # Fixed ids and replace_existing: a restart updates these jobs instead of adding copies.
        self.scheduler.add_job(sweep, "interval", seconds=self.sweep_seconds, id="sweep", replace_existing=True)
        self.scheduler.add_job(extend_reminders, "cron", hour=2, minute=30, id="extend", replace_existing=True)
        self.scheduler.add_job(queue_followups, "interval", minutes=10, id="followups", replace_existing=True)
        self.scheduler.add_job(queue_digests, "interval", minutes=15, id="digests", replace_existing=True)
        # What fell due while we were down goes out now, marked late.
        self.scheduler.add_job(sweep, id="startup-sweep", replace_existing=True)
        self.services.on_commit.append(self.refresh)

    def refresh(self) -> None:
        """Set the one wake-up job to the earliest time anything is due."""
        with unit_of_work(self.services.engine) as session:
            due = event_queries.next_due_at(session=session)
        if due is None or due == self._wake_for:
            return  # most commands queue nothing: no need to rewrite the job store
        run_at = max(due, datetime.now(UTC) + timedelta(milliseconds=10))
        self.scheduler.add_job(wake, "date", run_date=run_at, id="wake", replace_existing=True)
        self._wake_for = due

    def shutdown(self) -> None:
        global _runtime
        if self.refresh in self.services.on_commit:
            self.services.on_commit.remove(self.refresh)
        self.scheduler.shutdown(wait=True)
        if _runtime is self:
            _runtime = None


# --- jobs: module-level, no arguments -------------------------------------------------------------------


def wake() -> None:
    runtime = _runtime
    if runtime is None:
        return
    runtime._wake_for = None  # the wake-up job (if it was this) is used up: plan the next one afresh
    stats = runtime.engine.run_due()
    if stats.sent or stats.failed or stats.missed:
        log.info("deliveries: %s sent (%s late), %s retried, %s failed, %s missed",
                 stats.sent, stats.late, stats.retried, stats.failed, stats.missed)  # fmt: skip
    runtime.refresh()


def sweep() -> None:
    """The safety net: whatever is due (also rows other processes queued) gets sent within seconds."""
    wake()


def queue_followups() -> None:
    """Follow-ups on introductions and goal check-ins that fell due become deliveries."""
    runtime = _runtime
    if runtime is not None and jobs.queue_followups(runtime.services):
        runtime.refresh()


def queue_digests() -> None:
    runtime = _runtime
    if runtime is not None and jobs.queue_digests(runtime.services):
        runtime.refresh()


def extend_reminders() -> None:
    runtime = _runtime
    if runtime is None:
        return
    services = runtime.services
    with unit_of_work(services.engine) as session:
        queued = event_handlers.extend_reminders(session, services.settings, services.clock.now())
    log.info("recurring events: %s reminders queued", queued)
    runtime.refresh()
