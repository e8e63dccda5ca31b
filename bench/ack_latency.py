"""How fast does `citypeers run` acknowledge slash commands? Slack gives up after 3 seconds.

Starts the fake Slack and a real `citypeers run` subprocess (HTTP mode, a temporary SQLite file), registers a
city with one signed command, then fires signed `/city show Brno` requests, CONCURRENCY at a time, and prints
the acknowledgement latency (HTTP round trip until ack) and the time until each reply reached the response_url.

    python bench/ack_latency.py [--requests 200] [--concurrency 20]
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
from tests.support.botprocess import BotProcess  # noqa: E402
from tests.support.fakeslack import FakeSlack, SlackSender  # noqa: E402

USER = "U0BENCH"
SLACK_LIMIT_MS = 3000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()

    with FakeSlack() as slack, tempfile.TemporaryDirectory(prefix="citypeers-bench-") as tmp:
        slack.set_user(USER, "bench")
        database_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        started = time.perf_counter()
        with BotProcess(slack, database_url, admins=USER, citypeers_log_level="WARNING") as bot:
            print(f"citypeers run healthy after {time.perf_counter() - started:.1f}s (port {bot.port})")
            return run_bench(slack, bot.sender, args.requests, args.concurrency)


def run_bench(slack: FakeSlack, sender: SlackSender, total: int, concurrency: int) -> int:
    registered = sender.command(USER, "/city register Brno country=CZ")
    (reply,) = slack.wait_for_response(registered.response_token, timeout=30)
    print(f"registered: {reply['text']}")

    results, sent_at, wall = fire(
        lambda: sender.command(USER, "/city show Brno"), lambda r: r.response_token, total, concurrency
    )

    tokens = {r.response_token for r in results}
    with contextlib.suppress(AssertionError):  # the replies that did arrive are counted below
        slack.wait_for(lambda: len({c.token for c in slack.calls("response")} & tokens) >= total, timeout=30)
    reply_ms = first_arrivals_ms(sent_at, ((c.token, c.at) for c in slack.calls("response")))

    ack_ms = sorted(r.elapsed * 1000 for r in results)
    statuses = sorted({r.status for r in results})
    print(f"{total} signed /city show requests, {concurrency} at a time, in {wall:.1f}s; HTTP statuses {statuses}")
    print(figures("ack latency ms:  ", ack_ms))
    if reply_ms:
        print(figures("reply latency ms:", reply_ms))
    late = sum(1 for ms in ack_ms if ms > SLACK_LIMIT_MS)
    print(f"replies at the response_url: {len(reply_ms)}/{total}; acks over Slack's 3 s: {late}")
    return 0 if statuses == [200] and len(reply_ms) == total and late == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
