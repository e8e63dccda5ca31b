"""Reminder delivery at scale: a 1,000-person DM broadcast under Slack's limits, and due-to-send delay at 10,000.

Both parts run a real `citypeers run` subprocess against the fake Slack, on a temporary SQLite file or, with
--database-url, on a fresh schema of that PostgreSQL database (dropped afterwards).

broadcast: the fake Slack enforces Slack's published chat.postMessage limits (1 a second per channel with a
  burst of 3; --per-minute workspace-wide, default 300) and answers 429 with Retry-After beyond them. 1,000
  members RSVP one event (through our /event handlers, seeded before the process starts); its reminder falls
  due --due-in seconds after the process is up and goes to the event's channel and to each member by DM. The
  bot sends at CITYPEERS_SEND_PER_SECOND = --send-per-second (default: what the workspace limit allows).
  Prints messages per second against the allowed rate, 429s received and retried, losses and duplicates.
delay: --reminders reminders (default 10,000) are queued in the store, their due times spread evenly over
  --spread seconds after a --lead-in; the fake Slack has no limits. Prints the delay between each reminder's
  due time and the moment the fake Slack received it: p50/p95/p99/max.

    python bench/reminder_delivery.py [--part broadcast|delay|both] [--database-url postgresql://…]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from the repo root: make `tests.support` importable

from sqlmodel import col, select  # noqa: E402

from bench.stats import figures  # noqa: E402
from bot.app import build_services  # noqa: E402
from bot.config import load_settings  # noqa: E402
from handlers import event as event_handlers  # noqa: E402
from handlers.types import Services  # noqa: E402
from storage import event_queries, ledger_queries, queries  # noqa: E402
from storage.db import unit_of_work  # noqa: E402
from storage.models import Delivery, Event  # noqa: E402
from tests.handlers.conversation import say  # noqa: E402
from tests.support.botprocess import BotProcess  # noqa: E402
from tests.support.databases import temporary_schema  # noqa: E402
from tests.support.fakeslack import Call, FakeSlack, RateLimits  # noqa: E402

ADMIN = "U0ADMIN"
AS_ADMIN = f"slack:{ADMIN}"  # our id of the admin: ids carry their platform
CHANNEL = "C0BENCH"
TITLE = "Bench Lab"
# Reminders go out this long before the event starts (due = start - lead). A reminder still unsent when its
# event begins is recorded as missed, and 1,001 messages at 5/s take 200 s: the broadcast reminds an hour ahead.
BROADCAST_LEAD = timedelta(hours=1)
DELAY_LEAD = timedelta(minutes=5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["broadcast", "delay", "both"], default="both")
    parser.add_argument("--database-url", help="PostgreSQL URL; each part gets its own schema (default: SQLite)")
    broadcast = parser.add_argument_group("broadcast")
    broadcast.add_argument("--recipients", type=int, default=1000, help="DM recipients (default 1000)")
    broadcast.add_argument("--per-minute", type=float, default=300.0, help="workspace limit (default 300/min)")
    broadcast.add_argument("--send-per-second", type=float, help="the bot's pace (default: per-minute / 60)")
    broadcast.add_argument("--due-in", type=float, default=5.0, help="seconds from start to due (default 5)")
    delay = parser.add_argument_group("delay")
    delay.add_argument("--reminders", type=int, default=10_000, help="reminders in the store (default 10000)")
    delay.add_argument("--spread", type=float, default=180.0, help="seconds their due times span (default 180)")
    delay.add_argument("--per-event", type=int, default=1, help="attendees per event, due together (default 1)")
    delay.add_argument("--lead-in", type=float, default=30.0, help="seconds before the first is due (default 30)")
    delay.add_argument("--delay-send-per-second", type=float, default=100.0, help="the bot's pace (default 100)")
    delay.add_argument("--sweep-seconds", type=float, default=15.0, help="CITYPEERS_SWEEP_SECONDS (default 15)")
    args = parser.parse_args()

    ok = True
    if args.part in ("broadcast", "both"):
        with database(args.database_url) as url:
            ok &= run_broadcast(url, args)
    if args.part in ("delay", "both"):
        with database(args.database_url) as url:
            ok &= run_delay(url, args)
    return 0 if ok else 1


# --- the broadcast: 1,000 DMs under Slack's limits ------------------------------------------------------


def run_broadcast(url: str, args: argparse.Namespace) -> bool:
    limits = RateLimits(workspace_per_minute=args.per_minute)
    allowed = limits.workspace_per_minute / 60.0
    pace = args.send_per_second or allowed
    people = [f"U{n:07d}" for n in range(args.recipients)]
    print(f"\n== broadcast: {len(people)} DMs + 1 channel post; Slack allows {allowed:g}/s; bot paced at {pace:g}/s")

    services = bench_services(url)
    started = time.perf_counter()
    moment = datetime.now(UTC) + timedelta(days=1)  # placeholder start, moved once the process is up
    added = say(
        services, AS_ADMIN, f'/event add {TITLE} start="{typed(moment)}" tz=UTC remind=1h channel=<#slack:{CHANNEL}|b>'
    )
    assert added.startswith("Scheduled"), added
    event_id = latest_event_id(services)
    for person in people:
        reply = say(services, f"slack:{person}", f"/event rsvp {event_id}")
        assert reply.startswith("You are attending"), reply
    print(f"seeded 1 event and {len(people)} RSVPs through the /event handlers in {time.perf_counter() - started:.1f}s")

    with FakeSlack(rate_limits=limits) as slack:
        bot = BotProcess(slack, url, admins=ADMIN, citypeers_send_per_second=f"{pace:g}", citypeers_sweep_seconds="1")
        with bot:
            # Due --due-in seconds from now: moved with /event edit, which requeues every pending reminder.
            target = datetime.now(UTC) + timedelta(seconds=args.due_in) + BROADCAST_LEAD
            edited = say(services, AS_ADMIN, f'/event edit {event_id} start="{typed(target)}"')
            assert "changed" in edited, edited
            due = due_time(services, event_id)
            expected = len(people) + 1
            wait_until_settled(slack, services, expected, timeout=args.due_in + expected / min(pace, allowed) * 3 + 60)
            time.sleep(3)  # three more sweeps: anything sent twice would show now
            statuses = ledger_statuses(services, event_id)
        calls = slack.calls("chat.postMessage")
    services.engine.dispose()

    ok_calls = [c for c in calls if c.ok]
    per_recipient = Counter(str(c.params.get("channel")) for c in ok_calls)
    duplicates = sum(n - 1 for n in per_recipient.values() if n > 1)
    missing = [r for r in [CHANNEL, *people] if per_recipient[r] == 0]
    limited = [c for c in calls if c.status == 429]
    unretried = [c for c in limited if not any(o.params.get("channel") == c.params.get("channel") for o in ok_calls)]
    first, last = ok_calls[0].wall, ok_calls[-1].wall
    span = last - first
    rate = (len(ok_calls) - 1) / span if span > 0 else float("inf")
    print(f"delivered {len(ok_calls)} messages; first arrived {first - due.timestamp():.1f}s after the due time")
    print(f"rate: {rate:.2f} messages/s achieved vs {allowed:g}/s allowed ({rate / allowed:.0%} of the limit)")
    print(f"429s received: {len(limited)} (fake counted {slack.rate_limited}); retried and delivered: "
          f"{len(limited) - len(unretried)}, lost: {len(unretried)}")  # fmt: skip
    print(f"duplicates: {duplicates}; recipients without their message: {len(missing)}; ledger: {dict(statuses)}")
    print(f"total: {last - due.timestamp():.1f}s from due time to the last message ({span:.1f}s first to last)")
    return not duplicates and not missing and not unretried and set(statuses) == {"sent"}


def accepted(slack: FakeSlack) -> list[Call]:
    return [c for c in slack.calls("chat.postMessage") if c.ok]


def wait_until_settled(slack: FakeSlack, services: Services, expected: int, *, timeout: float) -> None:
    """Until `expected` messages arrived, or nothing is left to send (so a failure ends the wait, too)."""
    deadline = time.monotonic() + timeout
    while len(accepted(slack)) < expected and time.monotonic() < deadline:
        with unit_of_work(services.engine) as session:
            open_rows = session.exec(select(Delivery.id).where(col(Delivery.status).in_(ledger_queries.OWED))).first()
        if open_rows is None:
            return
        time.sleep(0.5)  # polling the bench's own progress; the figures come from the fake's timestamps


def latest_event_id(services: Services) -> int:
    with unit_of_work(services.engine) as session:
        return max(e.id for e in event_queries.all_events(session=session) if e.id is not None)


def due_time(services: Services, event_id: int) -> datetime:
    with unit_of_work(services.engine) as session:
        event = session.get(Event, event_id)
        assert event is not None
        return event.start_at - BROADCAST_LEAD


def ledger_statuses(services: Services, event_id: int) -> Counter[str]:
    with unit_of_work(services.engine) as session:
        rows = ledger_queries.deliveries_for(session=session, event_id=event_id)
        return Counter(d.status for d in rows if d.status != "withdrawn")


# --- the delay: 10,000 reminders, due time to arrival ---------------------------------------------------


def run_delay(url: str, args: argparse.Namespace) -> bool:
    total, per_event = args.reminders, max(1, args.per_event)
    events = -(-total // per_event)
    step = args.spread / max(1, events - 1) if events > 1 else 0.0
    print(
        f"\n== delay: {total} reminders ({events} events x {per_event} attendee(s)) due over {args.spread:g}s, "
        f"bot paced at {args.delay_send_per_second:g}/s, sweep every {args.sweep_seconds:g}s, no Slack limits"
    )
    services = bench_services(url)
    started = time.perf_counter()
    base = datetime.now(UTC) + timedelta(seconds=args.lead_in)
    due_of = seed_reminders(services, total, per_event, base, step)
    print(f"seeded {len(due_of)} reminders through storage and queue_reminders in {time.perf_counter() - started:.1f}s")

    with FakeSlack() as slack:
        settings = {"citypeers_send_per_second": f"{args.delay_send_per_second:g}"}
        settings["citypeers_sweep_seconds"] = f"{args.sweep_seconds:g}"
        with BotProcess(slack, url, admins=ADMIN, **settings):
            up = datetime.now(UTC)
            if up > base:
                print(f"warning: the process was up {(up - base).total_seconds():.1f}s after the first due time; "
                      "raise --lead-in")  # fmt: skip
            left = (base - up).total_seconds() + args.spread
            timeout = max(0.0, left) + total / args.delay_send_per_second + 120
            wait_until_settled(slack, services, total, timeout=timeout)
            time.sleep(2)  # let a duplicate, if any, arrive
            with unit_of_work(services.engine) as session:
                statuses = Counter(session.exec(select(Delivery.status)).all())
                late = len(session.exec(select(Delivery.id).where(Delivery.late)).all())
        calls = accepted(slack)
    services.engine.dispose()

    per_recipient = Counter(str(c.params.get("channel")) for c in calls)
    duplicates = sum(n - 1 for n in per_recipient.values() if n > 1)
    first_arrival: dict[str, float] = {}
    for call in calls:
        first_arrival.setdefault(str(call.params.get("channel")), call.wall)
    delays = sorted((first_arrival[r] - due.timestamp()) * 1000 for r, due in due_of.items() if r in first_arrival)
    missing = len(due_of) - len(delays)
    print(figures("delay due -> received, ms:", delays))
    early = sum(1 for d in delays if d < 0)
    print(f"received {len(delays)}/{len(due_of)}; early: {early}; marked late: {late}; duplicates: {duplicates}; "
          f"ledger: {dict(statuses)}")  # fmt: skip
    return not duplicates and not missing and not early and set(statuses) == {"sent"}


def seed_reminders(services: Services, total: int, per_event: int, base: datetime, step: float) -> dict[str, datetime]:
    """Members, events and RSVPs written through our storage functions, reminders queued by the handlers'
    queue_reminders, in one transaction (10,000 signed /event rsvp requests would take most of the run)."""
    settings = services.settings
    now = services.clock.now()
    due_of: dict[str, datetime] = {}
    with unit_of_work(services.engine) as session:
        admin = queries.ensure_member(
            session=session, external_id=AS_ADMIN, display_name="admin", role="admin", now=now
        )
        for index in range(-(-total // per_event)):
            start = base + timedelta(seconds=index * step) + DELAY_LEAD
            event = event_queries.add_event(
                session=session,
                event=Event(
                    title=f"{TITLE} {index}",
                    start_at=start,
                    tz="UTC",
                    remind="5m",
                    created_by_id=admin.id,
                    created_at=now,
                ),
            )
            people = [f"U{n:07d}" for n in range(index * per_event, min(total, (index + 1) * per_event))]
            recipients = []
            for person in people:
                member = queries.ensure_member(
                    session=session, external_id=f"slack:{person}", display_name=person, role="none", now=now
                )
                event_queries.add_rsvp(session=session, event_id=event.id, member_id=member.id, now=now)
                recipients.append(("user", f"slack:{person}"))
                due_of[person] = start - DELAY_LEAD
            queued = event_handlers.queue_reminders(session, event, settings, now, recipients)
            assert queued == len(people), (queued, len(people))
    return due_of


# --- shared ---------------------------------------------------------------------------------------------


def bench_services(url: str) -> Services:
    """Services on the bench database, built as `citypeers run` builds them (schema upgraded on the way)."""
    return build_services(load_settings(_env_file=None, database_url=url, citypeers_admins=ADMIN))


@contextlib.contextmanager
def database(url: str | None) -> Iterator[str]:
    """A temporary SQLite file, or a fresh schema in the given PostgreSQL database, dropped afterwards."""
    if not url:
        with tempfile.TemporaryDirectory(prefix="citypeers-bench-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.db'}"
        return
    with temporary_schema(url, prefix="bench") as schema_url:
        yield schema_url


def typed(moment: datetime) -> str:
    """A UTC time as an organiser types it with tz=UTC, to the second."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


if __name__ == "__main__":
    sys.exit(main())
