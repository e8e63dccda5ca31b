"""A City Lab morning: hundreds of reps at once against real `citypeers run` processes, under Slack's limits.

For each configuration (1 or 2 processes; SQLite or PostgreSQL) the programme's cities are imported with
`citypeers import cities`, the processes start against the fake Slack, which keeps Slack's chat.postMessage
limits (1 message a second per channel, 300 a minute for the workspace, 429 with Retry-After beyond them), and
the organiser (an admin by CITYPEERS_ADMINS) adds the City Lab with its channel and a reminder that falls due
just after the morning. None of that is timed.

Then the morning: within one minute each of --reps people runs `/city join <city>`; the organiser, watching
their direct messages at the fake Slack, presses every Approve button once (a signed block_actions POST), and
when a message says more requests wait than it lists, pages through them with `/city requests`; once
approved, the person runs `/city interests`, `/city offer`, `/city need`, `/match`, `/event rsvp <lab>` and
`/goal add`, each after the previous reply arrived and not before its planned moment. Commands are correctly
signed slash commands over HTTP, shared round-robin between the processes. A command fails when its HTTP ack
is not 200, its reply does not reach the response_url within --reply-timeout, or the reply is not what the
flow expects (for instance "Something went wrong on our side").

Printed: commands sent and failed, ack latency (the signed POST's HTTP round trip) and reply latency (until the
response_url POST reached the fake Slack) p50/p95/p99, commands per second, each process's peak RSS (VmHWM), the
processes' CPU time (user + system, from /proc) over the morning per command, how long join requests took to reach
the organiser and to be approved; after the morning, whether the City Lab's reminder reached its channel and every
attendee who RSVPed before it fell due exactly once, and, by the ledger, how many went by their due time.

The reminder falls due 240 s into the morning (--reminder-at): 501 messages take 100 s at Slack's 5 a second, so a
reminder due while people are still RSVPing cannot reach them all on time however it is sent; due four minutes in,
it can, when its sending starts before its due time (the ledger plans it so). Each process sends at Slack's own
pace unless --send-per-second sets another. A configuration takes about seven minutes at 500 reps.

    python bench/city_lab_morning.py [--reps 500] [--processes 1|2|both] [--database sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import heapq
import itertools
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from the repo root: make `tests.support` importable

import pycountry  # noqa: E402

from bench.stats import pct  # noqa: E402
from storage import ledger_queries  # noqa: E402
from storage.db import make_engine, unit_of_work  # noqa: E402
from tests.support.botprocess import BotProcess  # noqa: E402
from tests.support.databases import temporary_schema  # noqa: E402
from tests.support.fakeslack import TEAM_ID, Call, FakeSlack, RateLimits, Sent, SlackSender  # noqa: E402

ORGANISER = "U0ORGANISER"
LAB_CHANNEL = "C0CITYLAB"
LAB_TITLE = "City Lab opening plenary"
COHORT = "City Lab 2026"
TRACKS = ("green-economy", "public-administration", "upskilling", "supply-chains", "tourism")
GROUPS = ROOT / "bench" / "data" / "city_groups.json"
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REMINDER_LEAD = timedelta(hours=1)  # the plenary starts an hour after its reminder falls due
UNREACHED = "Could not deliver a message to"
MORE_WAITING = "more: /city requests"  # a message that lists some of the waiting requests says so
NO_REQUESTS = "No requests to represent a city are waiting."
STILL_WAITING = re.compile(r"\b\d+ more waiting\.")
MENTION = re.compile(r"<@(?:slack:)?([A-Z0-9]+)")


# --- the programme --------------------------------------------------------------------------------------


def city_names(count: int) -> list[tuple[str, str]]:
    """(name, country): the real cities of bench/data/city_groups.json, then European regions as more places."""
    groups = json.loads(GROUPS.read_text(encoding="utf-8"))["groups"]
    found: dict[str, tuple[str, str]] = {}
    for group in groups:
        for member in group["members"]:
            found.setdefault(member["city"].casefold(), (member["city"], member["country"]))
    europe = "AT BE BG CZ DE DK EE ES FI FR GR HR HU IE IT LT LV NL PL PT RO SE SI SK"
    for code in europe.split():
        for region in sorted(pycountry.subdivisions.get(country_code=code) or [], key=lambda s: s.code):
            name = region.name
            if len(name) <= 60 and name.isprintable() and not any(ch in name for ch in "<>&,;\"'()"):
                found.setdefault(name.casefold(), (name, code))
    places = list(found.values())
    if len(places) < count:
        raise SystemExit(f"only {len(places)} places for {count} cities; lower --reps or raise --reps-per-city")
    return places[:count]


def solutions() -> list[str]:
    groups = json.loads(GROUPS.read_text(encoding="utf-8"))["groups"]
    return sorted({s for group in groups for s in group["solutions"] if len(s) < 120})


def import_cities(url: str, cities: list[tuple[str, str]], folder: Path) -> None:
    """`citypeers import cities FILE.csv`, as an organiser loads a programme: one transaction."""
    path = folder / "cities.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["name", "country", "cohort"])
        writer.writerows([name, country, COHORT] for name, country in cities)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CITYPEERS_", "DATABASE_URL"))}
    env["DATABASE_URL"] = url
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "import", "cities", str(path)],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise SystemExit(f"citypeers import cities failed:\n{done.stdout}{done.stderr}")


# --- the fake Slack, telling the bench as things arrive ------------------------------------------------


class WatchedSlack(FakeSlack):
    """The fake Slack with Slack's limits, calling `on_call` for every request it records (in its own thread),
    so the load generator learns of replies and the organiser of requests without rescanning every call."""

    def __init__(self) -> None:
        super().__init__(rate_limits=RateLimits())
        self.on_call: Callable[[Call], None] = lambda _call: None

    def _record(self, call: Call, problems: list[str]) -> None:
        super()._record(call, problems)
        self.on_call(call)


def press(sender: SlackSender, user_id: str, message: dict[str, Any], value: str, token: str) -> Sent:
    """Press the button whose value is `value` in `message`, as Slack posts a block_actions payload."""
    block, button = next(
        (block, element)
        for block in message.get("blocks", [])
        if block.get("type") == "actions"
        for element in block.get("elements", [])
        if element.get("value") == value
    )
    channel = str(message.get("channel", "D0"))
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM_ID, "domain": "citypeers-test"},
        "user": {"id": user_id, "username": "organiser", "name": "organiser"},
        "api_app_id": "A0CITYPEERS",
        "token": "unused-verification-token",
        "container": {"type": "message", "message_ts": "1.000001", "channel_id": channel, "is_ephemeral": False},
        "trigger_id": f"{token}.trigger",
        "channel": {"id": channel, "name": "directmessage"},
        "message": {"type": "message", "ts": "1.000001", "text": message.get("text", ""), "blocks": message["blocks"]},
        "response_url": sender.slack.url_for_response(token),
        "actions": [
            {
                "type": "button",
                "action_id": button["action_id"],
                "block_id": block.get("block_id", "b0"),
                "text": button["text"],
                "value": value,
                "style": button.get("style", "default"),
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    sent = sender.post(urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded")
    return Sent(sent.status, sent.body, sent.elapsed, token)


def approve_buttons(message: dict[str, Any]) -> list[tuple[str, str | None]]:
    """(value, user id) of each Approve button; the person is named in the value or in the text just above it."""
    found = []
    above = ""
    for block in message.get("blocks", []):
        if block.get("type") == "section":
            above = str(block.get("text", {}).get("text", ""))
        if block.get("type") != "actions":
            continue
        for element in block.get("elements", []):
            if element.get("text", {}).get("text") == "Approve":
                value = str(element.get("value", ""))
                named = MENTION.search(value) or MENTION.search(above)
                found.append((value, named.group(1) if named else None))
    return found


# --- the load generator ---------------------------------------------------------------------------------


class Timeline:
    """Work to do at given monotonic instants, run by a pool of load-generator threads."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._changed = threading.Condition()
        self._closed = False

    def at(self, when: float, work: Callable[[], None]) -> None:
        with self._changed:
            heapq.heappush(self._heap, (when, next(self._order), work))
            self._changed.notify()

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def work(self) -> None:
        while True:
            with self._changed:
                while True:
                    if self._closed:
                        return
                    now = time.monotonic()
                    if self._heap and self._heap[0][0] <= now:
                        _, _, job = heapq.heappop(self._heap)
                        break
                    self._changed.wait(self._heap[0][0] - now if self._heap else None)
            job()


