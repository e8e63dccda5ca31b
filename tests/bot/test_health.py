"""GET /healthz over real HTTP, backed by a real Runtime and the real APScheduler: 200 while the scheduler and the
delivery work are alive; 503 with the reason, logged once as an error, when its thread dies, when a batch stops
moving, or when every sweep raises. Time that matters to health is the injected clock; waits are for events."""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.jobstores.memory import MemoryJobStore

from bot.delivery import SendOutcome
from bot.scheduler import Runtime
from bot.web import create_server, database_check, make_wsgi_app, stop_http_server
from tests.handlers.conversation import say


class SchedulerKilled(BaseException):
    """APScheduler's loop catches Exception from a job store, not BaseException: this one ends its thread."""


class DyingJobStore(MemoryJobStore):
    """Fault injection into the third-party part: the next look for due jobs kills the scheduler's thread."""

    def get_due_jobs(self, now):  # type: ignore[no-untyped-def]
        raise SchedulerKilled("job store gone")


class GatedSender:
    """Stands in for Slack: each send waits for a permit from the test, so a row is in flight for as long as the
    test likes. `entered` counts the sends begun."""

    def __init__(self) -> None:
        self.entered = threading.Semaphore(0)
        self.permits = threading.Semaphore(0)
        self.sent = 0

    def send(self, *message: Any) -> SendOutcome:
        self.entered.release()
        assert self.permits.acquire(timeout=60), "the test never let this send through"
        self.sent += 1
        return SendOutcome.sent()

    def open(self) -> None:
        self.permits.release(1000)


@dataclass
class Probe:
    url: str

    def get(self) -> tuple[int, dict[str, Any]]:
        try:
            with urllib.request.urlopen(self.url, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def wait_for(self, status: int, timeout: float = 30.0) -> dict[str, Any]:
        """Probe until /healthz answers `status` (the scheduler acts on its own thread); returns the body."""
        deadline = time.monotonic() + timeout
        while True:
            answered, body = self.get()
            if answered == status:
                return body
            assert time.monotonic() < deadline, f"/healthz still answers {answered} {body}"
            time.sleep(0.05)  # polling another thread's progress, not timing anything


@pytest.fixture
def runtime_and_probe(services) -> Iterator[Callable[..., tuple[Runtime, Probe]]]:
    started: list[tuple[Runtime, Any, threading.Thread]] = []

    def start(sender: Any, *, listener: Callable[[Any], None] | None = None, **options: Any) -> tuple[Runtime, Probe]:
        runtime = Runtime(services, sender, **{"sweep_seconds": 0.2, **options})
        if listener is not None:  # heard after the runtime's own listener
            runtime.scheduler.add_listener(listener, EVENT_JOB_EXECUTED)
        runtime.start()
        app = make_wsgi_app([], [database_check(services.engine), runtime.health])
        server = create_server(app, "127.0.0.1", 0, threads=2)
        thread = threading.Thread(target=server.run, name="health-http", daemon=True)
        thread.start()
        started.append((runtime, server, thread))
        return runtime, Probe(f"http://127.0.0.1:{server.effective_port}/healthz")

    yield start
    for runtime, server, thread in started:
        runtime.engine.sender.open()  # a failed test must not leave a send waiting for its permit
        stop_http_server(server)
        thread.join(timeout=5)
        runtime.shutdown()


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "bot.web" and r.levelno >= logging.ERROR]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_dead_scheduler_thread_makes_healthz_503_with_the_reason_logged_once(runtime_and_probe, caplog):
    runtime, probe = runtime_and_probe(GatedSender())
    assert probe.get() == (200, {"ok": True})

    runtime.scheduler.add_jobstore(DyingJobStore(), alias="dying")  # wakes the scheduler, whose thread then dies
    assert probe.wait_for(503) == {"ok": False, "reason": "scheduler thread died"}
    assert probe.get() == (503, {"ok": False, "reason": "scheduler thread died"})
    assert errors(caplog) == ["unhealthy: scheduler thread died"]


def test_a_stopped_scheduler_is_unhealthy(runtime_and_probe, caplog):
    runtime, probe = runtime_and_probe(GatedSender())
    runtime.shutdown()
    assert probe.get() == (503, {"ok": False, "reason": "scheduler not running"})
    assert errors(caplog) == ["unhealthy: scheduler not running"]


