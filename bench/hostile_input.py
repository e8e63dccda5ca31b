"""How long a hostile command takes to answer: a 100,000-character line for each family, and lines at the
4,000-character limit that are parsed all the way (one long word; hundreds of `key=` words that each get a
typo check). Everything goes through the real dispatcher and a real SQLite database, as an admin who
represents a city, so each line reaches the command itself.

    python bench/hostile_input.py [--runs 21] [--db URL]  (a PostgreSQL URL gets a temporary schema)
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stats import pct  # noqa: E402
from bot.app import build_services  # noqa: E402
from bot.config import load_settings  # noqa: E402
from core.clock import FakeClock  # noqa: E402
from core.grammar import MAX_LINE  # noqa: E402
from handlers.dispatch import handle  # noqa: E402
from handlers.types import Reply, Request, Services  # noqa: E402
from tests.support.databases import temporary_schema  # noqa: E402

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
USER = "bench"
HUGE = 100_000
# One command per family with text and options: the hostile text goes where the command's free text goes.
SHAPES = {
    "city": "register {} country=CZ population=1000",
    "match": "intro {} city=Brno again=yes",
    "goal": "add {} due=2027-01-01 track=tourism",
    "event": 'add {} start="2027-01-01 10:00" where=Brussels',
}


def ask(services: Services, family: str, text: str) -> Reply:
    return handle(services, Request(user_id=USER, user_name=USER, command=family, text=text))


def long_word(room: int) -> str:
    return "x" * room


def key_words(room: int) -> str:
    """Distinct `key=` words: each one not an option, each one compared with the options for a typo."""
    return "".join(f"k{i:04}= " for i in range(room // 7 + 1))[:room]


def fill(shape: str, length: int, filler: Callable[[int], str]) -> str:
    """`shape` with its text made by `filler`, so the whole text is `length` characters."""
    return shape.format(filler(length - len(shape.format(""))))


def median_ms(run: Callable[[], object], runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return pct(times, 50), times[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--db", help="a database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="citypeers-bench-"))
        url = args.db or f"sqlite:///{Path(tmp) / 'bench.db'}"
        if url.startswith("postgresql"):
            url = stack.enter_context(temporary_schema(url, prefix="bench"))  # a schema of its own, dropped after
        settings = load_settings(_env_file=None, database_url=url)
        services = build_services(settings, clock=FakeClock(NOW), first_user_is_admin=True)
        try:
            return run_bench(services, args.runs)
        finally:
            services.engine.dispose()


def run_bench(services: Services, runs: int) -> int:
    for line in ("city register Brno country=CZ", "city join Brno", f"city approve @{USER} Brno"):
        family, _, text = line.partition(" ")
        ask(services, family, text)
    cases = {
        f"{HUGE:,} characters, refused": (HUGE, long_word),
        f"{MAX_LINE:,}, one long word": (MAX_LINE, long_word),
        f"{MAX_LINE:,}, distinct `key=` words": (MAX_LINE, key_words),
    }
    print(f"median and max of {runs} runs, in ms; the reply's first words")
    print(f"{'':7}{'case':34}{'median':>8}{'max':>8}  reply")
    worst = 0.0
    for family, shape in SHAPES.items():
        for label, (length, filler) in cases.items():
            text = fill(shape, length, filler)
            assert len(text) == length, (family, label, len(text))
            reply = ask(services, family, text)
            median, most = median_ms(lambda f=family, t=text: ask(services, f, t), runs)
            worst = max(worst, median)
            print(f"/{family:6}{label:34}{median:8.2f}{most:8.2f}  {reply.plain()[:60]}")
    print(f"slowest median: {worst:.2f} ms")
    return 0 if worst < 100 else 1


if __name__ == "__main__":
    sys.exit(main())