@dataclass
class Step:
    name: str
    line: str
    answers: tuple[str, ...]  # the reply says one of these


@dataclass
class Attempt:
    """One signed request to the bot and what came of it."""

    rep: Rep | None  # None for the organiser's own /city requests
    step: str
    sent_at: float  # monotonic, just before the POST
    sent_wall: float
    ack: Sent | None = None
    reply_at: float | None = None
    reply_wall: float | None = None
    reply_text: str = ""
    token: str = ""
    texts: list[str] = field(default_factory=list)  # every reply, in order (more than one is a double)
    replies: int = 0
    failure: str = ""


@dataclass
class Rep:
    index: int
    user: str
    city: str
    sender: SlackSender
    steps: list[Step]
    planned: list[float]  # monotonic instant of each step after the join
    started: float = 0.0
    joined: bool = False
    approved: bool = False
    join_sent: float = 0.0
    joined_at: float = 0.0
    seen_by_organiser: float | None = None
    seen_on_page: bool = False  # first seen on a /city requests page, not in a DM
    approved_at: float | None = None
    next_step: int = 1
    stopped: str = ""
    done: bool = False
    finished_at: float = 0.0
    rsvp: Attempt | None = None


@dataclass
class Morning:
    """Everything measured in one configuration."""

    attempts: list[Attempt] = field(default_factory=list)
    reps: list[Rep] = field(default_factory=list)
    start: float = 0.0
    first_sent: float = 0.0
    last_reply: float = 0.0
    doubled_replies: int = 0
    cpu: float = 0.0  # the processes' CPU seconds (user + system) over the morning
    cpu_each: list[float] = field(default_factory=list)  # the same, process by process