def test_a_scheduler_that_no_longer_runs_the_sweep_is_unhealthy(runtime_and_probe, caplog):
    """Its thread alive but the sweep not run for long, measured on the scheduler's own (real, here fake) time."""
    seconds = [1000.0]
    first_sweep = threading.Event()

    def on_sweep(event: JobExecutionEvent) -> None:
        if event.job_id == "sweep":
            first_sweep.set()

    # One sweep at start, the next in an hour; nothing else is due, so no other job runs meanwhile.
    runtime, probe = runtime_and_probe(
        GatedSender(), sweep_seconds=3600, monotonic=lambda: seconds[0], listener=on_sweep
    )
    assert first_sweep.wait(timeout=30)
    assert probe.get() == (200, {"ok": True})
    seconds[0] += 10 * 3600 + 1
    assert probe.get() == (503, {"ok": False, "reason": "delivery sweep not running: last run 36001 s ago"})
    runtime.scheduler.modify_job("sweep", next_run_time=datetime.now(UTC))
    assert probe.wait_for(200) == {"ok": True}
    assert errors(caplog) == ["unhealthy: delivery sweep not running: last run 36001 s ago"]


def reminder_due_now(services, clock, attendees: tuple[str, ...] = ()) -> None:
    """A City Lab in two hours with a 1h reminder to #labs and each attendee, then an hour passes: due now."""
    start = (clock.now() + timedelta(hours=2)).astimezone(services.settings.default_tz).strftime("%Y-%m-%d %H:%M")
    say(services, "ana", f'/event add City Lab start="{start}" remind=1h channel=#labs')
    for person in attendees:
        say(services, person, "/event rsvp 1")
    clock.advance(timedelta(hours=1))


def test_a_batch_that_stops_moving_is_stalled_and_one_that_moves_again_is_healthy(
    services, clock, runtime_and_probe, caplog
):
    reminder_due_now(services, clock)
    sender = GatedSender()
    runtime, probe = runtime_and_probe(sender, stall_after=timedelta(minutes=2))
    assert sender.entered.acquire(timeout=30), "the first sweep never sent the due reminder"
    assert probe.get() == (200, {"ok": True}), "a row being sent is not a stall"

    clock.advance(timedelta(minutes=2, seconds=1))  # the one send has not come back for longer than stall_after
    status, body = probe.get()
    assert (status, body["reason"]) == (503, "delivery stalled: a batch under way moved on 121 s ago")
    clock.advance(timedelta(seconds=30))
    assert probe.get()[0] == 503

    sender.open()
    assert probe.wait_for(200) == {"ok": True}
    runtime.shutdown()  # waits for the batch under way
    assert sender.sent == 1
    assert errors(caplog) == ["unhealthy: delivery stalled: a batch under way moved on 121 s ago"]


def test_a_long_batch_that_keeps_moving_is_healthy(services, clock, runtime_and_probe):
    """Each row sent is a heartbeat: a batch paced for longer than stall_after in all is not a stall."""
    reminder_due_now(services, clock, attendees=("bob", "cleo", "dan", "eve"))
    sender = GatedSender()
    runtime, probe = runtime_and_probe(sender, stall_after=timedelta(minutes=2))
    for _ in range(5):
        assert sender.entered.acquire(timeout=30), "the batch stopped before its fifth row"
        clock.advance(timedelta(minutes=1, seconds=30))  # each row takes 90 s: 7.5 minutes in all
        assert probe.get() == (200, {"ok": True})
        sender.permits.release()
    runtime.shutdown()  # waits for the batch under way
    assert sender.sent == 5


def test_delivery_jobs_that_raise_every_time_make_healthz_503(services, runtime_and_probe, caplog):
    runtime, probe = runtime_and_probe(GatedSender())
    assert probe.get() == (200, {"ok": True})
    with services.engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE delivery")  # every sweep now fails in the database
    reason = probe.wait_for(503)["reason"]
    assert reason.startswith("delivery failing: ") and " runs in a row raised " in reason, reason
    assert len(errors(caplog)) == 1 and errors(caplog)[0].startswith("unhealthy: delivery failing")
