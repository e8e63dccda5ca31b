"""How fast does `citypeers run` acknowledge Discord's interactions? Discord gives up after 3 seconds.

Starts the fake Discord and a real `citypeers run` subprocess with only Discord's settings (a temporary SQLite
file), registers a city with one signed slash command, then posts signed `/city show name:Brno` interactions,
CONCURRENCY at a time, and prints the acknowledgement latency (the HTTP round trip of the signed POST until the
deferred answer, the Ed25519 check included) and the time until each deferred reply's
`PATCH /webhooks/{app}/{token}/messages/@original` reached the fake Discord.

    python bench/discord_ack.py [--requests 200] [--concurrency 20]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from the repo root: make `tests.support` importable

from bench.stats import figures, fire, first_arrivals_ms  # noqa: E402
from tests.support.botprocess import DiscordProcess  # noqa: E402
from tests.support.discord import DiscordInteractions, FakeDiscord  # noqa: E402

USER = "1310000000000000901"
DISCORD_LIMIT_MS = 3000
EDIT_ORIGINAL = "PATCH /webhooks/{application_id}/{token}/messages/@original"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()

    with FakeDiscord() as discord, tempfile.TemporaryDirectory(prefix="citypeers-bench-") as tmp:
        database_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        interactions = DiscordInteractions("http://127.0.0.1:1", discord)  # DiscordProcess points it at the bot
        started = time.perf_counter()
        process = DiscordProcess(discord, interactions, database_url, admins=USER, citypeers_log_level="WARNING")
        with process as bot:
            print(f"citypeers run (Discord only) healthy after {time.perf_counter() - started:.1f}s (port {bot.port})")
            ok = run_bench(discord, interactions, args.requests, args.concurrency)
        if discord.problems:
            print(f"the fake Discord found {len(discord.problems)} problem(s), first: {discord.problems[0]}")
            ok = False
        return 0 if ok else 1


def run_bench(discord: FakeDiscord, interactions: DiscordInteractions, total: int, concurrency: int) -> bool:
    registered = interactions.command(USER, "city", "register", {"name": "Brno", "country": "CZ"})
    print(f"registered: {discord.wait_for_original(registered.token, timeout=30)['content']}")

    answers, sent_at, wall = fire(
        lambda: interactions.command(USER, "city", "show", {"name": "Brno"}), lambda a: a.token, total, concurrency
    )

    tokens = {a.token for a in answers}

    def edited() -> set[str]:
        return {c.params.get("token", "") for c in discord.calls(EDIT_ORIGINAL) if c.ok} & tokens

    with contextlib.suppress(AssertionError):  # the replies that did arrive are counted below
        discord.wait_for(lambda: len(edited()) >= total, timeout=30)
    reply_ms = first_arrivals_ms(
        sent_at, ((c.params.get("token", ""), c.at) for c in discord.calls(EDIT_ORIGINAL) if c.ok)
    )
    right = sum(1 for t in tokens if "**Brno**" in (discord.original(t) or {}).get("content", ""))

    ack_ms = sorted(a.elapsed * 1000 for a in answers)
    statuses = sorted({a.status for a in answers})
    deferred = sum(1 for a in answers if a.type == 5 and a.ephemeral)
    print(
        f"{total} signed /city show name:Brno interactions, {concurrency} at a time, in {wall:.1f}s; "
        f"HTTP statuses {statuses}; deferred ephemeral answers {deferred}/{total}"
    )
    print(figures("ack latency ms:                    ", ack_ms))
    if reply_ms:
        print(figures("interaction -> PATCH @original ms:", reply_ms))
    late = sum(1 for ms in ack_ms if ms > DISCORD_LIMIT_MS)
    print(f"replies edited into @original: {len(reply_ms)}/{total} ({right} showing Brno); acks over 3 s: {late}")
    return statuses == [200] and deferred == total and len(reply_ms) == total and right == total and late == 0


if __name__ == "__main__":
    sys.exit(main())
