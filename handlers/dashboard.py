"""The web dashboard's data: who a private link belongs to, and each page as neutral rows (no HTML here).

A link is `<public URL>/dashboard/<token>`: 192 random bits, of which only the SHA-256 is stored. The owner's role
is read again at every request, so an expert or organiser who loses the role loses the dashboard with it. A link
shows what its owner sees through commands: experts and organisers every city's goals, introductions and events;
organisers also who RSVP'd.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from core.goals import OVERDUE, STANDINGS, STATUSES, is_overdue, local_day, standing, status_label
from core.i18n import N_, nN_
from core.roles import ORGANISERS, READERS, Role
from core.text import fold_name
from handlers.event_reminders import current_occurrence
from handlers.types import Context, HandlerSettings, member_zone
from storage import dashboard_queries as q
from storage import goal_queries
from storage.models import Member

PATH = "/dashboard/"
TOKEN_BYTES = 24  # 192 bits
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{22,64}")
TREND_WEEKS = 12
PAGE_SIZE = 100
# The order a count reads in: every standing a goal can have (core.goals: each goal in exactly one).
COLUMNS = STANDINGS
LABELS = {value: status_label(value) for value in (*STATUSES, OVERDUE)}
# A message as a key: compared as its English id, shown (str, f-strings, templates) in the reader's language.
NO_COHORT = N_("no cohort")
NO_TRACK = N_("no track")


class Strings:
    """Every user-facing line of /goal dashboard, in one place so it can be translated later."""

    LINK = N_("Your private dashboard: {url}")
    LINK_PRIVATE = N_(
        "Anyone with the link sees what you see: keep it private. It stops working if you lose the expert or "
        "organiser role; /goal dashboard reset revokes it."
    )
    RESET = nN_(
        "Revoked {n} link; /goal dashboard gives a new one.", "Revoked {n} links; /goal dashboard gives a new one."
    )

    # What the dashboard's filters could not read: each named and left out, never an error page.
    NO_SUCH_COHORT = N_("That cohort does not exist.")
    NO_SUCH_TRACK = N_("That track does not exist.")
    NO_SUCH_STATUS = N_("That status does not exist.")
    NO_SUCH_CITY = N_("That city does not exist.")
    NOT_A_DATE = N_("{value} is not a date (YYYY-MM-DD).")
    SINCE_AHEAD = N_("since= is a day up to today, not {day}.")
    # The network page: what its filter shows, and what each city's tooltip says.
    SHOWN_COHORT = N_("cohort {name}")
    SHOWN_TRACK = N_("track {key}")
    SHOWN_AROUND_ONE = N_("{city} and the cities within one tie")
    SHOWN_AROUND_TWO = N_("{city} and the cities within two ties")
    SHOWN_SINCE = N_("new since {day}")
    SHOWN_EVERY_CITY = N_("every city")
    NETWORK_TITLE = N_("The collaboration network")
    JOINED_SINCE = N_("joined since {day}")
    CITY_SAID = N_("{name} ({country}, {cohort}, {track}): {ties}")
    CITY_TIES = nN_("{n} ties with {names}", "{n} ties with {names}")
    CITY_TIES_MORE = nN_("{n} ties with {names} and {more} more", "{n} ties with {names} and {more} more")
    CITY_NO_TIES = N_("no ties")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_url(settings: HandlerSettings, token: str) -> str:
    return f"{settings.public_url.rstrip('/')}{PATH}{token}/"


def new_link(context: Context) -> str:
    """A new private link for the actor (the caller checked the role); the token is shown once, never stored."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    q.add_link(
        session=context.session, member_id=context.actor.member.stored_id, token_hash=token_hash(token), now=context.now
    )
    return link_url(context.services.settings, token)


def revoke(context: Context) -> int:
    return q.revoke_links(session=context.session, member_id=context.actor.member.stored_id, now=context.now)


