"""A 1,000-DM reminder on Discord: a real `citypeers run` with only Discord's settings, under Discord's limits.

The fake Discord enforces per-route buckets and the global limit (`DiscordLimits`: messages 5 per 5 s per
channel, every other route 10 a second per top-level resource, 50 requests a second globally) and answers 429
with Discord's body and headers beyond them. 1,000 members RSVP one event whose reminder goes to its channel and
to each member by DM; the members, the event, the RSVPs and the reminders are written through our storage
functions and the handlers' queue_reminders before the process starts, the reminder due --due-in seconds later.

Each DM costs two requests: `POST /users/@me/channels` opens the DM channel (the first time a person gets one;
all 1,000 here are new), then `POST /channels/{id}/messages`. Both count against the global limit, and the
DM-opening route is one bucket for the whole bot, so the limits allow min(global / 2, that bucket's rate) DMs a
second; each DM is its own channel, so the per-channel message bucket does not bind. The bot is paced at that
rate (CITYPEERS_SEND_PER_SECOND). Printed: messages delivered, the rate achieved against the rate allowed,
429s, lost and doubled messages, and the total time from the due time to the last message.

    python bench/discord_reminders.py [--recipients 1000] [--open-dm-per-second N] [--database-url postgresql://…]
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

from sqlmodel import col, select  # noqa: E402

from bench.reminder_delivery import bench_services, database  # noqa: E402
from handlers import event as event_handlers  # noqa: E402
from handlers.types import Services  # noqa: E402
from storage import event_queries, ledger_queries, queries  # noqa: E402
from storage.db import unit_of_work  # noqa: E402
from storage.models import Delivery, Event  # noqa: E402
from tests.support.botprocess import DiscordProcess  # noqa: E402
from tests.support.discord import Call, DiscordInteractions, DiscordLimits, FakeDiscord  # noqa: E402

ADMIN = "1310000000000000901"
CHANNEL = "1310000000000000300"
TITLE = "Bench Lab"
LEAD = timedelta(hours=1)  # the reminder goes out an hour ahead: 1,001 messages at 10/s take 100 s
OPEN_DM = "POST /users/@me/channels"
CREATE_MESSAGE = "POST /channels/{channel_id}/messages"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=1000, help="DM recipients (default 1000)")
    parser.add_argument(
        "--open-dm-per-second", type=int, help=f"the {OPEN_DM} bucket per second (default: DiscordLimits' other)"
    )
    parser.add_argument("--send-per-second", type=float, help="the bot's pace (default: what the limits allow)")
    parser.add_argument("--due-in", type=float, default=10.0, help="seconds from seeding to due (default 10)")
    parser.add_argument("--database-url", help="PostgreSQL URL: a fresh schema, dropped afterwards (default: SQLite)")
    args = parser.parse_args()

    routes = {OPEN_DM: (args.open_dm_per_second, 1.0)} if args.open_dm_per_second else {}
    limits = DiscordLimits(routes=routes)
    dm_count, dm_seconds = limits.routes.get(OPEN_DM, limits.other)
    allowed = min(limits.global_per_second / 2, dm_count / dm_seconds)
    pace = args.send_per_second or allowed
    people = [str(1320000000000000000 + n) for n in range(args.recipients)]
    print(
        f"== {len(people)} DMs + 1 channel post on Discord; limits: global {limits.global_per_second}/s "
        f"(2 requests a DM), {OPEN_DM} {dm_count} per {dm_seconds:g}s, messages {limits.messages[0]} per "
        f"{limits.messages[1]:g}s per channel -> {allowed:g} DMs/s allowed; bot paced at {pace:g}/s"
    )
    with database(args.database_url) as url:
        return 0 if run(url, people, limits, allowed, pace, args.due_in) else 1


def run(url: str, people: list[str], limits: DiscordLimits, allowed: float, pace: float, due_in: float) -> bool:
    services = bench_services(url)
    started = time.perf_counter()
    due = datetime.now(UTC) + timedelta(seconds=due_in)
    event_id = seed(services, people, due + LEAD)
    print(f"seeded 1 event, {len(people)} RSVPs and their reminders through storage in "
          f"{time.perf_counter() - started:.1f}s")  # fmt: skip
    expected = len(people) + 1

    with FakeDiscord(rate_limits=limits) as discord:
        discord.add_channel(CHANNEL, name="bench")
        interactions = DiscordInteractions("http://127.0.0.1:1", discord)
        settings = {"citypeers_send_per_second": f"{pace:g}", "citypeers_sweep_seconds": "1"}
        with DiscordProcess(discord, interactions, url, admins=ADMIN, citypeers_log_level="WARNING", **settings):
            if datetime.now(UTC) > due:
                print("warning: the process was up after the due time; raise --due-in")
            wait_until_settled(discord, services, expected, timeout=due_in + expected / min(pace, allowed) * 3 + 60)
            time.sleep(3)  # three more sweeps: anything sent twice would show now
            statuses = ledger_statuses(services, event_id)
        calls = discord.calls()
        problems = list(discord.problems)
        fake_limited = discord.rate_limited
        per_recipient = Counter({person: len(reminders(discord.dms_to(person))) for person in people})
        per_recipient[CHANNEL] = len(reminders(discord.messages_in(CHANNEL)))
    services.engine.dispose()

    posted = [c for c in calls if c.route == CREATE_MESSAGE and c.ok and not c.deduped]
    limited = [c for c in calls if c.status == 429]
    doubled = sum(n - 1 for n in per_recipient.values() if n > 1)
    lost = [r for r, n in per_recipient.items() if n == 0]
    first, last = posted[0].wall, posted[-1].wall
    span = last - first
    rate = (len(posted) - 1) / span if span > 0 else float("inf")
    print(f"delivered {len(posted)} messages ({len(posted) - 1} DMs + the channel's); first arrived "
          f"{first - due.timestamp():.1f}s after the due time")  # fmt: skip
    print(f"rate: {rate:.2f} messages/s achieved vs {allowed:g}/s the limits allow ({rate / allowed:.0%})")
    global_429 = sum(1 for c in limited if (c.answer or {}).get("global"))
    print(f"requests: {len(calls)} ({count(calls, OPEN_DM)} {OPEN_DM}, "
          f"{count(calls, CREATE_MESSAGE)} {CREATE_MESSAGE}); "
          f"429s: {len(limited)} (global {global_429}; fake counted {fake_limited})")  # fmt: skip
    print(f"lost: {len(lost)}; doubled: {doubled}; ledger: {dict(statuses)}")
    print(f"total: {last - due.timestamp():.1f}s from the due time to the last message ({span:.1f}s first to last)")
    if problems:
        print(f"the fake Discord found {len(problems)} problem(s), first: {problems[0]}")
    return not doubled and not lost and not problems and set(statuses) == {"sent"} and rate >= 0.8 * allowed


def seed(services: Services, people: list[str], start: datetime) -> int:
    """The organiser, the event (in the channel, reminding an hour ahead), the members and their RSVPs, and every
    reminder queued by the handlers' queue_reminders, in one transaction."""
    now = services.clock.now()
    with unit_of_work(services.engine) as session:
        admin = queries.ensure_member(
            session=session, external_id=f"discord:{ADMIN}", display_name="admin", role="admin", now=now
        )
        event = event_queries.add_event(
            session=session,
            event=Event(
                title=TITLE,
                start_at=start,
                tz="UTC",
                channel_id=f"discord:{CHANNEL}",
                channel_name="bench",
                remind="1h",
                created_by_id=admin.id,
                created_at=now,
            ),
        )
        for person in people:
            member = queries.ensure_member(
                session=session, external_id=f"discord:{person}", display_name=f"p{person[-4:]}", role="none", now=now
            )
            event_queries.add_rsvp(session=session, event_id=event.id, member_id=member.id, now=now)
        recipients = event_handlers.everyone(session, event)
        queued = event_handlers.queue_reminders(session, event, services.settings, now, recipients)
        assert queued == len(people) + 1, (queued, len(people))
        assert event.id is not None
        return event.id


def reminders(messages: list[dict]) -> list[dict]:
    return [m for m in messages if TITLE in m.get("content", "") and "starts" in m.get("content", "")]


def count(calls: list[Call], route: str) -> int:
    return sum(1 for c in calls if c.route == route)


def wait_until_settled(discord: FakeDiscord, services: Services, expected: int, *, timeout: float) -> None:
    """Until `expected` messages were posted, or nothing is left to send (so a failure ends the wait, too)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sum(1 for c in discord.calls(CREATE_MESSAGE) if c.ok and not c.deduped) >= expected:
            return
        with unit_of_work(services.engine) as session:
            open_rows = session.exec(select(Delivery.id).where(col(Delivery.status).in_(ledger_queries.OWED))).first()
        if open_rows is None:
            return
        time.sleep(0.5)  # polling the bench's own progress; the figures come from the fake's timestamps


def ledger_statuses(services: Services, event_id: int) -> Counter[str]:
    with unit_of_work(services.engine) as session:
        rows = ledger_queries.deliveries_for(session=session, event_id=event_id)
        return Counter(d.status for d in rows if d.status != "withdrawn")


if __name__ == "__main__":
    sys.exit(main())
