"""How long /match map takes on a programme of 500 cities (target < 3 s), and where the time goes.

A synthetic programme on a real database (SQLite by default): `--cities` cities imported through the CSV import,
five tracks; 2,000 introductions (a third from rounds, a third met), mostly between cities of one track, a few
across; 400 goals each naming one or two cities in with=; a twentieth of the cities with no tie at all. Then
`/match map since=…` through the real dispatcher as an expert: the first call in the process (it loads
matplotlib and rustworkx and builds the font cache's lookups) and the median and worst of `--runs` more; then the
same map in parts: reading the ties with the analysis, the PNG, and the SVG the dashboard embeds.

    python bench/network_map.py [--cities 500] [--introductions 2000] [--runs 7] [--database-url URL] [--out DIR]

`--out DIR` keeps the PNG and the SVG.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlmodel import select  # noqa: E402

from bot.app import build_services  # noqa: E402
from bot.config import load_settings  # noqa: E402
from core.clock import FakeClock  # noqa: E402
from handlers.city_import import import_cities  # noqa: E402
from handlers.dispatch import handle  # noqa: E402
from handlers.files.network import NetworkWords, network_map  # noqa: E402
from handlers.match import load_network, map_groups  # noqa: E402
from handlers.types import Request, Services  # noqa: E402
from storage import goal_queries  # noqa: E402
from storage import match_queries as mq  # noqa: E402
from storage.db import unit_of_work  # noqa: E402
from storage.models import City  # noqa: E402

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
SINCE = "2026-10-01"
TRACKS = ["tourism", "upskilling", "green-economy", "supply-chains", "public-administration"]


def ask(services: Services, user: str, line: str):  # type: ignore[no-untyped-def]
    command, _, text = line.lstrip("/").partition(" ")
    return handle(services, Request(user_id=user, user_name=user, command=command, text=text))


def populate(services: Services, cities: int, introductions: int, directory: Path, rng: random.Random) -> None:
    rows = [
        f"City {i:04d},{rng.choice(['PL', 'PT', 'IT', 'FI', 'CZ', 'ES'])},ICC,{TRACKS[i % 5]}" for i in range(cities)
    ]
    path = directory / "cities.csv"
    path.write_text("name,country,cohort,tracks\n" + "\n".join(rows) + "\n", encoding="utf-8")
    import_cities(services, path)
    with unit_of_work(services.engine) as session:
        ids = list(session.exec(select(City.id).order_by(City.id)))
        tied = ids[: int(len(ids) * 0.95)]  # the rest stay isolated
        by_track = [tied[t::5] for t in range(5)]
        match_round = mq.add_round(session=session, cohort_id=None, member_id=None, now=NOW - timedelta(days=200))
        for n in range(introductions):
            group = rng.choice(by_track)
            a = rng.choice(group)
            b = rng.choice(group if rng.random() < 0.85 else tied)
            if a == b:
                continue
            at = NOW - timedelta(days=rng.randrange(1, 300))
            intro = mq.add_introduction(session=session, city_id=a, other_city_id=b, member_id=None, reasons=[],
                                        now=at, followup_due_at=at + timedelta(days=14),
                                        round_id=match_round.id if n % 3 == 0 else None)  # fmt: skip
            if n % 3 == 1:
                mq.set_outcome(session=session, introduction_id=intro.id, city_id=a, met=True,  # type: ignore[arg-type]
                               outcome="joint-proposal", member_id=None, now=at)  # type: ignore[arg-type]  # fmt: skip
        for _ in range(400):
            group = rng.choice(by_track)
            city = rng.choice(group)
            partners = {c for c in rng.sample(group, 2) if c != city}
            at = NOW - timedelta(days=rng.randrange(1, 120))
            goal = goal_queries.add_goal(session=session, city_id=city, text="together", track_id=None,
                                         due_on=(at + timedelta(days=90)).date(), member_id=None, now=at)  # fmt: skip
            goal_queries.set_collaborators(session=session, goal_id=goal.id, city_ids=sorted(partners))  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cities", type=int, default=500)
    parser.add_argument("--introductions", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--database-url")
    parser.add_argument("--out", type=Path)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        url = options.database_url or f"sqlite:///{Path(scratch) / 'network.db'}"
        settings = load_settings(_env_file=None, database_url=url)
        services = build_services(settings, clock=FakeClock(NOW), first_user_is_admin=True)
        ask(services, "ana", "/city tracks")  # the first user: the admin
        ask(services, "ana", "/city role @eve expert")
        began = time.perf_counter()
        populate(services, options.cities, options.introductions, Path(scratch), random.Random(16))
        print(f"populated {options.cities} cities in {time.perf_counter() - began:.1f} s ({url.split(':')[0]})")

        line = f"/match map since={SINCE}"
        began = time.perf_counter()
        reply = ask(services, "eve", line)
        first = time.perf_counter() - began
        assert not reply.error, reply.plain()
        timings = []
        for _ in range(options.runs):
            began = time.perf_counter()
            again = ask(services, "eve", line)
            timings.append(time.perf_counter() - began)
            assert again.files[0].content == reply.files[0].content, "the same data drew other bytes"
        print(reply.plain().splitlines()[0])
        median, worst = statistics.median(timings), max(timings)
        print(f"/match map, {options.cities} cities: first in the process {first:.2f} s; then median {median:.2f} s, "
              f"worst {worst:.2f} s over {options.runs} (target < 3 s)")  # fmt: skip

        with unit_of_work(services.engine) as session:
            began = time.perf_counter()
            since = datetime.fromisoformat(SINCE).replace(tzinfo=UTC)
            network = load_network(session, track_order=TRACKS, since=since)
            loaded = time.perf_counter() - began
        ties_total = sum(network.ties.values())
        began = time.perf_counter()
        groups, order = map_groups(network, by_country=False)
        words = NetworkWords("tie", "bridge", f"new since {SINCE}", "articulation city", f"joined since {SINCE}")
        png = network_map(network, title="bench", words=words, groups=groups, group_order=order)
        drawn_png = time.perf_counter() - began
        began = time.perf_counter()
        titles = {c.id: f"{c.name}: {network.strength[c.id]}" for c in network.cities}
        svg = network_map(network, title="bench", words=words, groups=groups, group_order=order, fmt="svg",
                          titles=titles)  # fmt: skip
        drawn_svg = time.perf_counter() - began
        sizes = f"PNG {drawn_png:.2f} s ({len(png) // 1024} KiB); SVG {drawn_svg:.2f} s ({len(svg) // 1024} KiB)"
        print(f"in parts: reading {ties_total} ties and analysing {len(network.edges)} edges {loaded:.2f} s; {sizes}")
        print(f"isolated {len(network.isolated)}, clusters {len(network.clusters)}, bridges {len(network.bridges)}, "
              f"articulation cities {len(network.articulation)}, new edges {network.new_edges}")  # fmt: skip
        if options.out:
            options.out.mkdir(parents=True, exist_ok=True)
            (options.out / f"network-map-{options.cities}.png").write_bytes(reply.files[0].content)
            (options.out / f"network-map-{options.cities}.svg").write_bytes(svg)
            print(f"saved in {options.out}")
        services.engine.dispose()


if __name__ == "__main__":
    main()
