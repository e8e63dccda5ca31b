"""How fast /match answers and a round pairs, on synthetic programmes of 100, 1,000 and 10,000 cities.

Each city has up to 8 tracks, 3 offers and 3 needs drawn from an urban-policy vocabulary. Everything
goes through the real handler and a real SQLite database (`/match top` as a rep, `/match round` as an
organiser), except the index-building figures, which time `core.match_index` alone: the build (and one
query, which settles the text matrices), then what the built index holds (memory still allocated once it is
built) and the peak allocated while building, both by tracemalloc in a second build. After each size, the
process's peak resident memory so far (getrusage ru_maxrss): the 10,000 line is the run's peak. That process
also populated the databases and traced a build, so last a fresh process does only what `citypeers run` would
with the largest database: start the services, answer one `/match` (which builds the index) and run the round;
its peak resident memory is the bot's own.

Every city has a representative, so a round pairs all of them (a round leaves out cities nobody represents).
Rounds above `EXACT_ROUND_LIMIT` cities are matched by parts, not exactly. Then, on `--quality-size` cities
(small enough for exact matching), the same round's total weight matched exactly and by parts, with the
real part size and with parts scaled down so there are as many as a 10,000-city round has; the weights,
the exact and the approximate run are measured after the run's peak memory is printed. Last, on
`--history-size` cities after eight earlier rounds and with one city in twenty that met nine in ten others, the
round as run and by parts against exact matching over every allowed pair with the most pairs first (built
explicitly, about n^2/2 pairs; the round never builds it): the number of pairs (which must be the most) and the
weight's share of the best.

    python bench/match_speed.py [--sizes 100,1000,10000] [--asks 200] [--quality-size 3000] [--history-size 800]
        [--db-dir DIR] [--code DIR]

`--code` runs another checkout of CityPeers (e.g. `git archive <commit> | tar -x -C DIR`), for before/after.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sqlalchemy import insert
from sqlmodel import select

ROOT = Path(__file__).resolve().parent.parent
if "--code" in sys.argv[:-1]:  # before any CityPeers import: every module comes from that checkout
    ROOT = Path(sys.argv[sys.argv.index("--code") + 1]).resolve()
sys.path.insert(0, str(ROOT))

import core.matching as matching  # noqa: E402
from bench.stats import pct  # noqa: E402
from bot.app import build_services  # noqa: E402
from bot.config import load_settings  # noqa: E402
from core.clock import FakeClock  # noqa: E402
from core.matching import MatchIndex, Profile  # noqa: E402
from handlers.dispatch import handle  # noqa: E402
from handlers.match import load_profiles  # noqa: E402
from handlers.types import Request, Services  # noqa: E402
from storage.db import unit_of_work  # noqa: E402
from storage.models import City, CityInterest, CityItem, Cohort, Member, Track  # noqa: E402

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
TRACKS = [f"track-{i:02}=Track {i:02}" for i in range(24)]
VERBS = ["open", "shared", "digital", "green", "participatory", "circular", "smart", "low-carbon", "inclusive"]
TOPICS = ["data platform", "mobility plan", "energy renovation", "tourism strategy", "skills academy", "logistics hub",
          "procurement", "budgeting", "heat network", "bike sharing", "flood defence", "housing fund",
          "start-up incubator", "air quality sensors", "school meals", "care services"]  # fmt: skip
FOR = ["for citizens", "for SMEs", "in the old town", "for schools", "with universities", "at port areas", ""]


def phrase(rng: random.Random) -> str:
    return " ".join(p for p in (rng.choice(VERBS), rng.choice(TOPICS), rng.choice(FOR)) if p)


def synthetic_profiles(size: int, rng: random.Random) -> list[Profile]:
    """The same programme as `populate`, in memory: for the quality figures, which need no database."""
    tracks = [t.split("=")[0] for t in TRACKS]
    return [
        Profile(city_id=i, name=f"City {i:05}", mentor=rng.random() < 0.1,
                tracks=frozenset(rng.sample(tracks, rng.randint(1, 8))),
                offers=tuple(phrase(rng) for _ in range(rng.randint(0, 3))),
                needs=tuple(phrase(rng) for _ in range(rng.randint(0, 3))))
        for i in range(1, size + 1)
    ]  # fmt: skip


def populate(services: Services, size: int, rng: random.Random) -> list[int]:
    """`size` cities in one cohort, with tracks, offers, needs and a representative each; returns the ids of the
    200 cities whose representatives (rep0 … rep199) ask for matches."""
    with unit_of_work(services.engine) as session:
        cohort = Cohort(name="Synthetic", name_key="synthetic", created_at=NOW)
        session.add(cohort)
        session.flush()
        track_ids = list(session.exec(select(Track.id).order_by(Track.id)))
        cities = [
            {"name": f"City {i:05}", "name_key": f"city {i:05}", "country": "EU"[:2], "mentor": rng.random() < 0.1,
             "cohort_id": cohort.id, "created_at": NOW}
            for i in range(size)
        ]  # fmt: skip
        session.execute(insert(City), cities)
        ids = list(session.exec(select(City.id).order_by(City.id)))
        interests, items = [], []
        for city_id in ids:
            for track_id in rng.sample(track_ids, rng.randint(1, 8)):
                interests.append({"city_id": city_id, "track_id": track_id})
            for kind in ("offer", "need"):
                for _ in range(rng.randint(0, 3)):
                    items.append({"city_id": city_id, "kind": kind, "text": phrase(rng), "created_at": NOW})
        session.execute(insert(CityInterest), interests)
        session.execute(insert(CityItem), items)
        askers = rng.sample(ids, min(200, len(ids)))
        members = [
            {"external_id": f"rep{i}", "display_name": f"rep{i}", "role": "rep", "city_id": city_id, "created_at": NOW}
            for i, city_id in enumerate(askers)
        ]
        # every other city has a representative too: a round pairs only cities someone can be introduced for
        others = sorted(set(ids) - set(askers))
        members += [
            {"external_id": f"m{c}", "display_name": f"m{c}", "role": "rep", "city_id": c, "created_at": NOW}
            for c in others
        ]
        members.append({"external_id": "organiser", "display_name": "organiser", "role": "organiser",
                        "city_id": None, "created_at": NOW})  # fmt: skip
        session.execute(insert(Member), members)
    return askers


def ask(services: Services, user: str, line: str) -> tuple[float, str]:
    command, _, text = line.lstrip("/").partition(" ")
    started = time.perf_counter()
    reply = handle(services, Request(user_id=user, user_name=user, command=command, text=text))
    return (time.perf_counter() - started) * 1000, reply.plain()


def bench_size(size: int, asks: int, directory: Path, rng: random.Random) -> None:
    url = f"sqlite:///{directory / f'speed-{size}.db'}"
    settings = load_settings(_env_file=None, database_url=url, citypeers_tracks=";".join(TRACKS))
    services = build_services(settings, clock=FakeClock(NOW))
    askers = populate(services, size, rng)

    with unit_of_work(services.engine) as session:
        profiles = load_profiles(session)
    started = time.perf_counter()
    MatchIndex(profiles).matches(profiles[0].city_id)  # build and one query (the text matrices settle lazily)
    build_ms = (time.perf_counter() - started) * 1000
    tracemalloc.start()
    index = MatchIndex(profiles)
    index.matches(profiles[0].city_id)
    index_held, index_peak = (m / 2**20 for m in tracemalloc.get_traced_memory())
    tracemalloc.stop()
    del index

    first_ms, _ = ask(services, "rep0", "/match top")  # loads every profile and builds the shared index
    times = []
    for i in range(asks):
        elapsed, text = ask(services, f"rep{i % len(askers)}", "/match top")
        assert not text.startswith("Only") and "Expected" not in text, text
        times.append(elapsed)
    ask(services, "rep1", "/city offer open data platform for citizens and researchers")
    after_change_ms, _ = ask(services, "rep0", "/match top")
    print(
        f"{size:>6} cities | index build {build_ms:7.0f} ms, holds {index_held:5.1f} MiB (peak {index_peak:5.1f}) | "
        f"first /match {first_ms:6.0f} ms | "
        f"/match p50 {statistics.median(times):5.1f} ms  p95 {pct(sorted(times), 95):5.1f} ms | "
        f"first /match after an edit {after_change_ms:5.1f} ms"
    )
    cpu = time.process_time()
    elapsed, text = ask(services, "organiser", "/match round cohort=Synthetic dry=yes")
    cpu = time.process_time() - cpu  # this process's own CPU time: what a busy machine's other jobs do not add
    head, digest = text.splitlines()[0], hashlib.sha256(text.encode()).hexdigest()[:12]  # same pairs, same digest
    how = "exact" if size <= getattr(matching, "EXACT_ROUND_LIMIT", size) else "by parts"
    print(
        f"{'':>6}        | /match round of {size} cities (dry run, via the handler, {how}): {elapsed / 1000:.2f} s "
        f"(CPU {cpu:.2f} s, load average {os.getloadavg()[0]:.1f}) · {head} (reply {digest})"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'':>6}        | peak resident memory of the process so far (ru_maxrss): {peak:.0f} MiB", flush=True)
    services.engine.dispose()


def own_peak() -> float:
    """This process's peak resident memory in MiB: Linux's VmHWM, since a child's ru_maxrss starts at its parent's."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1]) / 1024