@dataclass(frozen=True)
class Viewer:
    member: Member
    role: Role
    zone: ZoneInfo

    @property
    def organiser(self) -> bool:
        return self.role in ORGANISERS


def viewer(session: Session, token: str, settings: HandlerSettings, now: datetime) -> Viewer | None:
    """Whom a token shows the dashboard to, or None — unknown, revoked, or its owner no longer an expert or
    organiser — told apart to nobody. An owner found without the role has every link revoked there and then, so
    getting the role back later does not reopen them."""
    if not TOKEN_SHAPE.fullmatch(token):
        return None
    member = q.live_link_owner(session=session, token_hash=token_hash(token))
    if member is None:
        return None
    role = Role.ADMIN if member.external_id in settings.admins else Role(member.role)
    if role not in READERS:
        q.revoke_links(session=session, member_id=member.stored_id, now=now)
        return None
    return Viewer(member=member, role=role, zone=member_zone(member, settings.default_tz))


# --- overview -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CountRow:
    """One cohort·track's goals by status now, and the change since twelve weeks ago."""

    cohort: str
    track: str
    counts: dict[str, int]
    change: dict[str, int]
    total: int
    weeks: list[dict[str, int]] = field(default_factory=list)  # the counts at the end of each of twelve weeks


@dataclass(frozen=True)
class WeekRow:
    ending: date
    counts: dict[str, int]


@dataclass(frozen=True)
class CityRef:
    city_id: int
    name: str
    cohort: str


@dataclass(frozen=True)
class Overview:
    today: date
    rows: list[CountRow]
    totals: dict[str, int]
    weeks: list[WeekRow]
    no_reps: list[CityRef]
    no_goals: list[CityRef]
    no_introductions: list[CityRef]
    cities: int


def overview(session: Session, who: Viewer, now: datetime) -> Overview:
    today = local_day(now, who.zone)
    cohorts = dict(q.cohorts(session=session))
    tracks = {track_id: key for track_id, key, _ in q.tracks(session=session)}
    states = q.goal_states(session=session)
    # Each goal's status at the end of each of the last twelve weeks, replaying its history forward; the
    # database says which week-end each entry precedes, so no timestamp is read here.
    ends = [now - timedelta(weeks=weeks) for weeks in range(TREND_WEEKS, -1, -1)]
    days = [local_day(end, who.zone) for end in ends]
    changes = q.status_changes(session=session, ends=ends)
    # goals in order of due date, so those that can be overdue on a day are a prefix
    states.sort(key=lambda state: (state.due_on, state.goal_id))
    place = {state.goal_id: i for i, state in enumerate(states)}
    dues = [state.due_on for state in states]
    group_list = [
        (
            cohorts.get(state.cohort_id, NO_COHORT) if state.cohort_id else NO_COHORT,
            tracks.get(state.track_id, NO_TRACK) if state.track_id else NO_TRACK,
        )
        for state in states
    ]
    current: list[str | None] = [None] * len(states)
    snapshots: list[list[str | None]] = []
    index = 0
    for bucket in range(len(ends)):
        while index < len(changes) and changes[index][2] <= bucket:
            found = place.get(changes[index][0])  # None: history of a goal since deleted
            if found is not None:
                current[found] = changes[index][1]
            index += 1
        snapshots.append(list(current))
    for i, state in enumerate(states):  # a goal with no history at all (imported) counts from now, as it is
        if snapshots[-1][i] is None:
            snapshots[-1][i] = state.status

    def grouped(snapshot: list[str | None], day: date) -> Counter[tuple[tuple[str, str], str | None]]:
        """Goals by (cohort, track) and standing on `day`: by status first, then each goal that may be past its
        due date (a prefix of the goals) moved to its standing, as core.goals defines it. None: not set yet."""
        tally: Counter[tuple[tuple[str, str], str | None]] = Counter(zip(group_list, snapshot, strict=True))
        for i in range(bisect_left(dues, day)):
            value = snapshot[i]
            if value is not None and (kind := standing(status=value, due=dues[i], today=day)) != value:
                tally[(group_list[i], value)] -= 1
                tally[(group_list[i], kind)] += 1
        return tally

    # each week-end's counts per cohort·track, from twelve weeks ago (the first) to now (the last, today)
    tallies = [grouped(snapshot, day) for snapshot, day in zip(snapshots, days, strict=True)]
    now_tally, then_tally = tallies[-1], tallies[0]
    groups = sorted(
        {group for tally in tallies for (group, value), n in tally.items() if value is not None and n},
        key=lambda k: (fold_name(k[0]), k[1]),
    )
    rows = []
    for group in groups:
        counts = {column: now_tally[(group, column)] for column in COLUMNS}
        change = {column: counts[column] - then_tally[(group, column)] for column in COLUMNS}
        trend = [{column: tally[(group, column)] for column in COLUMNS} for tally in tallies[1:]]
        rows.append(CountRow(*group, counts, change, sum(counts.values()), trend))
    totals = {column: sum(row.counts[column] for row in rows) for column in COLUMNS}
    weeks = [
        WeekRow(day, {column: sum(row.weeks[k][column] for row in rows) for column in COLUMNS})
        for k, day in enumerate(days[1:])
    ]
    gaps = q.city_gaps(session=session)

    def ref(city_id: int, name: str, cohort_id: int | None) -> CityRef:
        return CityRef(city_id, name, cohorts.get(cohort_id, NO_COHORT) if cohort_id else NO_COHORT)

    return Overview(
        today=today,
        rows=rows,
        totals=totals,
        weeks=weeks,
        no_reps=[ref(c, n, k) for c, n, k, reps, _, _ in gaps if not reps],
        no_goals=[ref(c, n, k) for c, n, k, _, goals, _ in gaps if not goals],
        no_introductions=[ref(c, n, k) for c, n, k, _, _, intros in gaps if not intros],
        cities=len(gaps),
    )


