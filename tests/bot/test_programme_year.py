"""A programme year, day by day, through the real handlers, jobs and delivery engine on an injected clock.

From Monday 4 January 2027, for 365 days: a cohort of 50 cities whose representatives join over five months, a
summit announced five months ahead, a five-day (all-day) City Lab three months ahead, a monthly working group with
one date moved and one cancelled, an autumn lab announced months ahead, a round on the first Monday of every month,
goals added, checked in and updated, two daylight-saving changes, weekly digests to experts in Lisbon and Tokyo,
and the process restarted (a fresh runtime on the same database) at arbitrary moments, once after three months
down. The test keeps its own model of what each person is owed and, for every day, compares what each person
received with it: every reminder once, at its time or marked late when it fell due while no process ran, none for
a cancelled date or one already begun; check-ins a month before and on the due day; digests on Monday at 08:00 in
each expert's zone; introductions only between cities that have a representative; and nothing else.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil.relativedelta import relativedelta
from sqlmodel import select

from bot.app import build_services
from bot.delivery import Arrival, Outgoing, Pacer, SendOutcome
from bot.scheduler import Runtime
from core.clock import FakeClock
from handlers import jobs
from storage import ledger_queries
from storage.db import unit_of_work
from storage.models import City, Introduction
from tests.conftest import make_settings
from tests.handlers.conversation import ask

pytestmark = pytest.mark.slow  # a year of a programme: a minute or two of work

BRUSSELS = ZoneInfo("Europe/Brussels")
START = datetime(2027, 1, 4, 7, 0, tzinfo=UTC)  # Monday 08:00 in Brussels
DAYS = 365
HOUR = timedelta(hours=1)
CITIES = 50
TRACKS = ("tourism", "upskilling", "green-economy")
COHORT = "ICC 2027"
EXPERTS = {"eve": ZoneInfo("Europe/Lisbon"), "kenji": ZoneInfo("Asia/Tokyo")}
# (stop, start) of the process; equal instants are a deploy. One stop lasts three months.
RESTARTS = [
    (datetime(2027, 2, 10, 10, 30, tzinfo=UTC), datetime(2027, 2, 10, 10, 30, tzinfo=UTC)),
    (datetime(2027, 4, 13, 21, 0, tzinfo=UTC), datetime(2027, 4, 14, 3, 0, tzinfo=UTC)),
    (datetime(2027, 7, 23, 12, 0, tzinfo=UTC), datetime(2027, 10, 21, 9, 0, tzinfo=UTC)),
    (datetime(2027, 11, 30, 16, 0, tzinfo=UTC), datetime(2027, 11, 30, 16, 0, tzinfo=UTC)),
]


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BRUSSELS).astimezone(UTC)


def day_of(instant: datetime) -> date:
    return instant.astimezone(BRUSSELS).date()


def down_at(instant: datetime) -> tuple[datetime, datetime] | None:
    """The stop the process is in at this instant, if any."""
    return next(((stop, start) for stop, start in RESTARTS if stop <= instant < start), None)


def rep(i: int) -> str:
    return f"rep{i:02d}"


def city(i: int) -> str:
    return f"City {i:02d}"


def join_time(i: int) -> datetime:
    """Representatives join over five months, one every three days, at 10:00 in Brussels."""
    day = (START + timedelta(days=3 * i + 1)).astimezone(BRUSSELS).date()
    return local(day.year, day.month, day.day, 10)


# --- what the programme holds, as the model sees it ---------------------------------------------------------


@dataclass
class EventModel:
    event_id: int
    channel: str
    offsets: list[timedelta]
    dates: list[datetime]  # every occurrence as it will happen (moved ones moved, cancelled ones left out)
    attendees: dict[str, datetime] = field(default_factory=dict)  # who, and when they RSVP'd
    all_day: bool = False  # a day without a time: reminded at 09:00 in Brussels on the days before


def reminder_due(start: datetime, offset: timedelta, all_day: bool = False) -> datetime:
    """Day and week offsets keep the wall-clock time in Brussels; hours are elapsed time; an all-day event's
    reminders are at 09:00 in Brussels, that many days before its first day."""
    if all_day:
        day = start.astimezone(BRUSSELS).date() - offset
        return datetime(day.year, day.month, day.day, 9, tzinfo=BRUSSELS).astimezone(UTC)
    if offset % timedelta(days=1) == timedelta(0):
        wall = start.astimezone(BRUSSELS).replace(tzinfo=None) - offset
        return wall.replace(tzinfo=BRUSSELS).astimezone(UTC)
    return start - offset


def first_thursdays(after: datetime, until: datetime) -> list[datetime]:
    found = []
    month = date(after.year, after.month, 1)
    while True:
        thursday = month + timedelta(days=(3 - month.weekday()) % 7)
        start = local(thursday.year, thursday.month, thursday.day, 15)
        if start > until:
            return found
        if start > after:
            found.append(start)
        month = (month + timedelta(days=32)).replace(day=1)


# --- the platforms, as a person's inbox ---------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    at: datetime
    kind: str
    key: str
    recipient: str
    text: str


class Inbox:
    """Stands in for Slack and Discord: keeps every message with the (injected) moment it was sent."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.messages: list[Received] = []

    def send(self, message: Outgoing) -> SendOutcome:
        self.messages.append(
            Received(self.clock.now(), message.kind, message.key, message.recipient, message.reply.plain())
        )
        return SendOutcome.sent()

    def arrived(self, message: Outgoing, since: datetime) -> Arrival:
        return Arrival.ARRIVED if any(m.key == message.key for m in self.messages) else Arrival.ABSENT


