"""APScheduler set-up, one scheduler per process. The truth of what must be sent is in the delivery ledger;
the scheduler only wakes the engine.

Each process keeps its jobs in memory: APScheduler's FAQ says a persistent job store cannot be shared between
processes (two `citypeers run` on one database lost their wake-up to `JobLookupError` and never woke again).
Nothing of the scheduler is stored, so nothing needs pickling and jobs are bound methods: the first sweep at
start sends what fell due while the process was down and plans the wake-up from the ledger, and every commit
plans it again. `misfire_grace_time=None`: a job the scheduler reaches late (a busy machine, a suspended VM)
still runs rather than being dropped; `coalesce`: a sweep that missed several turns runs once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from bot.delivery import CLAIM_HOLD, DeliveryEngine, Pacer, Sender
from handlers import event_reminders, jobs, privacy
from handlers.types import Services
from storage import ledger_queries
from storage.db import run_transaction, unit_of_work

log = logging.getLogger(__name__)
SWEEP_SECONDS = 15
EXTEND_HOURS = 6  # how often recurring events' reminders are extended (and once at every start)
DELIVERY_JOBS = frozenset({"wake", "sweep"})
FAILING_AFTER = 3  # delivery jobs that raise this many times in a row make the process unhealthy
RETENTION_FIRST = timedelta(minutes=5)  # then daily: a process restarted every day still prunes
STALL_AFTER = timedelta(minutes=2)  # at least; a batch at Slack's pace moves on every second or so


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
        paces: Mapping[str, float] | None = None,
        sweep_seconds: float = SWEEP_SECONDS,
        claim_hold: timedelta = CLAIM_HOLD,
        stall_after: timedelta | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.services = services
        # A process claims only rows of the platforms it serves (a Slack-only process leaves Discord's alone).
        self.platforms: frozenset[str] | None = getattr(sender, "platforms", None)
        sender = _Heartbeat(sender, self._progressed)
        self.engine = DeliveryEngine(
            services,
            sender,
            worker=worker_name(),
            pacer=pacer,
            claim_hold=claim_hold,
            platforms=self.platforms,
            paces=paces,
        )
        self.sweep_seconds = sweep_seconds
        # A row stuck longer than its claim has been given up by us anyway: other processes may take it over.
        self.stall_after = stall_after or max(claim_hold, STALL_AFTER)
        self.scheduler = BackgroundScheduler(
            jobstores={"default": MemoryJobStore()},
            executors={"default": ThreadPoolExecutor(4)},
            # Overlapping wake-ups are fine (the engine runs one batch at a time and is told to go again),
            # so APScheduler need not skip them with a warning.
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 3},
            timezone=UTC,
        )
        self.scheduler.add_listener(self._on_job_event, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        self._lock = threading.Lock()
        self._started = False
        self._stopping = False
        self._wake_for: datetime | None = None  # the due time the wake-up job was last set for
        self._in_flight = 0  # calls into the engine under way; the first one runs the batch, others only nudge it
        self._progress_at = services.clock.now()  # last time a batch moved on: a row sent, or the batch ended
        # The scheduler keeps real time, so whether it still runs the sweep is measured on real time too.
        self._monotonic = monotonic
        self._swept_at = monotonic()  # last time a delivery job finished, well or not
        self._failures = 0  # delivery jobs that raised in a row
        self._failure = ""

    def start(self) -> None:
        # The first sweep runs at once: what fell due while we were down goes out (marked late) and the
        # wake-up is planned from the ledger. Recurring events' reminders are extended first, before anything is
        # swept, whatever the downtime was, and then every few hours (the horizon is two months).
        self.extend_reminders()
        first = datetime.now(UTC)
        self.scheduler.add_job(self._sweep, "interval", seconds=self.sweep_seconds, id="sweep", next_run_time=first)
        self.scheduler.add_job(self.extend_reminders, "interval", hours=EXTEND_HOURS, id="extend")
        self.scheduler.add_job(self._queue_followups, "interval", minutes=10, id="followups")
        self.scheduler.add_job(self._queue_digests, "interval", minutes=15, id="digests")
        self.scheduler.add_job(jobs.prune_old_data, "interval", args=[self.services], hours=24, id="retention",
                               next_run_time=first + RETENTION_FIRST)  # fmt: skip
        # People who left their workspace are erased CITYPEERS_FORGET_DEPARTED_DAYS later (handlers.privacy).
        self.scheduler.add_job(privacy.forget_departed, "interval", args=[self.services], hours=1, id="departed")
        self._progress_at, self._swept_at = self.services.clock.now(), self._monotonic()
        self.scheduler.start()
        self._started = True
        self.services.on_commit.append(self.refresh)

    def refresh(self) -> None:
        """Place what was queued by its platform's pace, then set the one wake-up job to the earliest time a
        pending row is to be sent."""
        # One look for both, after every commit: most commands queue nothing.
        with unit_of_work(self.services.engine) as session:
            unplanned = self.engine.planning_needed(session)
            due = ledger_queries.next_pending_at(session=session, platforms=self.platforms)
        if unplanned:
            try:
                self.engine.plan(looked=True)
            except Exception:  # the rows keep their due time meanwhile; the next sweep plans them
                log.exception("planning the ledger's sends failed")
            with unit_of_work(self.services.engine) as session:
                due = ledger_queries.next_pending_at(session=session, platforms=self.platforms)
        with self._lock:
            # Most commands queue nothing; and a row we already woke for that is still there is someone's
            # (claimed, or about to be): the sweep takes it over if its claim lapses, so no wake-up loop here.
            if due is None or due == self._wake_for or self._stopping or not self._started:
                return
            self._wake_for = due
            run_at = max(due, datetime.now(UTC) + timedelta(milliseconds=10))
            self.scheduler.add_job(self._wake, "date", run_date=run_at, id="wake", replace_existing=True)

    def shutdown(self) -> None:
        if self.refresh in self.services.on_commit:
            self.services.on_commit.remove(self.refresh)
        # A job still running may plan a wake-up; APScheduler's shutdown holds its job-store lock while it waits
        # for running jobs, so such a job would wait for that lock forever. From here on nothing is planned.
        with self._lock:
            self._stopping = True
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)

    # --- health -----------------------------------------------------------------------------------------

    def health(self) -> str | None:
        """None when the scheduler and the delivery work are alive, else why not (for /healthz)."""
        if not self._started or not self.scheduler.running:
            return "scheduler not running"
        # APScheduler 3's loop thread: an exception it does not catch ends it while the scheduler still says running.
        thread: threading.Thread | None = getattr(self.scheduler, "_thread", None)
        if thread is None or not thread.is_alive():
            return "scheduler thread died"
        now = self.services.clock.now()
        with self._lock:
            if self._failures >= FAILING_AFTER:
                return f"delivery failing: {self._failures} runs in a row raised {self._failure}"
            if self._in_flight and now - self._progress_at > self.stall_after:
                return f"delivery stalled: a batch under way moved on {_seconds(now - self._progress_at)} ago"
            quiet = timedelta(seconds=self._monotonic() - self._swept_at)
            if quiet > max(timedelta(seconds=10 * self.sweep_seconds), STALL_AFTER):
                return f"delivery sweep not running: last run {_seconds(quiet)} ago"
        return None

    def _progressed(self) -> None:
        with self._lock:
            self._progress_at = self.services.clock.now()

    def _on_job_event(self, event: JobExecutionEvent) -> None:
        if event.job_id not in DELIVERY_JOBS:
            return
        with self._lock:
            self._swept_at = self._monotonic()
            if event.exception is None:
                self._failures = 0
            else:
                self._failures += 1
                self._failure = f"{type(event.exception).__name__}: {event.exception}"[:200]

    # --- jobs -------------------------------------------------------------------------------------------

    def _wake(self) -> None:
        with self._lock:
            self._in_flight += 1
            if self._in_flight == 1:
                self._progress_at = self.services.clock.now()  # a batch starts: a stall is counted from here
        try:
            stats = self.engine.run_due()
        finally:
            with self._lock:
                self._in_flight -= 1
                if not self._in_flight:
                    self._progress_at = self.services.clock.now()
        if stats.sent or stats.failed or stats.missed:
            log.info("deliveries: %s sent (%s late), %s retried, %s failed, %s missed",
                     stats.sent, stats.late, stats.retried, stats.failed, stats.missed)  # fmt: skip
        self.refresh()

    def _sweep(self) -> None:
        """The safety net: whatever is due (rows other processes queued, lapsed claims) goes out within seconds."""
        self._wake()

    def _queue_followups(self) -> None:
        """Follow-ups on introductions and goal check-ins that fell due become deliveries."""
        if jobs.queue_followups(self.services):
            self.refresh()

    def _queue_digests(self) -> None:
        if jobs.queue_digests(self.services):
            self.refresh()

    def extend_reminders(self) -> int:
        """Recurring events' reminders up to the horizon from now: at start, then every few hours."""
        services = self.services
        queued = run_transaction(
            services.engine,
            lambda session: event_reminders.extend_reminders(session, services.settings, services.clock.now()),
        )
        if queued:
            log.info("recurring events: %s reminders queued", queued)
            self.refresh()
        return queued


class _Heartbeat:
    """Passes every call to the platform's sender and notes when it returns: a batch moving on, row by row."""

    def __init__(self, sender: Sender, beat: Callable[[], None]) -> None:
        self._sender = sender
        self._beat = beat

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._sender, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return attribute(*args, **kwargs)
            finally:
                self._beat()

        return call


def _seconds(span: timedelta) -> str:
    return f"{int(span.total_seconds())} s"
