"""How fast are the web dashboard's pages at programme scale, and what do they look like?

Writes a synthetic programme straight into a database (500 cities in five cohorts, 5,000 goals each with one to
six history entries over six months, 2,000 introductions of which some came from rounds and some were met, 20
events with RSVPs), starts a real `citypeers run` on it (against the fake Slack), and asks each page REQUESTS
times, one at a time, over HTTP as an expert (the events page as an organiser too; the network whole, one cohort,
the city with most goals and its neighbours two ties away, and new ties in the last thirty days): p50/p95/p99 per
page. Then takes a full-page screenshot of each page in the first browser found (chromium, Chrome or Playwright's
own: tests/support/browser.py): the overview with its twelve-week chart and a small chart per cohort and track,
the goals, that city with its goals on a timeline, the network whole, for one cohort, around that city and since a
day, the events.

    python bench/dashboard.py [--cities 500] [--goals 5000] [--introductions 2000] [--requests 60]
                              [--database sqlite|postgresql] [--screenshots /tmp/citypeers-dashboard]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from the repo root: make `tests.support` importable

from sqlalchemy import insert  # noqa: E402
from sqlmodel import select  # noqa: E402

from bench.stats import figures, pct  # noqa: E402
from handlers.dashboard import token_hash  # noqa: E402
from storage.db import make_engine, unit_of_work, upgrade  # noqa: E402
from storage.models import (  # noqa: E402
    City,
    CityInterest,
    Cohort,
    DashboardLink,
    Event,
    Goal,
    GoalCollaborator,
    GoalUpdate,
    Introduction,
    IntroductionOutcome,
    MatchRound,
    Member,
    Rsvp,
    Track,
    name_key,
)
from tests.support.botprocess import BotProcess  # noqa: E402
from tests.support.fakeslack import FakeSlack  # noqa: E402

EXPERT_TOKEN = "benchExpertToken_0123456789abcdef"
SINCE = (datetime.now(UTC) - timedelta(days=30)).date().isoformat()  # the network's "new since" day
ORGANISER_TOKEN = "benchOrganiserToken_0123456789ab"
TRACKS = (
    ("green-economy", "Green economy and local green deals"),
    ("public-administration", "Citizen participation and digitisation of public administration"),
    ("upskilling", "Upskilling and reskilling"),
    ("supply-chains", "Supply chains, logistics and the economics of mobility"),
    ("tourism", "Green and digital transition in tourism"),
)
COHORTS = ("ICC 2025", "ICC 2026", "Mission A", "Mission B", "Eurocities")
COUNTRIES = ("AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE")
COUNTRIES += ("IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "NO", "IS", "TR")
SYLLABLES = ("al", "bra", "ce", "do", "en", "fa", "gri", "ho", "is", "ka", "lu", "mo", "no", "por", "ri", "sa", "to")
STATUSES = ("on-track", "at-risk", "done", "dropped")
OUTCOMES = ("shared-practice", "joint-proposal", "site-visit", "nothing-yet")


def city_name(index: int, rng: random.Random) -> str:
    return ("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))) + f" {index}").capitalize()


def seed(url: str, *, cities: int, goals: int, introductions: int, now: datetime) -> None:
    rng = random.Random(2026)
    engine = make_engine(url)
    upgrade(engine)

    with unit_of_work(engine) as session:
        run = session.execute
        run(insert(Track), [{"key": k, "name": n, "active": True} for k, n in TRACKS])
        run(insert(Cohort), [{"name": n, "name_key": name_key(n), "created_at": now} for n in COHORTS])
        track_ids = [t.id for t in session.exec(select(Track).order_by(Track.id))]
        cohort_ids = [c.id for c in session.exec(select(Cohort).order_by(Cohort.id))]
        names = [city_name(i, rng) for i in range(cities)]
        run(
            insert(City),
            [
                {
                    "name": name,
                    "name_key": name_key(name),
                    "country": COUNTRIES[i % len(COUNTRIES)],
                    "population": rng.randint(20_000, 2_000_000),
                    "mentor": i % 17 == 0,
                    "cohort_id": cohort_ids[i % len(cohort_ids)],
                    "created_at": now - timedelta(days=400),
                }
                for i, name in enumerate(names)
            ],
        )
        city_ids = [c.id for c in session.exec(select(City).order_by(City.id))]
        run(
            insert(CityInterest),
            [
                {"city_id": city_id, "track_id": track_id}
                for city_id in city_ids
                for track_id in rng.sample(track_ids, rng.randint(1, 3))
            ],
        )
        members = [
            {"external_id": f"slack:UREP{i:05d}", "display_name": f"rep{i}", "role": "rep", "city_id": city_id}
            for i, city_id in enumerate(c for c in city_ids for _ in range(1 + c % 2) if c % 10 != 3)
        ]
        members += [
            {"external_id": f"slack:UEXP{i}", "display_name": f"expert{i}", "role": "expert"} for i in range(20)
        ]
        members += [{"external_id": f"slack:UORG{i}", "display_name": f"org{i}", "role": "organiser"} for i in range(5)]
        run(insert(Member), [{**m, "created_at": now - timedelta(days=300)} for m in members])
        member_ids = {m.external_id: m.id for m in session.exec(select(Member))}
        rep_ids = [member_ids[m["external_id"]] for m in members if m["role"] == "rep"]
        goal_cities = [c for c in city_ids if c % 10 != 7]  # a tenth of the cities set no goal
        goal_rows = []
        histories = []
        for index in range(goals):
            set_at = now - timedelta(days=rng.randint(1, 180), hours=rng.randint(0, 23))
            steps = sorted(set_at + timedelta(days=rng.uniform(1, max(2, (now - set_at).days))) for _ in range(5))
            steps = [s for s in steps[: rng.randint(0, 5)] if s < now]
            statuses = ["new"] + [rng.choice(STATUSES[:2]) for _ in steps]
            if steps and rng.random() < 0.3:
                statuses[-1] = rng.choice(STATUSES[2:])
            due = set_at.date() + timedelta(days=91 + rng.randint(-20, 20))
            goal_rows.append(
                {
                    "city_id": rng.choice(goal_cities),
                    "text": f"Goal {index}: " + " ".join(rng.choice(SYLLABLES) * 2 for _ in range(rng.randint(4, 12))),
                    "track_id": rng.choice(track_ids),
                    "due_on": due,
                    "status": statuses[-1],
                    "created_at": set_at,
                    "updated_at": steps[-1] if steps else set_at,
                    "closed_at": steps[-1] if statuses[-1] in ("done", "dropped") else None,
                }
            )
            histories.append(list(zip(statuses, [set_at, *steps], strict=True)))
        run(insert(Goal), goal_rows)
        goal_ids = [g.id for g in session.exec(select(Goal).order_by(Goal.id))]
        run(
            insert(GoalUpdate),
            [
                {
                    "goal_id": goal_id,
                    "status": status,
                    "note": None if status == "new" else rng.choice((None, "on plan", "waiting for funding")),
                    "created_at": when,
                }
                for goal_id, history in zip(goal_ids, histories, strict=True)
                for status, when in history
            ],
        )
        run(
            insert(GoalCollaborator),
            list(
                {
                    (goal_id, partner): {"goal_id": goal_id, "city_id": partner}
                    for goal_id in rng.sample(goal_ids, goals // 5)
                    for partner in rng.sample(city_ids, rng.randint(1, 2))
                }.values()
            ),
        )
        run(insert(MatchRound), [{"cohort_id": c, "created_at": now - timedelta(days=60)} for c in cohort_ids])
        round_ids = [r.id for r in session.exec(select(MatchRound))]
        pairs: set[tuple[int, int]] = set()
        while len(pairs) < introductions:
            a, b = rng.sample(city_ids, 2)
            pairs.add((min(a, b), max(a, b)))
        run(
            insert(Introduction),
            [
                {
                    "city_a_id": a,
                    "city_b_id": b,
                    "round_id": rng.choice(round_ids) if rng.random() < 0.4 else None,
                    "reasons": [],
                    "created_at": (made := now - timedelta(days=rng.randint(1, 200))),
                    "followup_due_at": made + timedelta(days=21),
                }
                for a, b in sorted(pairs)
            ],
        )
        answered = [
            {
                "introduction_id": intro.id,
                "city_id": intro.city_a_id,
                "met": rng.random() < 0.7,
                "outcome": rng.choice(OUTCOMES),
                "answered_at": now - timedelta(days=1),
            }
            for intro in session.exec(select(Introduction))
            if rng.random() < 0.5
        ]
        run(insert(IntroductionOutcome), answered)
        run(
            insert(Event),
            [
                {
                    "title": f"{('City Lab', 'Summit', 'Working group')[i % 3]} {i}",
                    "start_at": now + timedelta(days=rng.randint(-60, 200)),
                    "tz": "Europe/Brussels",
                    "location": rng.choice(("Brussels", "Lisbon", "online")),
                    "remind": "7d,1d",
                    "created_at": now - timedelta(days=90),
                    "reminders_until": None,
                }
                for i in range(20)
            ],
        )
        event_ids = [e.id for e in session.exec(select(Event))]
        run(
            insert(Rsvp),
            [
                {"event_id": event_id, "member_id": member_id, "created_at": now - timedelta(days=5)}
                for event_id in event_ids
                for member_id in rng.sample(rep_ids, rng.randint(5, 60))
            ],
        )
        for external_id, token in (("slack:UEXP0", EXPERT_TOKEN), ("slack:UORG0", ORGANISER_TOKEN)):
            run(
                insert(DashboardLink),
                [{"token_hash": token_hash(token), "member_id": member_ids[external_id], "created_at": now}],
            )
    engine.dispose()


def busiest_city(url: str) -> int:
    from sqlalchemy import func

    engine = make_engine(url)
    with unit_of_work(engine) as session:
        query = select(Goal.city_id, func.count()).group_by(Goal.city_id).order_by(func.count().desc()).limit(1)
        city_id = session.execute(query).first()[0]
    engine.dispose()
    return city_id


def pages(city_id: int) -> list[tuple[str, str]]:
    return [
        ("overview", f"/dashboard/{EXPERT_TOKEN}/"),
        ("goals (first 100)", f"/dashboard/{EXPERT_TOKEN}/goals"),
        ("goals filtered and sorted", f"/dashboard/{EXPERT_TOKEN}/goals?status=at-risk&sort=city&order=desc"),
        ("goals CSV (all 5,000)", f"/dashboard/{EXPERT_TOKEN}/goals.csv"),
        ("a city (the one with most goals)", f"/dashboard/{EXPERT_TOKEN}/city/{city_id}"),
        ("network (every city)", f"/dashboard/{EXPERT_TOKEN}/network"),
        ("network, one cohort", f"/dashboard/{EXPERT_TOKEN}/network?cohort=1"),
        ("network, a city and two steps", f"/dashboard/{EXPERT_TOKEN}/network?city={city_id}&steps=2"),
        ("network, new ties since a day", f"/dashboard/{EXPERT_TOKEN}/network?since={SINCE}"),
        ("events (expert)", f"/dashboard/{EXPERT_TOKEN}/events"),
        ("events (organiser, with who)", f"/dashboard/{ORGANISER_TOKEN}/events"),
    ]


def cpu_seconds(pid: int) -> float:
    """The CPU time (user and system) a process has used so far, from Linux's /proc: what other jobs on a busy
    machine do not add, unlike wall time."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(origin: str, path: str, requests: int, pid: int | None = None) -> tuple[list[float], int, float, float]:
    """Sorted milliseconds of `requests` requests after three warm-up ones, the body's size, the first's time, and
    the bot process's CPU milliseconds per measured request (`pid`; 0 without)."""
    times = []
    size = 0
    first = 0.0
    cpu = 0.0
    for attempt in range(requests + 3):
        if attempt == 3 and pid is not None:
            cpu = cpu_seconds(pid)
        started = time.perf_counter()
        with urllib.request.urlopen(origin + path, timeout=30) as response:
            body = response.read()
            assert response.status == 200
        if attempt == 0:
            first = (time.perf_counter() - started) * 1000
        if attempt >= 3:  # the first requests warm caches and imports
            times.append((time.perf_counter() - started) * 1000)
        size = len(body)
    per_request = (cpu_seconds(pid) - cpu) * 1000 / requests if pid is not None else 0.0
    return sorted(times), size, first, per_request


