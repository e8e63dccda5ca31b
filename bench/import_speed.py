"""How fast does `citypeers import cities` load a programme? Rows per second at 1,000 and 10,000 rows.

A synthetic CSV (unique names, the five ICC tracks, up to 3 offers and 3 needs, a few cohorts, a few mentor
cities) is imported through the command line's own path (`import_cities`, one transaction) into a fresh
database: SQLite (a temporary file) and PostgreSQL (a temporary schema).

    python bench/import_speed.py [--rows 1000,10000] [--database sqlite|postgresql|both] [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from the repo root: make `tests.support` importable

from bot.app import build_services  # noqa: E402
from bot.config import load_settings  # noqa: E402
from core.clock import FakeClock  # noqa: E402
from core.tracks import ICC_TRACKS  # noqa: E402
from handlers.city_import import import_cities  # noqa: E402
from storage.db import unit_of_work  # noqa: E402
from storage.queries import get_city_by_name  # noqa: E402
from tests.support.databases import temporary_schema  # noqa: E402

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
COUNTRIES = ["AT", "BE", "CZ", "DE", "DK", "ES", "FI", "FR", "GR", "IE", "IT", "LT", "NL", "PL", "PT", "SE"]
VERBS = ["open", "shared", "digital", "green", "participatory", "circular", "smart", "low-carbon", "inclusive"]
TOPICS = ["data platform", "mobility plan", "energy renovation", "tourism strategy", "skills academy",
          "logistics hub", "procurement", "budgeting", "heat network", "bike sharing", "flood defence"]  # fmt: skip


def phrase(rng: random.Random) -> str:
    return f"{rng.choice(VERBS)} {rng.choice(TOPICS)}"


def write_csv(path: Path, rows: int, rng: random.Random) -> None:
    tracks = [part.split("=")[0] for part in ICC_TRACKS.split(";")]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "country", "population", "cohort", "mentor", "tracks", "offers", "needs"])
        for i in range(rows):
            writer.writerow(
                [
                    f"Città {i:05} Ł",
                    rng.choice(COUNTRIES),
                    rng.choice(["", str(rng.randint(20_000, 2_000_000))]),
                    f"Cohort {i % 7}",
                    "yes" if rng.random() < 0.1 else "",
                    ";".join(rng.sample(tracks, rng.randint(1, 4))),
                    ";".join(phrase(rng) for _ in range(rng.randint(0, 3))),
                    ";".join(phrase(rng) for _ in range(rng.randint(0, 3))),
                ]
            )


def import_once(database_url: str, csv_path: Path, rows: int) -> float:
    settings = load_settings(_env_file=None, database_url=database_url)
    services = build_services(settings, clock=FakeClock(NOW))
    try:
        started = time.perf_counter()
        result = import_cities(services, csv_path)
        elapsed = time.perf_counter() - started
        assert result.cities == rows, result.summary()
        with unit_of_work(services.engine) as session:
            assert get_city_by_name(session=session, name=f"Città {rows - 1:05} Ł") is not None
        return elapsed
    finally:
        services.engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="1000,10000")
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--postgres-url", default=POSTGRES)
    args = parser.parse_args()
    databases = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    with tempfile.TemporaryDirectory(prefix="citypeers-import-") as tmp:
        for rows in (int(part) for part in args.rows.split(",")):
            csv_path = Path(tmp) / f"cities-{rows}.csv"
            write_csv(csv_path, rows, random.Random(rows))
            for database in databases:
                if database == "sqlite":
                    elapsed = import_once(f"sqlite:///{Path(tmp) / f'import-{rows}.db'}", csv_path, rows)
                else:
                    with temporary_schema(args.postgres_url, prefix="bench_import") as url:
                        elapsed = import_once(url, csv_path, rows)
                print(f"{rows:>6} rows · {database:<10} {elapsed:7.2f} s · {rows / elapsed:8,.0f} rows/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