# --- goals ----------------------------------------------------------------------------------------------

SORT_KEYS = ("due", "city", "status", "cohort", "track")
STATUS_CHOICES = (*STATUSES, OVERDUE)  # the goals page filters by a status as reported, or by overdue


@dataclass(frozen=True)
class HistoryEntry:
    status: str
    note: str | None
    when: datetime


@dataclass(frozen=True)
class GoalView:
    goal_id: int
    text: str
    status: str
    overdue: bool
    due_on: date
    city_id: int
    city: str
    country: str
    cohort: str
    track: str
    collaborators: list[str]
    latest_note: str | None
    history: list[HistoryEntry]
    learnings: str | None
    created_at: datetime
    created_by: str | None
    updated_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True)
class GoalsPage:
    today: date
    rows: list[GoalView]
    total: int
    page: int
    pages: int
    chosen: dict[str, str]  # the filter as given, to fill the form and build links
    cohorts: list[tuple[int, str]]
    tracks: list[tuple[int, str, str]]
    errors: list[str] = field(default_factory=list)


def read_filter(
    params: dict[str, str], cohorts: list[tuple[int, str]], tracks: list[tuple[int, str, str]]
) -> tuple[q.GoalFilter, dict[str, str], list[str]]:
    """The query string as a filter; what cannot be read is named and left out, never an error page."""
    chosen: dict[str, str] = {}
    errors: list[str] = []
    cohort_id = track_id = None
    status = None
    if value := params.get("cohort", "").strip():
        cohort_id = next((i for i, name in cohorts if str(i) == value), None)
        if cohort_id is None:
            errors.append(str(Strings.NO_SUCH_COHORT))
        else:
            chosen["cohort"] = value
    if value := params.get("track", "").strip():
        track_id = next((i for i, key, _ in tracks if str(i) == value or key == value), None)
        if track_id is None:
            errors.append(str(Strings.NO_SUCH_TRACK))
        else:
            chosen["track"] = str(track_id)
    if value := params.get("status", "").strip():
        if value in STATUS_CHOICES:
            status = chosen["status"] = value
        else:
            errors.append(str(Strings.NO_SUCH_STATUS))
    days: dict[str, date | None] = {"due_from": None, "due_to": None}
    for name in days:
        if value := params.get(name, "").strip():
            try:
                days[name] = date.fromisoformat(value)
                chosen[name] = value
            except ValueError:
                errors.append(Strings.NOT_A_DATE.format(value=value[:20]))
    city = params.get("city", "").strip()[:80]
    if city:
        chosen["city"] = city
    sort = params.get("sort", "due")
    sort = sort if sort in SORT_KEYS else "due"
    chosen["sort"] = sort
    descending = params.get("order") == "desc"
    chosen["order"] = "desc" if descending else "asc"
    wanted = q.GoalFilter(
        cohort_id=cohort_id,
        track_id=track_id,
        status=status,
        due_from=days["due_from"],
        due_to=days["due_to"],
        city=fold_name(city) if city else None,
        sort=sort,
        descending=descending,
    )
    return wanted, chosen, errors