def serve_peak(url: str) -> None:
    """In this (fresh) process: what a bot does with the database at `url`; prints its peak resident memory."""
    settings = load_settings(_env_file=None, database_url=url, citypeers_tracks=";".join(TRACKS))
    services = build_services(settings, clock=FakeClock(NOW))
    started = own_peak()
    ask(services, "rep0", "/match top")
    after_match = own_peak()
    elapsed, text = ask(services, "organiser", "/match round cohort=Synthetic dry=yes")
    peak = own_peak()
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]  # the same as the size's line above
    print(
        f"a fresh process on that database: started {started:.0f} MiB, after the first /match {after_match:.0f} MiB, "
        f"after the round ({elapsed / 1000:.1f} s, reply {digest}) peak {peak:.0f} MiB"
    )


def plan_weight(plan: matching.RoundPlan, weights: dict[tuple[int, int], float]) -> float:
    """The total weight of a round's groups: every pair within a group that has a weight."""
    return sum(weights.get((a, b), 0.0) for group in plan.groups for a in group for b in group if a < b)


def bench_quality(size: int, rng: random.Random) -> None:
    """A round of `size` cities matched exactly and by parts: the approximation's share of the exact total."""
    if not hasattr(MatchIndex, "round_edges"):
        print("approximate rounds: this checkout matches every round exactly")
        return
    profiles = synthetic_profiles(size, rng)
    ids = [p.city_id for p in profiles]
    edges = MatchIndex(profiles).round_edges(ids)
    weights = dict(zip(zip(edges.a.tolist(), edges.b.tolist(), strict=True), edges.w.tolist(), strict=True))
    started = time.perf_counter()
    exact = plan_weight(matching.plan_round(ids, edges, exact_limit=size), weights)
    exact_s = time.perf_counter() - started
    print(f"round quality, {size} cities, {len(edges)} weighted pairs: exact total {exact:.1f} in {exact_s:.2f} s")
    real = matching.ROUND_PART_SIZE
    scaled = max(2, real * size // 10_000)  # as many parts as 10,000 cities make with the real size
    for part_size, label in ((real, "the real part size"), (scaled, "parts as many as at 10,000 cities")):
        started = time.perf_counter()
        plan = matching.plan_round(ids, edges, exact_limit=0, part_size=part_size)
        elapsed = time.perf_counter() - started
        total = plan_weight(plan, weights)
        print(
            f"  by parts of <= {part_size} ({label}, {-(-size // part_size)}+ parts): total {total:.1f} in "
            f"{elapsed:.2f} s = {100 * total / exact:.2f} % of exact"
        )


def pairs_weight(groups: tuple[tuple[int, ...], ...], weights: dict[tuple[int, int], float]) -> float:
    """The weight of a round's matching: each group's pair (a trio's first two), not the trio's extra ties."""
    return sum(weights.get((min(g[:2]), max(g[:2])), 0.0) for g in groups)


def bench_history(size: int, rng: random.Random) -> None:
    """A round after a history: the most pairs and the weight, against exact matching over every allowed pair.

    Eight earlier rounds' pairs have met, and one city in twenty has met nine in ten of the others, so the
    weighted matching alone would leave cities single that the most pairs must place. The reference builds
    every allowed pair (about size^2 / 2) and matches them exactly with the most pairs first (rustworkx);
    the round never builds that graph.
    """
    from core import rounds

    profiles = synthetic_profiles(size, rng)
    ids = [p.city_id for p in profiles]
    edges = MatchIndex(profiles).round_edges(ids)
    weights = dict(zip(zip(edges.a.tolist(), edges.b.tolist(), strict=True), edges.w.tolist(), strict=True))
    met: set[frozenset[int]] = set()
    for _ in range(8):
        groups = matching.plan_round(ids, edges, met=met).groups
        met |= {frozenset(p) for g in groups for p in itertools.combinations(g, 2)}
    for veteran in rng.sample(ids, size // 20):
        met |= {frozenset((veteran, o)) for o in rng.sample(ids, size * 9 // 10) if o != veteran}
    index = {c: i for i, c in enumerate(ids)}
    graph = rounds._Allowed(size, {(index[min(p)], index[max(p)]) for p in met})
    a = np.asarray([index[x] for x in edges.a.tolist()])
    b = np.asarray([index[x] for x in edges.b.tolist()])
    w = np.maximum(1, np.round(edges.w.astype(np.float64) * 1000)).astype(np.int64)
    keep = ~graph.forbidden_pairs(a, b)
    started = time.perf_counter()
    mate = rounds._max_weight_full(size, graph, rounds._PairWeights(size, a[keep], b[keep], w[keep]))
    reference_s = time.perf_counter() - started
    most = int((mate >= 0).sum()) // 2
    best = sum(weights.get((min(ids[x], ids[int(mate[x])]), max(ids[x], ids[int(mate[x])])), 0.0)
               for x in range(size) if mate[x] > x)  # fmt: skip
    print(
        f"round after a history, {size} cities, {len(met)} pairs met: exact over every allowed pair "
        f"{most} pairs, weight {best:.1f}, in {reference_s:.1f} s"
    )
    scaled = max(2, rounds.ROUND_PART_SIZE * size // 10_000)
    for label, options in (
        ("the round as run (exact weighted matching)", {"full_limit": 0}),
        (f"by parts of <= {scaled} (as many parts as at 10,000 cities)", {"exact_limit": 0, "part_size": scaled}),
    ):
        started = time.perf_counter()
        plan = matching.plan_round(ids, edges, met=met, **options)
        elapsed = time.perf_counter() - started
        total = pairs_weight(plan.groups, weights)
        placed = sum(len(g) for g in plan.groups)
        print(
            f"  {label}: {len(plan.groups)} pairs ({'the most' if len(plan.groups) == most else 'NOT the most'}), "
            f"{placed} cities placed, {len(plan.left_out)} left out, weight {total:.1f} = "
            f"{100 * total / best:.2f} % of exact, {'proven exact' if plan.exact else 'not proven exact'}, "
            f"in {elapsed:.2f} s"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--asks", type=int, default=200)
    parser.add_argument("--quality-size", type=int, default=3000, help="cities for exact vs by parts (0: skip)")
    parser.add_argument("--history-size", type=int, default=800, help="cities for a round after a history (0: skip)")
    parser.add_argument("--db-dir", help="where the SQLite files go (default: a temporary directory)")
    parser.add_argument("--code", help="another checkout of CityPeers to run (default: this one)")
    parser.add_argument("--serve-peak", metavar="URL", help=argparse.SUPPRESS)  # the fresh process's part
    args = parser.parse_args()
    if args.serve_peak:
        serve_peak(args.serve_peak)
        return 0
    rng = random.Random(2020)
    with tempfile.TemporaryDirectory() as temporary:
        directory = Path(args.db_dir or temporary)
        sizes = [int(s) for s in args.sizes.split(",")]
        for size in sizes:
            bench_size(size, args.asks, directory, rng)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak resident memory of the whole run: {peak:.0f} MiB", flush=True)
        largest = f"sqlite:///{directory / f'speed-{max(sizes)}.db'}"
        command = [sys.executable, __file__, "--serve-peak", largest]
        if args.code:
            command += ["--code", args.code]
        subprocess.run(command, check=True)
    if args.quality_size:
        bench_quality(args.quality_size, random.Random(2021))
    if args.history_size:
        bench_history(args.history_size, random.Random(2022))
    return 0


if __name__ == "__main__":
    sys.exit(main())