class Process:
    """One `citypeers run` on the programme's database: its services and runtime, driven by the test's clock.
    The scheduler is not started (it keeps real time): the test calls what its jobs call, when they would."""

    def __init__(self, settings, clock: FakeClock, inbox: Inbox) -> None:  # type: ignore[no-untyped-def]
        self.services = build_services(settings, clock=clock, first_user_is_admin=True)
        # The platforms' pace (a message a second per channel) is kept in real time: not this test's subject.
        self.runtime = Runtime(self.services, inbox, pacer=Pacer(per_channel=0, per_second=0))
        self.runtime.extend_reminders()  # the first step of every start, before the first sweep

    def say(self, user: str, line: str) -> str:
        reply = ask(self.services, user, line)
        assert not reply.error, (line, reply.plain())
        return reply.plain()

    def hourly(self) -> None:
        jobs.queue_followups(self.services)
        jobs.queue_digests(self.services)

    def stop(self) -> None:
        self.services.engine.dispose()


class Programme:
    """The programme's database, its clock, everyone's inbox and the process of the moment."""

    def __init__(self, database_url: str) -> None:
        self.settings = make_settings(database_url)
        self.clock = FakeClock(START)
        self.inbox = Inbox(self.clock)
        self.process = Process(self.settings, self.clock, self.inbox)
        self.spent: Counter[str] = Counter()  # seconds, by what the process was doing

    def next_due(self) -> datetime | None:
        with unit_of_work(self.process.services.engine) as session:
            return ledger_queries.next_pending_at(session=session)

    def timed(self, what: str, run) -> object:  # type: ignore[no-untyped-def]
        began = time.perf_counter()
        try:
            return run()
        finally:
            self.spent[what] += time.perf_counter() - began

    def run_until(self, target: datetime) -> None:
        """Let time pass as `citypeers run` would: the hourly jobs, and every message at the moment it falls due.
        A stop in the way ends the process; it starts again, fresh, when the stop ends."""
        while True:
            now = self.clock.now()
            stopped = getattr(self, "_stopped", None)
            stop = next((s for s in RESTARTS if now <= s[0] <= target and s[0] != stopped), None)
            if stop is not None and now == stop[0]:
                self._stopped = stop[0]
                self.process.stop()
                self.clock.set(stop[1])
                self.process = Process(self.settings, self.clock, self.inbox)
                continue
            if now == now.replace(minute=0, second=0, microsecond=0):
                self.timed("jobs", self.process.hourly)
                if now.hour == 3:
                    self.timed("extend", self.process.runtime.extend_reminders)  # every few hours in a real process
            due = self.timed("next", self.next_due)
            if due is not None and due <= now:  # the engine's sweep: idle sweeps in between are left out
                self.timed("deliver", self.process.runtime.engine.run_due)
                due = self.timed("next", self.next_due)
            if now >= target:
                return
            moments = [now.replace(minute=0, second=0, microsecond=0) + HOUR, target]
            if due is not None and due > now:
                moments.append(due)
            if stop is not None:
                moments.append(stop[0])
            self.clock.set(min(moments))