def goal_views(session: Session, rows: list[q.GoalListRow], today: date) -> list[GoalView]:
    ids = [row.goal_id for row in rows]
    history = goal_queries.histories(session=session, goal_ids=ids)
    partners = q.collaborator_names(session=session, goal_ids=ids)
    authors = goal_queries.member_names(session=session, member_ids=[row.created_by_id for row in rows])
    views = []
    for row in rows:
        entries = [HistoryEntry(status, note, when) for status, note, when in history.get(row.goal_id, [])]
        notes = [entry.note for entry in entries if entry.note]
        views.append(
            GoalView(
                goal_id=row.goal_id,
                text=row.text,
                status=row.status,
                overdue=is_overdue(status=row.status, due=row.due_on, today=today),
                due_on=row.due_on,
                city_id=row.city_id,
                city=row.city,
                country=row.country,
                cohort=row.cohort or NO_COHORT,
                track=row.track or NO_TRACK,
                collaborators=partners.get(row.goal_id, []),
                latest_note=notes[-1] if notes else None,
                history=entries,
                learnings=row.learnings,
                created_at=row.created_at,
                created_by=authors.get(row.created_by_id) if row.created_by_id else None,
                updated_at=row.updated_at,
                closed_at=row.closed_at,
            )
        )
    return views