SCREENSHOTS = (
    ("overview", "overview.png"),
    ("goals?status=overdue&sort=city", "goals-overdue.png"),
    ("city/{city}", "city.png"),
    ("network", "network.png"),
    ("network?cohort=1", "network-cohort.png"),
    ("network?city={city}&steps=1", "network-around.png"),
    ("network?cohort=1&since=" + SINCE, "network-since.png"),
    ("events", "events.png"),
)


def screenshots(origin: str, city_id: int, folder: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    from tests.support.browser import ARGS, INSTALL, find_browser

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as driver:
        path = find_browser(driver)
        if path is None:
            raise SystemExit(f"no browser for the screenshots: {INSTALL}")
        browser = driver.chromium.launch(executable_path=path, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        for path, name in SCREENSHOTS:
            print(f"  screenshot of {path.format(city=city_id)}", flush=True)
            token = ORGANISER_TOKEN if name == "events.png" else EXPERT_TOKEN
            page.goto(f"{origin}/dashboard/{token}/" + ("" if path == "overview" else path.format(city=city_id)))
            if name == "goals-overdue.png":
                page.locator("table.goals details summary").first.click()  # one goal's history, opened
            target = folder / name
            page.screenshot(path=str(target), full_page=name != "goals-overdue.png")
            written.append(target)
        browser.close()
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cities", type=int, default=500)
    parser.add_argument("--goals", type=int, default=5000)
    parser.add_argument("--introductions", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--screenshots", type=Path, default=Path(tempfile.gettempdir()) / "citypeers-dashboard")
    args = parser.parse_args()
    with FakeSlack() as slack, tempfile.TemporaryDirectory(prefix="citypeers-bench-") as tmp:
        if args.database == "sqlite":
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
            schema = None
        else:
            from tests.support.databases import temporary_schema

            schema = temporary_schema("postgresql+psycopg://postgres@127.0.0.1:5432/test")
            url = schema.__enter__()
        try:
            started = time.perf_counter()
            seed(url, cities=args.cities, goals=args.goals, introductions=args.introductions, now=datetime.now(UTC))
            print(
                f"seeded {args.cities} cities, {args.goals} goals, {args.introductions} introductions "
                f"({args.database}) in {time.perf_counter() - started:.1f}s"
            )
            city_id = busiest_city(url)
            with BotProcess(slack, url, citypeers_log_level="WARNING") as bot:
                origin = f"http://127.0.0.1:{bot.port}"
                print(f"{args.requests} requests per page, one at a time, milliseconds (target p95 < 200); the bot "
                      f"process's CPU per request; load average at the start {os.getloadavg()[0]:.1f}:")  # fmt: skip
                worst = 0.0
                pid = bot.process.pid if bot.process is not None else None
                for label, path in pages(city_id):
                    times, size, first, cpu = measure(origin, path, args.requests, pid)
                    print(
                        figures(f"  {label:34}", times)
                        + f"  CPU {cpu:5.1f}  ({size / 1024:.0f} KiB; first {first:.0f})"
                    )
                    if "CSV" not in label:
                        worst = max(worst, pct(times, 95))
                print(f"worst page p95: {worst:.1f} ms ({'met' if worst < 200 else 'NOT met'})")
                for written in screenshots(origin, city_id, args.screenshots):
                    print(f"screenshot: {written}")
        finally:
            if schema is not None:
                schema.__exit__(None, None, None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