@pytest.mark.slow(seconds=120)  # the longest test: it starts first
def test_a_programme_year(database_url):  # noqa: C901 - one story, told in order
    began = time.perf_counter()
    programme = Programme(database_url)
    org = "org"
    # Actions: (moment, who, line); run in order, each when its moment comes, unless the process is down.
    actions: list[tuple[datetime, str, str]] = []
    at = START + timedelta(minutes=5)
    actions.append((at, org, "/city tracks"))  # the first user of the database is its admin
    for name, zone in EXPERTS.items():
        actions.append((at, name, f"/city timezone {zone.key}"))
        actions.append((at, org, f"/city role @{name} expert"))
    for i in range(CITIES):
        actions.append((at, org, f'/city register "{city(i)}" country=BE cohort="{COHORT}"'))
    summit = EventModel(1, "summit", [timedelta(days=7), timedelta(days=1), HOUR], [local(2027, 6, 3, 10)])
    lab = EventModel(2, "labs", [timedelta(days=7), timedelta(days=1)], [local(2027, 4, 5)], all_day=True)
    group = EventModel(3, "wg", [timedelta(days=7), timedelta(days=1), HOUR], [])
    autumn = EventModel(4, "autumn", [timedelta(days=7), timedelta(days=1), HOUR], [local(2027, 10, 22, 10)])
    actions += [
        (at, org, '/event add "Mayors summit" start="2027-06-03 10:00" remind=7d,1d,1h channel=#summit'),
        (at, org, '/event add "ICC City Lab" start=05/04/2027 end=09/04/2027 remind=7d,1d channel=#labs'),
        (
            at,
            org,
            '/event add "WG meeting" start="2027-02-04 15:00" repeat=FREQ=MONTHLY;BYDAY=1TH '
            "remind=7d,1d,1h channel=#wg",
        ),  # fmt: skip
        (at, org, '/event add "Autumn lab" start="2027-10-22 10:00" remind=7d,1d,1h channel=#autumn'),
        (local(2027, 4, 20, 11), org, '/event edit 3 on=2027-05-06 start="2027-05-12 16:00" where="Summit venue"'),
        (local(2027, 11, 15, 11), org, "/event cancel 3 on=2027-12-02"),
    ]
    end = START + timedelta(days=DAYS)
    first = local(2027, 2, 4, 15)
    group.dates = [d for d in first_thursdays(first - HOUR, end + timedelta(days=60)) if d != local(2027, 12, 2, 15)]
    group.dates[group.dates.index(local(2027, 5, 6, 15))] = local(2027, 5, 12, 16)
    moved_notice_day, cancel_notice_day = date(2027, 4, 20), date(2027, 11, 15)
    reps: dict[str, int] = {}
    goal_closed: set[int] = set()
    for i in range(CITIES):
        joined = join_time(i)
        actions += [
            (joined, rep(i), f'/city join "{city(i)}"'),
            (joined + timedelta(minutes=5), org, f'/city approve @{rep(i)} "{city(i)}"'),
            (joined + timedelta(minutes=10), rep(i), f"/city interests {TRACKS[i % 3]}"),
            (joined + timedelta(minutes=11), rep(i), f"/city offer open data platform number {i}"),
            (joined + timedelta(minutes=12), rep(i), f"/city need mobility pilots like {(i * 7) % CITIES}"),
            (joined + timedelta(minutes=15), rep(i), f"/goal add Publish the open data plan of {city(i)}"),
        ]
        for model, wanted in ((summit, i % 2 == 0), (lab, i % 2 == 1), (group, i % 3 == 0), (autumn, i % 5 == 0)):
            if wanted and (model is group or joined + timedelta(minutes=20) < model.dates[0]):
                model.attendees[rep(i)] = joined + timedelta(minutes=20)
                actions.append((joined + timedelta(minutes=20), rep(i), f"/event rsvp {model.event_id}"))
        if i % 4 == 0:  # done early: no check-ins
            actions.append((joined + timedelta(days=20), rep(i), f"/goal update {i + 1} done shared with peers"))
            goal_closed.add(i)
        elif i % 4 == 1:
            actions.append((joined + timedelta(days=40), rep(i), f"/goal update {i + 1} at-risk waiting on data"))
    rounds = []
    month = date(2027, 2, 1)
    while month < end.date():
        monday = month + timedelta(days=(0 - month.weekday()) % 7)
        rounds.append(local(monday.year, monday.month, monday.day, 10))
        month = (month + timedelta(days=32)).replace(day=1)
    rounds = [moment for moment in rounds if moment < end and down_at(moment) is None]  # none while it is down
    actions += [(moment, org, f'/match round cohort="{COHORT}"') for moment in rounds]
    actions.sort(key=lambda item: item[0])
    for moment, _, _ in actions:
        assert down_at(moment) is None, moment  # nobody can type to a stopped bot: the story avoids it

    # --- the year ------------------------------------------------------------------------------------
    for moment, who, line in actions:
        programme.run_until(moment)
        programme.process.say(who, line)
        if line.startswith("/city approve"):
            reps[line.split()[2].lstrip("@")] = int(line.split('"')[1].split()[-1])
    programme.run_until(end)
    elapsed = time.perf_counter() - began

    # --- what each person should have received, day by day ----------------------------------------------
    expected: dict[date, Counter[tuple[str, str]]] = defaultdict(Counter)

    def owed(moment: datetime, recipient: str, what: str, *, late_ok: bool = True, before: datetime | None = None):
        """A message due at `moment`: sent then, or, when the process was down, when it starts again (if it is
        still useful then: before `before`)."""
        stop = down_at(moment)
        if stop is None:
            expected[day_of(moment)][(recipient, what)] += 1
        elif late_ok and (before is None or stop[1] < before):
            expected[day_of(stop[1])][(recipient, what + " (late)")] += 1

    due_of: dict[str, datetime] = {}  # a reminder (as `what` below) and when it falls due
    for model in (summit, lab, group, autumn):
        for start in model.dates:
            if start > end + timedelta(days=7):
                continue
            for offset in model.offsets:
                due = reminder_due(start, offset, model.all_day)
                if not START < due <= end:
                    continue
                what = f"reminder {model.event_id} {start:%Y-%m-%d %H:%M} {int(offset.total_seconds() // 60)}"
                due_of[what] = due
                owed(due, model.channel, what, before=start)
                for person, rsvp_at in model.attendees.items():
                    if rsvp_at < due:
                        owed(due, person, what, before=start)
    for name in EXPERTS:
        expected[day_of(START)][(name, "role")] += 1
    for person, i in reps.items():
        joined = join_time(i)
        expected[day_of(joined)][(org, "join requests")] += 1
        expected[day_of(joined)][(person, "approved")] += 1
        if i in goal_closed:
            continue
        due_day = day_of(joined) + relativedelta(months=3)
        for what, day in (("check-in month", due_day - relativedelta(months=1)), ("check-in due", due_day)):
            moment = local(day.year, day.month, day.day)
            if moment > end:
                continue
            stop = down_at(moment)
            if stop is None:
                expected[day][(person, what)] += 1
            elif what == "check-in due" or day_of(stop[1]) < due_day:  # a month-before check-in is never late
                expected[day_of(stop[1])][(person, what)] += 1
    for person, rsvp_at in group.attendees.items():
        if rsvp_at < local(2027, 4, 20, 11):
            expected[moved_notice_day][(person, "occurrence moved")] += 1
        expected[cancel_notice_day][(person, "occurrence cancelled")] += 1
    for name, zone in EXPERTS.items():
        monday = START.astimezone(zone).date()
        while True:
            moment = datetime(monday.year, monday.month, monday.day, 8, tzinfo=zone).astimezone(UTC)
            if moment > end:
                break
            # The role is given at 07:05 UTC on the first day: a digest whose day has begun goes at the next hour.
            moment = max(moment, START + HOUR)
            if moment < datetime(monday.year, monday.month, monday.day, 8, tzinfo=zone) + timedelta(days=1):
                stop = down_at(moment)
                if stop is None:
                    expected[day_of(moment)][(name, "digest")] += 1
                elif stop[1] < moment + timedelta(days=1):
                    expected[day_of(stop[1])][(name, "digest")] += 1
            monday += timedelta(days=7)

    # --- what each person received ------------------------------------------------------------------------
    received: dict[date, Counter[tuple[str, str]]] = defaultdict(Counter)
    introductions: list[tuple[datetime, list[str], str]] = []
    followups: list[tuple[datetime, str]] = []
    on_time: list[tuple[str, datetime]] = []
    for message in programme.inbox.messages:
        day = day_of(message.at)
        late = " (late)" if "Sent late" in message.text else ""
        if message.kind == "reminder":
            _, event_id, occurrence, minutes, _ = message.key.split(":", 4)
            start = datetime.strptime(occurrence, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            what = f"reminder {event_id} {start:%Y-%m-%d %H:%M} {minutes}"
            received[day][(message.recipient, what + late)] += 1
            if not late:
                on_time.append((what, message.at))
        elif message.kind == "joinreqs":
            received[day][(message.recipient, "join requests")] += 1
        elif message.key.startswith("digest:"):
            received[day][(message.recipient, "digest")] += 1
        elif "made you" in message.text:
            received[day][(message.recipient, "role")] += 1
        elif "now represent" in message.text:
            received[day][(message.recipient, "approved")] += 1
        elif message.text.startswith("Check-in: goal") and "due in a month" in message.text:
            received[day][(message.recipient, "check-in month")] += 1
        elif message.text.startswith("Check-in: goal"):
            received[day][(message.recipient, "check-in due")] += 1
        elif "now takes place" in message.text:
            received[day][(message.recipient, "occurrence moved")] += 1
        elif "the other dates stand" in message.text:
            received[day][(message.recipient, "occurrence cancelled")] += 1
        elif "," in message.recipient and message.kind == "notice":
            introductions.append((message.at, message.recipient.split(","), message.text))
        elif "Did you meet" in message.text:
            followups.append((message.at, message.recipient))
        else:
            received[day][(message.recipient, f"unexpected {message.kind}: {message.text[:80]}")] += 1

    for offset in range(DAYS + 1):
        day = day_of(START) + timedelta(days=offset)
        got, want = received.get(day, Counter()), expected.get(day, Counter())
        missing, extra = sorted((want - got).items())[:6], sorted((got - want).items())[:6]
        assert got == want, f"{day}: missing {missing}, extra {extra}"
    # A reminder not marked late went out at the very moment it fell due (the clock stops at each due time).
    assert on_time and all(at_ == due_of[what] for what, at_ in on_time)
    assert sum(sum(c.values()) for c in expected.values()) > 600  # the comparison above is not of empty days

    # Introductions: each round pairs only cities with a representative, each of them once; no pair twice.
    city_of_rep = {person: i for person, i in reps.items()}
    seen_pairs: set[frozenset[int]] = set()
    for moment in (m for m in rounds if m < end and down_at(m) is None):
        batch = [(people, text) for at_, people, text in introductions if day_of(at_) == day_of(moment)]
        represented = {i for person, i in reps.items() if join_time(i) < moment}
        paired: list[int] = []
        for people, text in batch:
            cities = sorted(city_of_rep[person] for person in people)
            assert 2 <= len(cities) <= 3 and all(city(i) in text for i in cities), text
            paired.extend(cities)
            for a in cities:
                for b in cities:
                    if a < b:
                        assert frozenset((a, b)) not in seen_pairs
                        seen_pairs.add(frozenset((a, b)))
        assert len(paired) == len(set(paired)) and set(paired) <= represented
        assert len(represented) - len(paired) <= 1 or len(represented) < 2, (moment, represented, paired)
    assert len(introductions) > 100
    # Each introduction (a trio is two) is followed up with both sides' representatives two weeks later.
    with unit_of_work(programme.process.services.engine) as session:
        names = {c.id: c.name for c in session.exec(select(City))}
        stored = [(i.created_at, names[i.city_a_id], names[i.city_b_id]) for i in session.exec(select(Introduction))]
    rep_of = {city(i): person for person, i in reps.items()}
    owed_followups = Counter(
        rep_of[name] for made, a, b in stored if made + timedelta(days=14) <= end for name in (a, b)
    )
    assert owed_followups and Counter(person for _, person in followups) == owed_followups
    assert len(stored) >= len(introductions)
    sent = len(programme.inbox.messages)
    spent = ", ".join(f"{what} {seconds:.1f} s" for what, seconds in programme.spent.most_common())
    print(f"\nprogramme year on {database_url.split(':')[0]}: {elapsed:.1f} s ({spent}), {sent} messages")