def goals_page(
    session: Session, who: Viewer, now: datetime, params: dict[str, str], *, every: bool = False
) -> GoalsPage:
    """One page of the filtered goals (`every`: all of them, for the CSV of the same filter and order)."""
    today = local_day(now, who.zone)
    cohorts = q.cohorts(session=session)
    tracks = q.tracks(session=session)
    wanted, chosen, errors = read_filter(params, cohorts, tracks)
    page = int(params["page"]) if params.get("page", "").isdecimal() and len(params["page"]) < 6 else 1
    page = max(page, 1)
    if every:
        rows, total = q.goal_rows(session=session, wanted=wanted, today=today)
        page, pages = 1, 1
    else:
        rows, total = q.goal_rows(
            session=session, wanted=wanted, today=today, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
        )
        pages = max(1, -(-total // PAGE_SIZE))
    return GoalsPage(today, goal_views(session, rows, today), total, page, pages, chosen, cohorts, tracks, errors)


# --- one city -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IntroductionView:
    other_city_id: int
    other_city: str
    when: datetime
    in_round: bool
    ours: tuple[bool, str] | None  # (met, outcome) as this city answered
    theirs: tuple[bool, str] | None


@dataclass(frozen=True)
class CityPage:
    city_id: int
    name: str
    country: str
    population: int | None
    mentor: bool
    cohort: str
    interests: list[str]
    offers: list[str]
    needs: list[str]
    reps: list[str]
    goals: list[GoalView]
    introductions: list[IntroductionView]
    events: list[tuple[int, str, datetime, str]]
    today: date


def city_page(session: Session, who: Viewer, now: datetime, city_id: int) -> CityPage | None:
    found = q.city_profile(session=session, city_id=city_id)
    if found is None:
        return None
    city, cohort = found
    today = local_day(now, who.zone)
    items = q.city_items(session=session, city_id=city_id)
    rows, _ = q.goal_rows(session=session, wanted=q.GoalFilter(city_id=city_id), today=today)
    intros = [
        IntroductionView(
            other_city_id=row.other_city_id,
            other_city=row.other_city,
            when=row.created_at,
            in_round=row.in_round,
            ours=row.outcomes.get(city_id),
            theirs=row.outcomes.get(row.other_city_id),
        )
        for row in q.city_introductions(session=session, city_id=city_id)
    ]
    return CityPage(
        city_id=city_id,
        name=city.name,
        country=city.country,
        population=city.population,
        mentor=city.mentor,
        cohort=cohort or NO_COHORT,
        interests=q.city_interests(session=session, city_id=city_id),
        offers=[text for kind, text in items if kind == "offer"],
        needs=[text for kind, text in items if kind == "need"],
        reps=[name for name, _ in q.city_reps(session=session, city_id=city_id)],
        goals=goal_views(session, rows, today),
        introductions=intros,
        events=q.city_events(session=session, city_id=city_id),
        today=today,
    )


# --- network ---------------------------------------------------------------------------------------------

LINK_BASE = "__DASHBOARD_BASE__"  # stands for /dashboard/<token> in a drawn map, which is kept for every reader


@dataclass(frozen=True)
class NetworkCityRow:
    city_id: int
    name: str
    cohort: str
    track: str
    ties: int  # the weight of its ties in all


@dataclass(frozen=True)
class NetworkPage:
    """The map (SVG from handlers.files.network, cities linking to `LINK_BASE/city/<id>`) and what it says."""

    svg: bytes
    cities: int
    edges: int
    isolated: list[str]
    bridges: list[tuple[str, str, int]]  # the two cities, and how many the smaller side would lose
    articulation: list[str]
    clusters: list[int]  # sizes, largest first
    top: list[NetworkCityRow]
    new_edges: int = 0  # since the filter's day
    joined: list[str] = field(default_factory=list)  # cities whose every tie is new since then


@dataclass(frozen=True)
class NetworkFilter:
    """Which part of the network to draw: a cohort, a track, the neighbourhood of a city, new ties since a day."""

    cohort_id: int | None = None
    track_id: int | None = None
    city_id: int | None = None
    steps: int = 1  # the neighbourhood's reach: 1 or 2 ties
    since: date | None = None


@dataclass(frozen=True)
class NetworkForm:
    """The filter as read, and what the form offers and says about it."""

    wanted: NetworkFilter
    chosen: dict[str, str]  # as given, to fill the form
    errors: list[str]
    cohorts: list[tuple[int, str]]
    tracks: list[tuple[int, str, str]]
    cities: Sequence[tuple[int, str]]
    zone: str
    described: str  # the filter in words, for the map's title


CityRow = tuple[int, str, str, int | None]  # id, name, country, cohort id (q.cities)
NetworkSignature = tuple[
    tuple[CityRow, ...],
    tuple[tuple[int, int, bool, bool], ...],
    tuple[tuple[int, int], ...],
    tuple[tuple[int, tuple[str, ...]], ...],
]


def network_signature(session: Session) -> NetworkSignature:
    """What the map is drawn from, cheaply: cities and their cohorts and tracks, introductions and their outcome,
    goals shared. The same signature (with the same filter) gives the same map, so a drawn map can be kept."""
    return (
        tuple(q.cities(session=session)),
        tuple(sorted(q.introduction_ties(session=session))),
        tuple(sorted(q.collaboration_ties(session=session))),
        tuple(sorted((k, tuple(v)) for k, v in q.city_tracks(session=session).items())),
    )


def read_network_filter(
    session: Session,
    who: Viewer,
    now: datetime,
    params: dict[str, str],
    *,
    cities: Sequence[CityRow] | None = None,
) -> NetworkForm:
    """The query string as a network filter; what cannot be read is named and left out, never an error page.
    `cities`: every city as `q.cities` gives them, when the caller has them already (the network's signature)."""
    cohorts = q.cohorts(session=session)
    tracks = q.tracks(session=session)
    rows = q.cities(session=session) if cities is None else cities
    named = [(city_id, name) for city_id, name, _, _ in rows]
    chosen: dict[str, str] = {}
    errors: list[str] = []
    words: list[str] = []
    cohort_id = track_id = city_id = None
    since: date | None = None
    if value := params.get("cohort", "").strip():
        cohort_id = next((i for i, _ in cohorts if str(i) == value), None)
        if cohort_id is None:
            errors.append(str(Strings.NO_SUCH_COHORT))
        else:
            chosen["cohort"] = value
            words.append(Strings.SHOWN_COHORT.format(name=dict(cohorts)[cohort_id]))
    if value := params.get("track", "").strip():
        track_id = next((i for i, key, _ in tracks if str(i) == value or key == value), None)
        if track_id is None:
            errors.append(str(Strings.NO_SUCH_TRACK))
        else:
            chosen["track"] = str(track_id)
            words.append(Strings.SHOWN_TRACK.format(key=next(key for i, key, _ in tracks if i == track_id)))
    steps = 2 if params.get("steps", "").strip() == "2" else 1
    if value := params.get("city", "").strip():
        city_id = next((i for i, _ in named if str(i) == value), None)
        if city_id is None:
            errors.append(str(Strings.NO_SUCH_CITY))
        else:
            chosen["city"], chosen["steps"] = value, str(steps)
            around = Strings.SHOWN_AROUND_ONE if steps == 1 else Strings.SHOWN_AROUND_TWO
            words.append(around.format(city=dict(named)[city_id]))
    if value := params.get("since", "").strip():
        try:
            since = date.fromisoformat(value)
        except ValueError:
            errors.append(Strings.NOT_A_DATE.format(value=value[:20]))
        else:
            if since > local_day(now, who.zone):
                errors.append(Strings.SINCE_AHEAD.format(day=since.isoformat()))
                since = None
            else:
                chosen["since"] = value
                words.append(Strings.SHOWN_SINCE.format(day=since.isoformat()))
    wanted = NetworkFilter(cohort_id, track_id, city_id, steps, since)
    described = " · ".join(words) or str(Strings.SHOWN_EVERY_CITY)
    return NetworkForm(wanted, chosen, errors, cohorts, tracks, named, str(who.zone), described)


def network(session: Session, settings: HandlerSettings, wanted: NetworkFilter, zone: ZoneInfo) -> NetworkPage:
    """The collaboration network as /match map draws it, in SVG, each city focusable and linking to its page;
    only the part `wanted` asks for, with ties new since its day (midnight in `zone`) drawn apart."""
    from handlers.files.network import NetworkWords, network_map
    from handlers.match import Strings as MatchStrings
    from handlers.match import load_network, map_groups

    cohorts: dict[int | None, str] = dict(q.cohorts(session=session))  # a city in no cohort: None, not found
    cohort_of = {city_id: cohorts.get(cohort_id, NO_COHORT) for city_id, _, _, cohort_id in q.cities(session=session)}
    since = datetime.combine(wanted.since, time(0), zone) if wanted.since else None
    graph = load_network(
        session,
        track_order=[key for key, _ in settings.tracks],
        cohort_id=wanted.cohort_id,
        track_id=wanted.track_id,
        since=since,
        around=wanted.city_id,
        steps=wanted.steps,
    )
    groups, order = map_groups(graph, by_country=False)
    names = {city.id: city.name for city in graph.cities}
    partners: dict[int, list[str]] = defaultdict(list)
    for edge in graph.edges:
        partners[edge.a].append(names[edge.b])
        partners[edge.b].append(names[edge.a])

    def said(city_id: int) -> str:
        city = graph.city(city_id)
        track = city.tracks[0] if city.tracks else NO_TRACK
        others = sorted(partners.get(city_id, []))
        if len(others) > 12:
            ties = Strings.CITY_TIES_MORE.format(n=len(others), names=", ".join(others[:12]), more=len(others) - 12)
        else:
            ties = Strings.CITY_TIES.format(n=len(others), names=", ".join(others)) if others else Strings.CITY_NO_TIES
        cohort = cohort_of.get(city_id, NO_COHORT)
        return Strings.CITY_SAID.format(name=city.name, country=city.country, cohort=cohort, track=track, ties=ties)

    new_words = Strings.SHOWN_SINCE.format(day=wanted.since.isoformat()) if wanted.since else ""
    svg = network_map(
        graph,
        title=str(Strings.NETWORK_TITLE),
        words=NetworkWords(
            tie=MatchStrings.MAP_LEGEND_TIE,
            bridge=MatchStrings.MAP_LEGEND_BRIDGE,
            new=new_words,
            articulation=MatchStrings.MAP_LEGEND_ARTICULATION,
            joined=Strings.JOINED_SINCE.format(day=wanted.since.isoformat()) if wanted.since else "",
        ),
        groups=groups,
        group_order=order,
        fmt="svg",
        titles={city.id: said(city.id) for city in graph.cities},
        links={city.id: f"{LINK_BASE}/city/{city.id}" for city in graph.cities},
    )
    top = sorted((c for c in graph.cities if graph.strength[c.id]), key=lambda c: (-graph.strength[c.id], c.name))
    return NetworkPage(
        svg=svg,
        cities=len(graph.cities),
        edges=len(graph.edges),
        isolated=[names[city_id] for city_id in graph.isolated],
        bridges=[(names[b.a], names[b.b], b.cut_off) for b in graph.bridges],
        articulation=[names[city_id] for city_id in graph.articulation],
        clusters=[len(cluster) for cluster in graph.clusters],
        top=[
            NetworkCityRow(c.id, c.name, cohort_of.get(c.id, NO_COHORT), (*c.tracks, NO_TRACK)[0], graph.strength[c.id])
            for c in top[:20]
        ],
        new_edges=graph.new_edges,
        joined=[names[city_id] for city_id in graph.joined],
    )


# --- events ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventView:
    event_id: int
    title: str
    start: datetime
    end: datetime | None
    location: str
    repeats: bool
    attending: int
    who: list[tuple[str, str | None]] | None  # organisers only


def events_page(session: Session, who: Viewer, now: datetime) -> list[EventView]:
    counts = q.rsvp_counts(session=session)
    upcoming = []
    for event in q.scheduled_events(session=session):
        occurrence = current_occurrence(session, event, now)
        ongoing = occurrence.end is not None and occurrence.start <= now < occurrence.end
        if occurrence.start >= now or ongoing:
            upcoming.append((occurrence, event))
    upcoming.sort(key=lambda item: (item[0].start, item[1].id))
    names = q.attendee_names(session=session, event_ids=[e.stored_id for _, e in upcoming]) if who.organiser else {}
    return [
        EventView(
            event_id=event.stored_id,
            title=event.title,
            start=occurrence.start.astimezone(who.zone),
            end=occurrence.end.astimezone(who.zone) if occurrence.end else None,
            location=event.location,
            repeats=bool(event.rrule),
            attending=counts.get(event.stored_id, 0),
            who=names.get(event.stored_id, []) if who.organiser else None,
        )
        for occurrence, event in upcoming
    ]
