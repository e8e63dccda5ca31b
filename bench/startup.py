"""How fast does `citypeers` start? Wall time and peak RSS, each the median of several runs.

- `citypeers --help`;
- one scripted console command, `printf '/city tracks\\n' | citypeers console` (a database already at the newest
  schema, as on every start but the first);
- `citypeers run` (HTTP mode, against the fake Slack) until GET /healthz answers 200.

    python bench/startup.py [--runs 7] [--code DIR]

`--code` times another checkout of CityPeers (e.g. `git archive <commit> | tar -x -C DIR`), for before/after.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from the repo root: make `tests.support` importable

from tests.support.botprocess import SECRET, free_port  # noqa: E402
from tests.support.fakeslack import FakeSlack  # noqa: E402

# Runs `bot.cli` as `citypeers` does, and writes the process's own peak RSS (VmHWM) at exit. The kernel's
# ru_maxrss of a child would also count the memory of this benchmark, from which it was forked.
REPORT_PEAK = """
import atexit, os, runpy, sys
def report():
    with open("/proc/self/status") as status, open(os.environ["PEAK_FILE"], "w") as out:
        out.write(next(line.split()[1] for line in status if line.startswith("VmHWM:")))
atexit.register(report)
sys.argv = ["citypeers", *sys.argv[1:]]
runpy.run_module("bot.cli", run_name="__main__")
"""
CITYPEERS = [sys.executable, "-c", REPORT_PEAK]


def clean_env(**settings: str) -> dict[str, str]:
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CITYPEERS_", "DATABASE_URL"))}
    return {**kept, **settings}


def peak_rss(env: dict[str, str]) -> float:
    """The peak resident set the last process reported, MiB."""
    return int(Path(env["PEAK_FILE"]).read_text()) / 1024


def once_command(args: list[str], stdin: bytes, workdir: Path, env: dict[str, str]) -> tuple[float, float]:
    started = time.perf_counter()
    process = subprocess.Popen(
        args, cwd=workdir, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(stdin)
    process.stdin.close()
    output = process.stdout.read()
    process.wait()
    elapsed = time.perf_counter() - started
    assert process.returncode == 0, output
    return elapsed, peak_rss(env)


def once_run(workdir: Path, env: dict[str, str], port: int) -> tuple[float, float]:
    started = time.perf_counter()
    process = subprocess.Popen(
        [*CITYPEERS, "run"], cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    healthy = None
    while healthy is None and time.perf_counter() - started < 60:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                if response.status == 200:
                    healthy = time.perf_counter() - started
        except OSError:
            time.sleep(0.005)  # not listening yet
    process.terminate()  # citypeers run stops cleanly on SIGTERM, so the peak is reported
    process.wait()
    assert healthy is not None, "citypeers run did not become healthy"
    return healthy, peak_rss(env)


def measure(name: str, runs: int, once: Callable[[], tuple[float, float]]) -> None:
    once()  # warm the file cache (and, for the console, create the database)
    results = [once() for _ in range(runs)]
    times = sorted(elapsed for elapsed, _ in results)
    print(
        f"{name:<52} median {statistics.median(times) * 1000:6.0f} ms (min {times[0] * 1000:5.0f}, "
        f"max {times[-1] * 1000:5.0f}) · peak RSS median {statistics.median(rss for _, rss in results):5.0f} MiB"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout whose bot.cli is timed")
    args = parser.parse_args()
    code = str(args.code.resolve())
    with tempfile.TemporaryDirectory(prefix="citypeers-start-") as tmp, FakeSlack() as slack:
        workdir = Path(tmp)
        database = f"sqlite:///{workdir / 'start.db'}"
        peak_file = str(workdir / "peak")
        env = clean_env(DATABASE_URL=database, PYTHONPATH=code, PEAK_FILE=peak_file)
        measure("citypeers --help", args.runs, lambda: once_command([*CITYPEERS, "--help"], b"", workdir, env))
        measure(
            "printf '/city tracks\\n' | citypeers console",
            args.runs,
            lambda: once_command([*CITYPEERS, "console"], b"/city tracks\n", workdir, env),
        )
        port = free_port()
        run_env = clean_env(
            DATABASE_URL=database,
            PYTHONPATH=code,
            PEAK_FILE=peak_file,
            SLACK_BOT_TOKEN="xoxb-startup",
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=slack.api_url,
            HOST="127.0.0.1",
            PORT=str(port),
            CITYPEERS_LOG_LEVEL="WARNING",
        )
        measure("citypeers run until /healthz answers 200", args.runs, lambda: once_run(workdir, run_env, port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
