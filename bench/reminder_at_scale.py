"""A reminder to 10,000 people at Slack's pace: planned by the ledger and sent on time, on an injected clock.

10,000 people RSVP one event (each `/event rsvp` through the real dispatcher, one transaction each; after each commit
the ledger plans what it queued, as `citypeers run` does); its reminder falls due an hour before the event, to the
event's channel and to each person by DM. Then time runs on a FakeClock: the real delivery engine wakes at each
planned moment and sends through the real Slack sender and slack-sdk client, over HTTP, to the fake Slack, which
keeps Slack's limits (1 message a second per channel, 300 a minute for the workspace, 429 with Retry-After beyond)
on the same injected clock. The engine's pacer sleeps by moving that clock, so an hour of sending takes minutes.

Printed: when the plan starts the send against its due time, when the first and the last message went, how many
went after their due time (the target: none), how many the ledger marks late, 429s, messages lost and doubled, the
CPU time of an RSVP with its planning, and the real time taken. `--no-plan` sends the same at the same pace with
the plan off, as before: from the due time on.

    python bench/reminder_at_scale.py [--people 10000] [--no-plan] [--database-url postgresql://…]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from the repo root: make `tests.support` importable

from sqlmodel import select  # noqa: E402

from bench.reminder_delivery import ADMIN, database, typed  # noqa: E402
from bot.adapters import RoutingSender  # noqa: E402
from bot.app import build_services  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.delivery import DeliveryEngine, Pacer  # noqa: E402
from bot.platforms import platform  # noqa: E402
from bot.slack.notifier import SlackDeliverySender, make_delivery_client  # noqa: E402
from core.clock import FakeClock  # noqa: E402
from handlers.dispatch import handle  # noqa: E402
from handlers.types import Request  # noqa: E402
from storage import ledger_queries  # noqa: E402
from storage.db import unit_of_work  # noqa: E402
from storage.models import Delivery  # noqa: E402
from tests.support.fakeslack import FakeSlack, RateLimits  # noqa: E402

CHANNEL = "C0BENCH"
LEAD = timedelta(hours=1)  # the reminder goes an hour before the event
START = datetime(2027, 3, 1, 7, 0, tzinfo=UTC)  # the injected clock's first moment


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000, help="attendees, each reminded by DM (default 10000)")
    parser.add_argument("--no-plan", action="store_true", help="send from the due time on, as before the plan")
    parser.add_argument("--database-url", help="PostgreSQL URL: a fresh schema, dropped afterwards (default: SQLite)")
    args = parser.parse_args()
    with database(args.database_url) as url:
        return 0 if run(url, args.people, planned=not args.no_plan) else 1


def run(url: str, people: int, *, planned: bool) -> bool:
    clock = FakeClock(START)
    seconds = (lambda: clock.now().timestamp()), (lambda s: clock.advance(timedelta(seconds=s)))
    limits = RateLimits()
    pace = platform("slack").pace
    with FakeSlack(rate_limits=limits, monotonic=seconds[0]) as slack:
        settings = load_settings(
            _env_file=None,
            database_url=url,
            citypeers_admins=ADMIN,
            slack_bot_token="xoxb-bench",
            slack_signing_secret="bench",
            slack_api_url=slack.api_url,
        )
        services = build_services(settings, clock=clock)
        sender = RoutingSender({"slack": SlackDeliverySender(make_delivery_client(settings))}, default="slack")
        if planned:  # as `citypeers run` builds it: each platform planned and paced by its own pace
            engine = DeliveryEngine(
                services,
                sender,
                worker="bench",
                paces={"slack": pace, "": pace},
                monotonic=seconds[0],
                sleep=seconds[1],
            )
            services.on_commit.append(engine.plan)  # the runtime plans after every commit
        else:
            pacer = Pacer(per_channel=1.0, per_second=pace, monotonic=seconds[0], sleep=seconds[1])
            engine = DeliveryEngine(services, sender, worker="bench", pacer=pacer)
        print(f"== a reminder to {people} people and a channel at Slack's pace ({pace:g}/s; the fake Slack allows "
              f"{limits.workspace_per_minute / 60:g}/s), the plan {'on' if planned else 'off'}")  # fmt: skip

        start = clock.now() + timedelta(hours=4)
        added = say(services, f"slack:{ADMIN}", f'/event add Summit start="{typed(start)}" tz=UTC remind=1h '
                    f"channel=<#slack:{CHANNEL}|summit>")  # fmt: skip
        assert added.startswith("Scheduled"), added
        cpu, wall = time.process_time(), time.perf_counter()
        for n in range(people):
            reply = say(services, f"slack:U{n:07d}", "/event rsvp 1")
            assert reply.startswith("You are attending"), reply
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        planning = ", each planned after its commit" if planned else ""
        print(f"{people} RSVPs through the dispatcher{planning}: {wall:.1f}s, {cpu / people * 1000:.2f} ms CPU an "
              "RSVP")  # fmt: skip
        due = start - LEAD
        with unit_of_work(services.engine) as session:
            rows = list(session.exec(select(Delivery).where(Delivery.kind == "reminder")))
        first_planned = min(row.next_attempt_at for row in rows)
        print(f"reminder rows: {len(rows)}; the plan starts the send {(due - first_planned).total_seconds():.1f}s "
              f"before its due time (at {pace * 0.8:g}/s: {len(rows) / (pace * 0.8):.0f}s of sending)")  # fmt: skip

        began = time.perf_counter()
        while True:  # what the scheduler does: wake at the next moment a row is to be sent
            with unit_of_work(services.engine) as session:
                upcoming = ledger_queries.next_pending_at(session=session)
            if upcoming is None:
                break
            clock.set(max(clock.now(), upcoming))
            engine.run_due()
        print(f"sent in {time.perf_counter() - began:.1f}s of real time, {(clock.now() - START).total_seconds():.0f}s "
              "on the injected clock")  # fmt: skip
        with unit_of_work(services.engine) as session:
            rows = list(session.exec(select(Delivery).where(Delivery.kind == "reminder")))
        calls = slack.calls("chat.postMessage")
        services.engine.dispose()

    statuses = Counter(row.status for row in rows)
    sent = sorted(row.sent_at for row in rows if row.sent_at)
    after = sum(1 for row in rows if row.sent_at and row.sent_at > row.due_at)
    marked = sum(1 for row in rows if row.late)
    latest = max((row.sent_at - row.due_at).total_seconds() for row in rows if row.sent_at) if sent else 0.0
    delivered = Counter(str(c.params.get("channel")) for c in calls if c.ok)
    doubled = sum(n - 1 for n in delivered.values() if n > 1)
    expected = {CHANNEL, *(f"U{n:07d}" for n in range(people))}
    lost = len(expected - set(delivered))
    limited = sum(1 for c in calls if c.status == 429)
    if sent:
        print(f"first message {(due - sent[0]).total_seconds():.1f}s before its due time, last "
              f"{abs(latest):.1f}s {'before' if latest <= 0 else 'after'} it")  # fmt: skip
    print(f"sent after the due time: {after} of {len(rows)} ({after / len(rows):.1%}); marked late (over 30 s): "
          f"{marked}; 429s: {limited}; lost: {lost}; doubled: {doubled}; ledger: {dict(statuses)}")  # fmt: skip
    return not lost and not doubled and set(statuses) == {"sent"} and (after == 0 or not planned)


def say(services, user: str, line: str) -> str:  # type: ignore[no-untyped-def]
    command, _, text = line.lstrip("/").partition(" ")
    return handle(
        services, Request(user_id=user, user_name=user.rsplit(":", 1)[-1], command=command, text=text)
    ).plain()


if __name__ == "__main__":
    sys.exit(main())
