"""How fast does `citypeers run` acknowledge slash commands? Slack gives up after 3 seconds.

Starts the fake Slack and a real `citypeers run` subprocess (HTTP mode, a temporary SQLite file), registers a
city with one signed command, then fires signed `/city show Brno` requests, CONCURRENCY at a time, and prints
the acknowledgement latency (HTTP round trip until ack) and the time until each reply reached the response_url.

    python bench/ack_latency.py [--requests 200] [--concurrency 20]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from the repo root: make `tests.support` importable

from tests.support.fakeslack import FakeSlack, Sent, SlackSender  # noqa: E402

SECRET = "bench-signing-secret"
USER = "U0BENCH"
SLACK_LIMIT_MS = 3000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()

    with FakeSlack() as slack, tempfile.TemporaryDirectory(prefix="citypeers-bench-") as tmp:
        slack.set_user(USER, "bench")
        port = free_port()
        log_path = Path(tmp) / "citypeers.log"
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_APP_TOKEN": "",  # HTTP mode even if the caller's environment has an app token
            "SLACK_API_URL": slack.api_url,
            "DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.db'}",
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "CITYPEERS_ADMINS": USER,
            "CITYPEERS_LOG_LEVEL": "WARNING",
        }
        with log_path.open("w") as log_file:
            # cwd is the temporary directory, so a developer's .env is not read.
            bot = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "run"], cwd=tmp, env=env, stdout=log_file, stderr=subprocess.STDOUT
            )
            try:
                return run_bench(slack, bot, port, args.requests, args.concurrency, log_path)
            finally:
                stop(bot)


def run_bench(
    slack: FakeSlack, bot: subprocess.Popen[bytes], port: int, total: int, concurrency: int, log: Path
) -> int:
    sender = SlackSender(f"http://127.0.0.1:{port}", SECRET, slack)
    started = time.perf_counter()
    if not wait_healthy(sender, bot):
        print(f"citypeers run did not become healthy; its log:\n{log.read_text()[-3000:]}", file=sys.stderr)
        return 1
    print(f"citypeers run healthy after {time.perf_counter() - started:.1f}s (port {port})")

    registered = sender.command(USER, "/city register Brno country=CZ")
    (reply,) = slack.wait_for_response(registered.response_token, timeout=30)
    print(f"registered: {reply['text']}")

    sent_at: dict[str, float] = {}

    def show(_n: int) -> Sent:
        start = time.monotonic()
        result = sender.command(USER, "/city show Brno")
        sent_at[result.response_token] = start
        return result

    begun = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(show, range(total)))
    wall = time.perf_counter() - begun

    tokens = {r.response_token for r in results}
    with contextlib.suppress(AssertionError):  # the replies that did arrive are counted below
        slack.wait_for(lambda: len({c.token for c in slack.calls("response")} & tokens) >= total, timeout=30)
    first_reply: dict[str, float] = {}
    for call in slack.calls("response"):
        first_reply.setdefault(call.token, call.at)
    reply_ms = sorted((first_reply[t] - sent_at[t]) * 1000 for t in tokens if t in first_reply)

    ack_ms = sorted(r.elapsed * 1000 for r in results)
    statuses = sorted({r.status for r in results})
    print(f"{total} signed /city show requests, {concurrency} at a time, in {wall:.1f}s; HTTP statuses {statuses}")
    print(figures("ack latency ms:  ", ack_ms))
    if reply_ms:
        print(figures("reply latency ms:", reply_ms))
    late = sum(1 for ms in ack_ms if ms > SLACK_LIMIT_MS)
    print(f"replies at the response_url: {len(reply_ms)}/{total}; acks over Slack's 3 s: {late}")
    return 0 if statuses == [200] and len(reply_ms) == total and late == 0 else 1


def figures(label: str, sorted_ms: list[float]) -> str:
    parts = [f"p{p} {pct(sorted_ms, p):7.1f}" for p in (50, 95, 99)]
    return f"{label} {'  '.join(parts)}  max {sorted_ms[-1]:7.1f}"


def pct(sorted_ms: list[float], percentile: int) -> float:
    """Nearest-rank percentile of an already sorted list."""
    rank = max(1, round(percentile / 100 * len(sorted_ms)))
    return sorted_ms[rank - 1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_healthy(sender: SlackSender, bot: subprocess.Popen[bytes], timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and bot.poll() is None:
        try:
            if sender.get("/healthz").status == 200:
                return True
        except OSError:
            pass  # not listening yet
        time.sleep(0.1)  # polling a process that is starting up; nothing here is being timed
    return False


def stop(bot: subprocess.Popen[bytes]) -> None:
    if bot.poll() is None:
        bot.send_signal(signal.SIGTERM)
        try:
            code = bot.wait(timeout=20)
            print(f"citypeers run stopped on SIGTERM with exit code {code}")
        except subprocess.TimeoutExpired:
            bot.kill()
            bot.wait()
            print("citypeers run did not stop within 20 s of SIGTERM; killed")


if __name__ == "__main__":
    sys.exit(main())