class LoadGenerator:
    def __init__(self, slack: WatchedSlack, senders: list[SlackSender], args: argparse.Namespace) -> None:
        self.slack = slack
        self.senders = senders
        self.args = args
        self.timeline = Timeline()
        self.morning = Morning()
        self._lock = threading.Lock()
        self._by_token: dict[str, Attempt] = {}
        self._early: dict[str, Call] = {}  # replies that beat their own ack back
        self._pressed: set[str] = set()
        self._by_user: dict[str, Rep] = {}
        self._tokens = itertools.count()
        self._organiser_channels = {ORGANISER}
        self._reviewing = False  # the organiser is going through /city requests, a page at a time
        self._review_again = False
        self._page: set[str] = set()  # Approve presses from the page on screen, not yet answered
        self._reviews = itertools.count()
        self.finished = threading.Event()
        slack.on_call = self._on_call

    # --- the morning ----------------------------------------------------------------------------------

    def run(self, cities: list[str], lab_id: int) -> Morning:
        args = self.args
        rng = random.Random(args.seed)
        offers = solutions()
        start = self.morning.start = time.monotonic() + 1.0
        own_steps = 6  # after the join and its approval
        for index in range(args.reps):
            user = f"U{index + 1:07d}"
            city = cities[index // args.reps_per_city]
            tracks = rng.sample(TRACKS, 2)
            offer, need = rng.sample(offers, 2)
            steps = [
                Step("join", f"/city join {city}", (f"Asked to represent {city}.",)),
                Step("interests", f"/city interests {', '.join(tracks)}", (f"{city} works on: ",)),
                Step("offer", f"/city offer {offer}", (f"Added to what {city} offers: ",)),
                Step("need", f"/city need {need}", (f"Added to what {city} needs: ",)),
                Step("match", "/match", (f"Cities for {city}, best first", f"No matches for {city}", "No other city")),
                Step("rsvp", f"/event rsvp {lab_id}", (f"You are attending {LAB_TITLE}: ",)),
                Step("goal", f"/goal add Pilot {need} with a partner city", (f" for {city}: Pilot ",)),
            ]
            began = start + rng.uniform(0, args.arrival)
            span = args.minute - args.arrival  # the rest of the minute, shared by the person's own steps
            planned = [began] + [began + span * (k + rng.uniform(-0.3, 0.3)) / own_steps for k in range(1, 7)]
            rep = Rep(index, user, city, self.senders[index % len(self.senders)], steps, planned, started=began)
            self.slack.set_user(user, f"rep{index + 1}", tz=rng.choice(["Europe/Brussels", "Europe/Lisbon"]))
            self.morning.reps.append(rep)
            self._by_user[user] = rep
            self.timeline.at(began, lambda rep=rep: self._send(rep, 0))
        workers = [
            threading.Thread(target=self.timeline.work, name=f"load-{n}", daemon=True) for n in range(args.threads)
        ]
        for worker in workers:
            worker.start()
        watchdog = threading.Thread(target=self._watch, name="watchdog", daemon=True)
        watchdog.start()
        deadline = start + args.minute + args.approval_timeout + args.reply_timeout + 60
        self.finished.wait(max(0.0, deadline - time.monotonic()))
        self.timeline.close()
        with self._lock:
            for attempt in self.morning.attempts:
                if attempt.reply_at is None and not attempt.failure:
                    attempt.failure = "no reply before the bench gave up"
            for rep in self.morning.reps:
                if not rep.done and not rep.stopped:
                    rep.stopped = "unfinished when the bench gave up"
        for worker in workers:
            worker.join(timeout=30)
        return self.morning

    def _send(self, rep: Rep, index: int) -> None:
        step = rep.steps[index]
        attempt = Attempt(rep, step.name, time.monotonic(), time.time())
        try:
            sent = rep.sender.command(rep.user, step.line, user_name=f"rep{rep.index + 1}")
        except OSError as error:  # refused, reset or timed out: Slack would show the person an error
            sent = Sent(0, type(error).__name__, time.monotonic() - attempt.sent_at)
        with self._lock:
            attempt.ack = sent
            self.morning.attempts.append(attempt)
            if not self.morning.first_sent:
                self.morning.first_sent = attempt.sent_at
            if step.name == "rsvp":
                rep.rsvp = attempt
            if step.name == "join":
                rep.join_sent = attempt.sent_at
            if sent.status != 200:
                attempt.failure = f"HTTP {sent.status or sent.body}"
                self._stop(rep, f"{step.name} acknowledged {sent.status or sent.body}")
                return
            self._by_token[sent.response_token] = attempt
            early = self._early.pop(sent.response_token, None)
        if early is not None:
            self._replied(attempt, early)

    def _press(self, rep: Rep, message: dict[str, Any], value: str, token: str) -> None:
        attempt = Attempt(rep, "approve", time.monotonic(), time.time(), token=token)
        with self._lock:
            self._by_token[token] = attempt
            self.morning.attempts.append(attempt)
        try:
            sent = press(rep.sender, ORGANISER, message, value, token)
        except OSError as error:
            sent = Sent(0, type(error).__name__, time.monotonic() - attempt.sent_at, token)
        with self._lock:
            attempt.ack = sent
            if sent.status != 200:
                attempt.failure = f"HTTP {sent.status or sent.body}"
                self._stop(rep, f"Approve acknowledged {sent.status or sent.body}")
                self._page_answered(token)

    def _review(self) -> None:
        """The organiser types /city requests: the oldest waiting requests, each with Approve and Reject."""
        sender = self.senders[next(self._reviews) % len(self.senders)]
        attempt = Attempt(None, "requests", time.monotonic(), time.time())
        try:
            sent = sender.command(ORGANISER, "/city requests", user_name="organiser")
        except OSError as error:
            sent = Sent(0, type(error).__name__, time.monotonic() - attempt.sent_at)
        with self._lock:
            attempt.ack = sent
            self.morning.attempts.append(attempt)
            if sent.status != 200:
                attempt.failure = f"HTTP {sent.status or sent.body}"
                self._reviewing = False
                return
            self._by_token[sent.response_token] = attempt
            early = self._early.pop(sent.response_token, None)
        if early is not None:
            self._replied(attempt, early)

    def _want_review(self) -> None:
        """Called with the lock held when a message says more requests wait than it lists."""
        if self._reviewing:
            self._review_again = True
            return
        self._reviewing = True
        self.timeline.at(time.monotonic(), self._review)

    def _page_answered(self, token: str) -> None:
        """Called with the lock held: once every Approve on the page is answered, look at the next page."""
        if token in self._page:
            self._page.discard(token)
            if not self._page and self._reviewing:
                self.timeline.at(time.monotonic(), self._review)

    # --- what arrives at the fake Slack ----------------------------------------------------------------

    def _on_call(self, call: Call) -> None:
        if call.method == "response":
            with self._lock:
                attempt = self._by_token.get(call.token)
                if attempt is None:
                    self._early[call.token] = call
                    return
            self._replied(attempt, call)
        elif call.method in ("chat.postMessage", "chat.update") and call.ok:
            channel = str(call.params.get("channel", ""))
            if channel not in self._organiser_channels:
                opened = self.slack.channel_of(ORGANISER)
                if opened is None or channel != opened:
                    return
                self._organiser_channels.add(opened)
            self._organiser_reads({**call.params, "at": call.at})

    def _organiser_reads(self, message: dict[str, Any], *, page: bool = False) -> None:
        """Every Approve button the organiser sees (a DM, or a page of /city requests) is pressed once; when
        more requests wait than a message lists, the organiser reviews them page by page with /city requests."""
        text = str(message.get("text", ""))
        pressed = []
        with self._lock:
            for value, user in approve_buttons(message):
                rep = self._by_user.get(user or "")
                if value in self._pressed or rep is None:
                    continue
                self._pressed.add(value)
                rep.seen_by_organiser, rep.seen_on_page = message["at"], page
                token = f"bench-approve-{next(self._tokens)}"
                pressed.append((rep, value, token))
                if page:
                    self._page.add(token)
            if page and not pressed:
                if NO_REQUESTS in text and not self._review_again:
                    self._reviewing = False
                else:  # what it lists is being approved already: look again in a moment
                    self._review_again = False
                    self.timeline.at(time.monotonic() + 0.5, self._review)
            elif not page and MORE_WAITING in text:
                self._want_review()
        for rep, value, token in pressed:
            self.timeline.at(time.monotonic(), lambda r=rep, v=value, t=token: self._press(r, message, v, t))

    def _replied(self, attempt: Attempt, call: Call) -> None:
        text = str(call.params.get("text", ""))
        with self._lock:
            attempt.replies += 1
            attempt.texts.append(text)
            if attempt.replies > 1:
                self.morning.doubled_replies += 1
                return
            attempt.reply_at, attempt.reply_wall, attempt.reply_text = call.at, call.wall, text
            self.morning.last_reply = max(self.morning.last_reply, call.at)
            if attempt.failure:  # arrived after the watchdog gave up on it: still a failure
                return
            rep = attempt.rep
            if rep is None:  # the organiser's page of requests
                if "went wrong" in text or not any(a in text for a in ("to represent", NO_REQUESTS)):
                    attempt.failure = "unexpected reply"
                    self._reviewing = False
                    return
                page = {**call.params, "at": call.at}
                self.timeline.at(time.monotonic(), lambda: self._organiser_reads(page, page=True))
                return
            elif attempt.step == "approve":
                self._page_answered(call.token)
                if "went wrong" in text or f"now represents {rep.city}" not in text:
                    attempt.failure = "unexpected reply"
                    self._stop(rep, f"approve answered {text[:120]!r}")
                    return
                if STILL_WAITING.search(text):
                    self._want_review()
                rep.approved, rep.approved_at = True, call.at
                if rep.joined:
                    self._next(rep)
                return
            step = next(s for s in rep.steps if s.name == attempt.step)
            if "went wrong" in text or not any(expected in text for expected in step.answers):
                attempt.failure = "unexpected reply"
                self._stop(rep, f"{step.name} answered {text[:160]!r}")
                return
            if UNREACHED in text:  # the bot says a notice did not reach someone: nothing the flow expects
                attempt.failure = "reply says a message did not reach someone"
                self._stop(rep, f"{step.name} answered {text[:160]!r}")
                return
            if step.name == "join":
                rep.joined, rep.joined_at = True, call.at
                if rep.approved:
                    self._next(rep)
                return
            self._next(rep)

    def _next(self, rep: Rep) -> None:
        """Called with the lock held, after the previous step's right reply."""
        if rep.next_step >= len(rep.steps):
            rep.done, rep.finished_at = True, time.monotonic()
            self._maybe_finished()
            return
        index = rep.next_step
        rep.next_step += 1
        self.timeline.at(max(time.monotonic(), rep.planned[index]), lambda: self._send(rep, index))

    def _stop(self, rep: Rep, reason: str) -> None:
        if not rep.stopped:
            rep.stopped = reason
        self._maybe_finished()

    def _maybe_finished(self) -> None:
        if all(r.done or r.stopped for r in self.morning.reps):
            self.finished.set()

    def _watch(self) -> None:
        """Replies that never come, and approvals that never come, fail their person's morning."""
        while not self.finished.wait(1.0):
            now = time.monotonic()
            with self._lock:
                for attempt in self.morning.attempts:
                    late = attempt.reply_at is None and now - attempt.sent_at > self.args.reply_timeout
                    if late and not attempt.failure and attempt.ack is not None:
                        attempt.failure = f"no reply within {self.args.reply_timeout:g}s"
                        if attempt.rep is None:
                            self._reviewing = False
                        else:
                            self._page_answered(attempt.token)
                            self._stop(attempt.rep, f"{attempt.step}: {attempt.failure}")
                for rep in self.morning.reps:
                    waiting = rep.joined and not rep.approved and not rep.stopped
                    if waiting and now - rep.joined_at > self.args.approval_timeout:
                        self._stop(rep, f"not approved within {self.args.approval_timeout:g}s of joining")


# --- one configuration ----------------------------------------------------------------------------------


@dataclass
class Row:
    config: str
    sent: int
    failed: int
    ack: tuple[float, float, float]
    reply: tuple[float, float, float]
    per_second: float
    rss_mb: list[float]
    expected: int
    delivered: int
    lost: int
    doubled: int
    finished: int
    reps: int
    cpu_ms: float  # the processes' CPU per command over the morning
    on_time: int  # reminders expected that the ledger records sent, not late


def run_configuration(database: str, processes: int, args: argparse.Namespace) -> Row:
    config = f"{processes} process{'es' if processes > 1 else ''}, {'SQLite' if database == 'sqlite' else 'PostgreSQL'}"
    print(f"\n== {config}: {args.reps} reps, {-(-args.reps // args.reps_per_city)} cities", flush=True)
    with tempfile.TemporaryDirectory(prefix="citypeers-morning-") as tmp, database_url(database, tmp, args) as url:
        cities = city_names(-(-args.reps // args.reps_per_city))
        started = time.perf_counter()
        import_cities(url, cities, Path(tmp))
        print(f"imported {len(cities)} cities with citypeers import in {time.perf_counter() - started:.1f}s")
        with WatchedSlack() as slack:
            slack.set_user(ORGANISER, "organiser")
            chosen = {"citypeers_send_per_second": f"{args.send_per_second:g}"} if args.send_per_second else {}
            bots = [
                BotProcess(slack, url, admins=ORGANISER, citypeers_log_level=args.log_level, **chosen)
                for _ in range(processes)
            ]
            with contextlib.ExitStack() as stack:
                for bot in bots:
                    stack.enter_context(bot)
                pace = f"{args.send_per_second:g} msg/s" if args.send_per_second else "Slack's pace"
                print(f"{processes} citypeers run up after {time.perf_counter() - started:.1f}s; "
                      f"each sends the ledger at {pace} (Slack allows 5/s for the workspace)")  # fmt: skip
                # Whole seconds, as the organiser types the start: the bot's due time is exactly this one.
                due = (datetime.now(UTC) + timedelta(seconds=args.reminder_at + 3)).replace(microsecond=0)
                lab_id = add_city_lab(bots[0].sender, slack, due)
                print(f"the organiser added {LAB_TITLE} (event {lab_id}); its reminder falls due "
                      f"{args.reminder_at:g}s after the morning begins")  # fmt: skip
                generator = LoadGenerator(slack, [b.sender for b in bots], args)
                cpu = [cpu_seconds(bot) for bot in bots]
                morning = generator.run([name for name, _ in cities], lab_id)
                morning.cpu_each = [cpu_seconds(bot) - before for bot, before in zip(bots, cpu, strict=True)]
                morning.cpu = sum(morning.cpu_each)
                print(f"morning over after {time.monotonic() - morning.start:.0f}s; "
                      "waiting for the reminders due in it")  # fmt: skip
                reminders = wait_for_reminders(slack, morning, due, args)
                reminders.ledger, reminders.after_due = reminder_ledger(url, lab_id)
                rss = [peak_rss_mb(bot) for bot in bots]
                errors = [log_errors(bot) for bot in bots]
            calls = slack.calls()
            limited = slack.rate_limited
    return report(config, morning, reminders, rss, errors, calls, limited, args)


@contextlib.contextmanager
def database_url(database: str, tmp: str, args: argparse.Namespace) -> Iterator[str]:
    if database == "sqlite":
        yield f"sqlite:///{Path(tmp) / 'morning.db'}"
        return
    with temporary_schema(args.database_url, prefix="morning") as url:
        yield url


def add_city_lab(sender: SlackSender, slack: FakeSlack, due: datetime) -> int:
    start = (due + REMINDER_LEAD).strftime("%Y-%m-%d %H:%M:%S")
    line = f'/event add {LAB_TITLE} start="{start}" tz=UTC remind=1h channel=<#{LAB_CHANNEL}|city-lab>'
    sent = sender.command(ORGANISER, line)
    (reply,) = slack.wait_for_response(sent.response_token, timeout=60)
    found = re.search(r"\(event (\d+)\)", reply.get("text", ""))
    if found is None:
        raise SystemExit(f"could not add the City Lab: {reply.get('text')}")
    return int(found.group(1))


@dataclass
class Reminders:
    expected: set[str]  # channel and attendees who RSVPed (reply received) before the reminder fell due
    either: set[str]  # RSVP sent before the due time, answered after: a reminder is right, none is too
    received: Counter[str]
    waited: float
    ledger: dict[str, tuple[str, bool]] = field(default_factory=dict)  # recipient -> (status, late), as recorded
    after_due: list[float] = field(default_factory=list)  # seconds after its due time, of each reminder sent late

    def judged(self) -> dict[str, list[str]]:
        """Each expected recipient by what the ledger says of its reminder, not by how long the bench waited:
        delivered (on time), late (sent, marked late), pending (still owed: being sent, or waiting its turn at
        Slack's pace), lost (missed, failed, withdrawn, or never queued)."""
        found: dict[str, list[str]] = {"delivered": [], "late": [], "pending": [], "lost": []}
        for recipient in sorted(self.expected):
            status, late = self.ledger.get(recipient, ("absent", False))
            if status == "sent":
                found["late" if late else "delivered"].append(recipient)
            elif status in ("pending", "sending"):
                found["pending"].append(recipient)
            else:
                found["lost"].append(recipient)
        return found


def reminder_ledger(url: str, event_id: int) -> tuple[dict[str, tuple[str, bool]], list[float]]:
    """What the delivery ledger holds of the City Lab's reminders, by recipient as Slack names it, and how many
    seconds after its due time each one sent after it went."""
    engine = make_engine(url)
    try:
        with unit_of_work(engine) as session:
            rows = ledger_queries.deliveries_for(session=session, event_id=event_id)
            reminders = [row for row in rows if row.kind == "reminder"]
            after = [(row.sent_at - row.due_at).total_seconds() for row in reminders if row.sent_at]
            by_recipient = {row.recipient.removeprefix("slack:"): (row.status, row.late) for row in reminders}
            return by_recipient, sorted(seconds for seconds in after if seconds > 0)
    finally:
        engine.dispose()


def reminder_recipients(slack: FakeSlack) -> Counter[str]:
    """Reminders of the City Lab per recipient (a channel, or a person whose DM got it)."""
    dm_owner: dict[str, str] = {}
    calls = slack.calls("chat.postMessage")
    for call in slack.calls("conversations.open"):
        users = str(call.params.get("users", ""))
        if "," not in users and (channel := slack.channel_of(users)):
            dm_owner[channel] = users
    found: Counter[str] = Counter()
    for call in calls:
        text = str(call.params.get("text", ""))
        if call.ok and LAB_TITLE in text and "starts" in text:
            channel = str(call.params.get("channel", ""))
            found[dm_owner.get(channel, channel)] += 1
    return found


def wait_for_reminders(slack: FakeSlack, morning: Morning, due: datetime, args: argparse.Namespace) -> Reminders:
    due_wall = due.timestamp()
    expected, either = {LAB_CHANNEL}, set()
    for rep in morning.reps:
        rsvp = rep.rsvp
        if rsvp is None or rsvp.ack is None or rsvp.ack.status != 200 or rsvp.sent_wall >= due_wall:
            continue  # never reached the bot, or came after the reminder fell due: nothing is owed
        if not rsvp.failure and rsvp.reply_wall is not None and rsvp.reply_wall < due_wall:
            expected.add(rep.user)
        else:
            either.add(rep.user)  # answered after the due time, or not rightly: it may have been recorded
    begun = time.monotonic()
    # Every message of the morning shares Slack's 5 a second: reminders queue behind the morning's notices.
    accepted = sum(1 for c in slack.calls("chat.postMessage") if c.ok)
    budget = (accepted + len(expected) + len(either)) / 5.0 + 60
    deadline = max(time.time(), due_wall) + budget
    while time.time() < deadline:
        received = reminder_recipients(slack)
        if time.time() > due_wall and expected <= set(received):
            break
        time.sleep(1.0)  # polling the fake; the figures come from what it recorded
    time.sleep(args.settle)  # a second copy of any reminder would arrive now
    return Reminders(expected, either, reminder_recipients(slack), time.monotonic() - begun)


def peak_rss_mb(bot: BotProcess) -> float:
    """VmHWM of the process (read before it stops), in MB."""
    if bot.process is None:
        return 0.0
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{bot.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(bot: BotProcess) -> float:
    """User + system CPU seconds the process has used so far (/proc/PID/stat, fields 14 and 15)."""
    if bot.process is None:
        return 0.0
    with contextlib.suppress(OSError):
        fields = Path(f"/proc/{bot.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


def log_errors(bot: BotProcess) -> Counter[str]:
    """The process's ERROR lines, by what they say after the timestamp, and the exceptions named in it."""
    found: Counter[str] = Counter()
    if not bot.log_path.exists():
        return found
    for line in bot.log_path.read_text(errors="replace").splitlines():
        if " ERROR " in line:
            found[re.sub(r"ref=\w+|U\d{7}", "…", line.split(" ERROR ", 1)[1])[:140]] += 1
        elif re.match(r"^[\w.]+(Error|Exception|Violation)\b", line):
            found[line[:140]] += 1
    return found


def report(
    config: str,
    morning: Morning,
    reminders: Reminders,
    rss: list[float],
    errors: list[Counter[str]],
    calls: list[Call],
    limited: int,
    args: argparse.Namespace,
) -> Row:
    attempts = morning.attempts
    failed = [a for a in attempts if a.failure]
    acks = sorted(a.ack.elapsed * 1000 for a in attempts if a.ack is not None)
    replies = sorted((a.reply_at - a.sent_at) * 1000 for a in attempts if a.reply_at is not None)
    span = morning.last_reply - morning.first_sent
    rate = len(attempts) / span if span > 0 else 0.0
    presses = sum(1 for a in attempts if a.step == "approve")
    finished = sum(1 for r in morning.reps if r.done)

    def p3(values: list[float]) -> tuple[float, float, float]:
        return (pct(values, 50), pct(values, 95), pct(values, 99)) if values else (0.0, 0.0, 0.0)

    print(f"commands sent: {len(attempts)} ({presses} of them Approve presses) in {span:.1f}s: {rate:.1f}/s; "
          f"failed: {len(failed)}; replies doubled: {morning.doubled_replies}")  # fmt: skip
    by_reason = Counter(f"{a.step}: {a.failure}" for a in failed)
    for reason, count in by_reason.most_common(8):
        print(f"  failed {count:5d} x {reason}")
    for attempt in [a for a in failed if a.reply_text][:3]:
        print(f"  e.g. {attempt.step} answered {attempt.reply_text[:150]!r}")
    for attempt in [a for a in attempts if a.replies > 1][:3]:
        print(f"  doubled, e.g. {attempt.step} answered {[t[:80] for t in attempt.texts]!r}")
    a50, a95, a99 = p3(acks)
    r50, r95, r99 = p3(replies)
    cpu_ms = morning.cpu / len(attempts) * 1000 if attempts else 0.0
    print(f"CPU of the citypeers processes over the morning: {morning.cpu:.1f}s, {cpu_ms:.1f} ms a command")
    for number, seconds in enumerate(morning.cpu_each, start=1):  # each process's share: how even the load was
        share = seconds / len(attempts) * 1000 if attempts else 0.0
        print(f"  process {number}: {seconds:.1f}s, {share:.1f} ms per command of the morning")
    print(f"ack ms   p50 {a50:7.1f}  p95 {a95:7.1f}  p99 {a99:7.1f}  max {acks[-1] if acks else 0:7.1f}")
    print(f"reply ms p50 {r50:7.1f}  p95 {r95:7.1f}  p99 {r99:7.1f}  max {replies[-1] if replies else 0:7.1f}")
    for step in ("join", "approve", "requests", "interests", "offer", "need", "match", "rsvp", "goal"):
        values = sorted((a.reply_at - a.sent_at) * 1000 for a in attempts if a.step == step and a.reply_at)
        if values:
            s50, s95, s99 = p3(values)
            print(f"  {step:9s} n={len(values):4d}  reply ms p50 {s50:7.1f}  p95 {s95:7.1f}  p99 {s99:7.1f}")
    seen = sorted((r.seen_by_organiser - r.join_sent) for r in morning.reps if r.seen_by_organiser and r.join_sent)
    approved = sorted((r.approved_at - r.join_sent) for r in morning.reps if r.approved_at and r.join_sent)
    organiser_dms = [c for c in calls if c.method == "chat.postMessage" and c.ok and approve_buttons(c.params)]
    if seen and approved:
        print(f"join requests reached the organiser in {len(organiser_dms)} DMs; after the /city join was sent: "
              f"p50 {pct(seen, 50):.1f}s  p95 {pct(seen, 95):.1f}s  max {seen[-1]:.1f}s; approved p50 "
              f"{pct(approved, 50):.1f}s  p95 {pct(approved, 95):.1f}s  max {approved[-1]:.1f}s")  # fmt: skip
        on_page = sum(1 for r in morning.reps if r.seen_on_page)
        in_dm = sum(1 for r in morning.reps if r.seen_by_organiser and not r.seen_on_page)
        print(f"  the organiser pressed Approve on {in_dm} requests listed in a DM and "
              f"{on_page} found paging through /city requests (each lists 10)")  # fmt: skip
    on_time = sum(1 for r in morning.reps if r.done and r.finished_at - morning.start <= args.minute + 5)
    print(f"people through the whole morning: {finished}/{len(morning.reps)}, of them {on_time} within the "
          f"minute (done {args.minute + 5:g}s after it began)")  # fmt: skip
    stopped = Counter(re.sub(r"'.*", "'…'", r.stopped) for r in morning.reps if r.stopped)
    for reason, count in stopped.most_common(5):
        print(f"  stopped {count:5d} x {reason}")
    received = reminders.received
    judged = reminders.judged()
    lost = judged["lost"]
    doubled = sum(n - 1 for n in received.values() if n > 1)
    unexpected = sorted(set(received) - reminders.expected - reminders.either)
    either_got = sum(1 for r in reminders.either if r in received)
    print(f"reminder due {args.reminder_at:g}s into the morning: {len(reminders.expected)} expected (the channel "
          f"and everyone answered before it fell due), {len(reminders.either)} RSVPs answered around it "
          f"({either_got} of those got it); arrived at Slack for {len(received)} recipients after waiting "
          f"{reminders.waited:.0f}s. By the ledger: {len(judged['delivered'])} sent on time, {len(judged['late'])} "
          f"sent late, {len(judged['pending'])} still pending, {len(lost)} lost; doubled {doubled}, "
          f"unexpected {len(unexpected)}")  # fmt: skip
    after = reminders.after_due
    on_time = len(judged["delivered"]) / len(reminders.expected) if reminders.expected else 0.0
    held = len(reminders.ledger)
    by_up_to = f", by up to {after[-1]:.1f}s" if after else ""
    print(f"  by the due time: {held - len(after)} of the {held} reminders the ledger holds; after it: "
          f"{len(after)}{by_up_to}; on time (not marked late): {on_time:.1%} of those expected")  # fmt: skip
    if lost:
        print(f"  lost, e.g.: {[(r, reminders.ledger.get(r, ('absent', False))[0]) for r in lost[:5]]}")
    print(f"Slack's 429s to the bot: {limited}; messages Slack accepted: "
          f"{sum(1 for c in calls if c.method == 'chat.postMessage' and c.ok)}")  # fmt: skip
    print("peak RSS: " + ", ".join(f"process {n + 1} {mb:.0f} MB" for n, mb in enumerate(rss)))
    for n, found in enumerate(errors):
        if found:
            print(f"process {n + 1} logged {sum(found.values())} errors:")
            for line, count in found.most_common(6):
                print(f"  {count:5d} x {line}")
    return Row(
        config,
        len(attempts),
        len(failed),
        (a50, a95, a99),
        (r50, r95, r99),
        rate,
        rss,
        len(reminders.expected),
        len(received),
        len(lost),
        doubled,
        finished,
        len(morning.reps),
        cpu_ms,
        len(judged["delivered"]),
    )


def table(rows: list[Row]) -> None:
    print("\n| configuration | sent | failed | ack p50/p95/p99 ms | reply p50/p95/p99 ms | cmd/s | CPU ms/cmd "
          "| peak RSS MB | reminders expected/delivered/on time | lost | doubled | through the morning |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        ack = "/".join(f"{v:.0f}" for v in r.ack)
        reply = "/".join(f"{v:.0f}" for v in r.reply)
        rss = " + ".join(f"{mb:.0f}" for mb in r.rss_mb)
        cells = [r.config, r.sent, r.failed, ack, reply, f"{r.per_second:.1f}", f"{r.cpu_ms:.1f}", rss,
                 f"{r.expected}/{r.delivered}/{r.on_time}", r.lost, r.doubled, f"{r.finished}/{r.reps}"]  # fmt: skip
        print("| " + " | ".join(str(cell) for cell in cells) + " |")
    print("\ntargets: 0 failed, 0 lost, 0 doubled; reply p99 under 1500 ms; ack p99 under 1000 ms")
    for r in rows:
        misses = [
            what
            for what, held in (
                ("failed", r.failed == 0),
                ("lost", r.lost == 0),
                ("doubled", r.doubled == 0),
                ("reply p99", r.reply[2] < 1500),
                ("ack p99", r.ack[2] < 1000),
                ("everyone through the morning", r.finished == r.reps),
            )
            if not held
        ]
        print(f"  {r.config}: {'all targets held' if not misses else 'missed: ' + ', '.join(misses)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=500, help="people in the morning (default 500)")
    parser.add_argument("--processes", choices=["1", "2", "both"], default="both", help="citypeers run processes")
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--database-url", default=POSTGRES_URL, help="PostgreSQL; each run gets its own schema")
    parser.add_argument("--reps-per-city", type=int, default=2, help="people representing one city (default 2)")
    parser.add_argument("--minute", type=float, default=60.0, help="seconds the morning's actions spread over")
    parser.add_argument("--arrival", type=float, default=10.0, help="seconds over which people first arrive")
    parser.add_argument("--threads", type=int, default=48, help="load-generator threads (default 48)")
    parser.add_argument("--reply-timeout", type=float, default=30.0, help="a reply later than this fails")
    parser.add_argument("--approval-timeout", type=float, default=120.0, help="give up waiting for approval")
    parser.add_argument("--reminder-at", type=float, default=240.0, help="seconds into the morning it falls due")
    parser.add_argument("--send-per-second", type=float, help="CITYPEERS_SEND_PER_SECOND of each process")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds to watch for doubles at the end")
    parser.add_argument("--log-level", default="WARNING", help="CITYPEERS_LOG_LEVEL of the processes")
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args()

    databases = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    counts = [1, 2] if args.processes == "both" else [int(args.processes)]
    rows = [run_configuration(database, n, args) for database in databases for n in counts]
    table(rows)
    ok = all(r.failed == 0 and r.lost == 0 and r.doubled == 0 for r in rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
