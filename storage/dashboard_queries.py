"""Read-only queries for the web dashboard: a few per page, each over whole tables (never one per row), so a
page at 500 cities and 5,000 goals costs the same handful of round trips as one at ten. Links to the dashboard
are the only thing written here (add, revoke); they flush, the caller commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import case, func, or_, update
from sqlmodel import Session, col, select

from core.goals import OPEN, OVERDUE
from storage.goal_queries import histories  # noqa: F401  (the dashboard reads histories as the export does)
from storage.models import (
    City,
    CityInterest,
    CityItem,
    Cohort,
    DashboardLink,
    Event,
    Goal,
    GoalCollaborator,
    GoalUpdate,
    Introduction,
    IntroductionOutcome,
    Member,
    Rsvp,
    Track,
    key,
)

OPEN_STATUSES = tuple(sorted(OPEN))

# --- links ----------------------------------------------------------------------------------------------


def add_link(*, session: Session, member_id: int, token_hash: str, now: datetime) -> DashboardLink:
    link = DashboardLink(token_hash=token_hash, member_id=member_id, created_at=now)
    session.add(link)
    session.flush()
    return link


def live_link_owner(*, session: Session, token_hash: str) -> Member | None:
    """The member a live (not revoked) link belongs to; their role is the caller's to check."""
    query = (
        select(Member)
        .join(DashboardLink, col(DashboardLink.member_id) == col(Member.id))
        .where(col(DashboardLink.token_hash) == token_hash, col(DashboardLink.revoked_at).is_(None))
    )
    return session.exec(query).first()


def revoke_links(*, session: Session, member_id: int, now: datetime) -> int:
    statement = (
        update(DashboardLink)
        .where(col(DashboardLink.member_id) == member_id, col(DashboardLink.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    return session.connection().execute(statement).rowcount


# --- names ----------------------------------------------------------------------------------------------


def cohorts(*, session: Session) -> list[tuple[int, str]]:
    return [
        (row[0], row[1])
        for row in session.exec(select(key(Cohort.id), col(Cohort.name)).order_by(col(Cohort.name_key)))
    ]


def tracks(*, session: Session) -> list[tuple[int, str, str]]:
    """Every track ever used (an inactive one may still label old goals): id, key, name."""
    query = select(key(Track.id), col(Track.key), col(Track.name)).order_by(col(Track.key))
    return [(row[0], row[1], row[2]) for row in session.exec(query)]


def cities(*, session: Session) -> list[tuple[int, str, str, int | None]]:
    """id, name, country, cohort id of every city, by name."""
    query = select(key(City.id), col(City.name), col(City.country), col(City.cohort_id)).order_by(col(City.name_key))
    return [(row[0], row[1], row[2], row[3]) for row in session.exec(query)]


# --- overview -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GoalState:
    """What the overview needs of a goal: where it belongs, when it is due, and its history of statuses."""

    goal_id: int
    cohort_id: int | None
    track_id: int | None
    due_on: date
    status: str


def goal_states(*, session: Session) -> list[GoalState]:
    query = select(  # type: ignore[call-overload]  # sqlmodel's select() is typed for at most four columns
        col(Goal.id), col(City.cohort_id), col(Goal.track_id), col(Goal.due_on), col(Goal.status)
    ).join(City, col(City.id) == col(Goal.city_id))
    return [GoalState(*row) for row in session.connection().execute(query).all()]


def status_changes(*, session: Session, ends: Sequence[datetime]) -> Sequence[Sequence[Any]]:
    """(goal, status, bucket) of every history entry, oldest first: bucket is the index of the first of `ends`
    (ascending) the entry is not after, len(ends) for entries after the last: what the trend replays."""
    bucket = case(*((col(GoalUpdate.created_at) <= end, number) for number, end in enumerate(ends)), else_=len(ends))
    query = select(col(GoalUpdate.goal_id), col(GoalUpdate.status), bucket).order_by(
        col(GoalUpdate.created_at), col(GoalUpdate.id)
    )
    return session.connection().execute(query).all()  # rows as they come: (goal, status, bucket), 17,600 at scale


def city_gaps(*, session: Session) -> list[tuple[int, str, int | None, bool, bool, bool]]:
    """Every city with whether it has reps, goals and introductions: (id, name, cohort id, reps, goals, intros)."""
    with_reps = select(col(Member.city_id)).where(col(Member.city_id).is_not(None)).distinct()
    with_goals = select(col(Goal.city_id)).distinct()
    reps = set(session.exec(with_reps))
    goals = set(session.exec(with_goals))
    intros = set(session.exec(select(col(Introduction.city_a_id)).distinct()))
    intros |= set(session.exec(select(col(Introduction.city_b_id)).distinct()))
    return [
        (city_id, name, cohort_id, city_id in reps, city_id in goals, city_id in intros)
        for city_id, name, _country, cohort_id in cities(session=session)
    ]


# --- goals ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GoalFilter:
    city_id: int | None = None
    cohort_id: int | None = None
    track_id: int | None = None
    status: str | None = None  # a status, or "overdue"
    due_from: date | None = None
    due_to: date | None = None
    city: str | None = None  # a folded name, matched as a prefix
    sort: str = "due"  # due, city, status, cohort, track
    descending: bool = False


@dataclass(frozen=True)
class GoalListRow:
    goal_id: int
    text: str
    status: str
    due_on: date
    city_id: int
    city: str
    country: str
    cohort: str | None
    track: str | None
    updated_at: datetime
    learnings: str | None
    created_at: datetime
    created_by_id: int | None
    closed_at: datetime | None


SORTS = {
    "due": (col(Goal.due_on), col(Goal.id)),
    "city": (col(City.name_key), col(Goal.due_on)),
    "status": (col(Goal.status), col(Goal.due_on)),
    "cohort": (col(Cohort.name_key), col(City.name_key)),
    "track": (col(Track.key), col(Goal.due_on)),
}


def goal_rows(
    *, session: Session, wanted: GoalFilter, today: date, offset: int = 0, limit: int | None = None
) -> tuple[list[GoalListRow], int]:
    """The goals the filter keeps, in its order, from `offset` (at most `limit`), and how many it keeps in all."""
    base = (
        select(  # type: ignore[call-overload]  # sqlmodel's select() is typed for at most four columns
            col(Goal.id),
            col(Goal.text),
            col(Goal.status),
            col(Goal.due_on),
            col(City.id),
            col(City.name),
            col(City.country),
            col(Cohort.name),
            col(Track.key),
            col(Goal.updated_at),
            col(Goal.learnings),
            col(Goal.created_at),
            col(Goal.created_by_id),
            col(Goal.closed_at),
        )
        .join(City, col(City.id) == col(Goal.city_id))
        .outerjoin(Cohort, col(Cohort.id) == col(City.cohort_id))
        .outerjoin(Track, col(Track.id) == col(Goal.track_id))
    )
    conditions = []
    if wanted.city_id is not None:
        conditions.append(col(Goal.city_id) == wanted.city_id)
    if wanted.cohort_id is not None:
        conditions.append(col(City.cohort_id) == wanted.cohort_id)
    if wanted.track_id is not None:
        conditions.append(col(Goal.track_id) == wanted.track_id)
    if wanted.status == OVERDUE:
        conditions += [col(Goal.status).in_(OPEN_STATUSES), col(Goal.due_on) < today]
    elif wanted.status:
        conditions.append(col(Goal.status) == wanted.status)
    if wanted.due_from is not None:
        conditions.append(col(Goal.due_on) >= wanted.due_from)
    if wanted.due_to is not None:
        conditions.append(col(Goal.due_on) <= wanted.due_to)
    if wanted.city:
        conditions.append(col(City.name_key).startswith(wanted.city, autoescape=True))
    if conditions:
        base = base.where(*conditions)
    order = [part.desc() if wanted.descending else part for part in SORTS.get(wanted.sort, SORTS["due"])]
    query = base.order_by(*order, col(Goal.id)).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    rows = [GoalListRow(*row) for row in session.exec(query)]
    total_query = select(func.count()).select_from(base.with_only_columns(col(Goal.id)).subquery())
    total = session.exec(total_query).one() if limit is not None or offset else len(rows)
    return rows, total


def collaborator_names(*, session: Session, goal_ids: Sequence[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for start in range(0, len(goal_ids), 500):
        chunk = list(goal_ids[start : start + 500])
        query = (
            select(col(GoalCollaborator.goal_id), col(City.name))
            .join(City, col(City.id) == col(GoalCollaborator.city_id))
            .where(col(GoalCollaborator.goal_id).in_(chunk))
            .order_by(col(City.name_key))
        )
        for goal_id, name in session.exec(query):
            found.setdefault(goal_id, []).append(name)
    return found


# --- one city -------------------------------------------------------------------------------------------


def city_profile(*, session: Session, city_id: int) -> tuple[City, str | None] | None:
    query = (
        select(City, col(Cohort.name))
        .outerjoin(Cohort, col(Cohort.id) == col(City.cohort_id))
        .where(col(City.id) == city_id)
    )
    row = session.exec(query).first()
    return None if row is None else (row[0], row[1])


def city_interests(*, session: Session, city_id: int) -> list[str]:
    query = (
        select(col(Track.name))
        .join(CityInterest, col(CityInterest.track_id) == col(Track.id))
        .where(col(CityInterest.city_id) == city_id)
        .order_by(col(Track.key))
    )
    return list(session.exec(query))


def city_items(*, session: Session, city_id: int) -> list[tuple[str, str]]:
    query = (
        select(col(CityItem.kind), col(CityItem.text))
        .where(col(CityItem.city_id) == city_id)
        .order_by(col(CityItem.id))
    )
    return [(row[0], row[1]) for row in session.exec(query)]


def city_reps(*, session: Session, city_id: int) -> list[tuple[str, str]]:
    query = (
        select(col(Member.display_name), col(Member.role))
        .where(col(Member.city_id) == city_id)
        .order_by(col(Member.display_name))
    )
    return [(row[0], row[1]) for row in session.exec(query)]


@dataclass(frozen=True)
class IntroductionRow:
    introduction_id: int
    other_city_id: int
    other_city: str
    created_at: datetime
    in_round: bool
    outcomes: dict[int, tuple[bool, str]]  # city id -> (met, outcome)


def city_introductions(*, session: Session, city_id: int) -> list[IntroductionRow]:
    query = (
        select(
            key(Introduction.id), col(Introduction.city_a_id), col(Introduction.city_b_id), col(Introduction.created_at)
        )
        .where(or_(col(Introduction.city_a_id) == city_id, col(Introduction.city_b_id) == city_id))
        .order_by(col(Introduction.created_at).desc(), col(Introduction.id))
    )
    rows = list(session.exec(query))
    rounds = {
        row
        for row in session.exec(
            select(col(Introduction.id)).where(
                or_(col(Introduction.city_a_id) == city_id, col(Introduction.city_b_id) == city_id),
                col(Introduction.round_id).is_not(None),
            )
        )
    }
    others = {b if a == city_id else a for _, a, b, _ in rows}
    names = (
        {row[0]: row[1] for row in session.exec(select(col(City.id), col(City.name)).where(col(City.id).in_(others)))}
        if others
        else {}
    )
    answers: dict[int, dict[int, tuple[bool, str]]] = {}
    if rows:
        outcome_query = select(
            col(IntroductionOutcome.introduction_id),
            col(IntroductionOutcome.city_id),
            col(IntroductionOutcome.met),
            col(IntroductionOutcome.outcome),
        ).where(col(IntroductionOutcome.introduction_id).in_([row[0] for row in rows]))
        for intro_id, answer_city, met, outcome in session.exec(outcome_query):
            answers.setdefault(intro_id, {})[answer_city] = (met, outcome)
    return [
        IntroductionRow(
            introduction_id=intro_id,
            other_city_id=(other := b if a == city_id else a),
            other_city=names.get(other, "?"),
            created_at=when,
            in_round=intro_id in rounds,
            outcomes=answers.get(intro_id, {}),
        )
        for intro_id, a, b, when in rows
    ]


def city_events(*, session: Session, city_id: int) -> list[tuple[int, str, datetime, str]]:
    """Events any of the city's people RSVP'd to: (id, title, start, status), latest first."""
    query = (
        select(key(Event.id), col(Event.title), col(Event.start_at), col(Event.status))
        .join(Rsvp, col(Rsvp.event_id) == col(Event.id))
        .join(Member, col(Member.id) == col(Rsvp.member_id))
        .where(col(Member.city_id) == city_id)
        .distinct()
        .order_by(col(Event.start_at).desc())
    )
    return [(row[0], row[1], row[2], row[3]) for row in session.exec(query)]


# --- network --------------------------------------------------------------------------------------------


def introduction_ties(*, session: Session) -> list[tuple[int, int, bool, bool]]:
    """Every introduction as (city a, city b, met, from a round): met when either side said so."""
    met = {
        row
        for row in session.exec(
            select(col(IntroductionOutcome.introduction_id)).where(col(IntroductionOutcome.met).is_(True)).distinct()
        )
    }
    query = select(
        col(Introduction.id), col(Introduction.city_a_id), col(Introduction.city_b_id), col(Introduction.round_id)
    )
    return [(a, b, intro_id in met, round_id is not None) for intro_id, a, b, round_id in session.exec(query)]


def collaboration_ties(*, session: Session) -> list[tuple[int, int]]:
    """A goal's city and each city it names with `with=`."""
    query = select(col(Goal.city_id), col(GoalCollaborator.city_id)).join(
        Goal, col(Goal.id) == col(GoalCollaborator.goal_id)
    )
    return [(row[0], row[1]) for row in session.exec(query)]


def city_tracks(*, session: Session) -> dict[int, list[str]]:
    query = select(col(CityInterest.city_id), col(Track.key)).join(Track, col(Track.id) == col(CityInterest.track_id))
    found: dict[int, list[str]] = {}
    for city_id, track_key in session.exec(query.order_by(col(Track.key))):
        found.setdefault(city_id, []).append(track_key)
    return found


# --- events ---------------------------------------------------------------------------------------------


def scheduled_events(*, session: Session) -> list[Event]:
    return list(
        session.exec(select(Event).where(col(Event.status) == "scheduled").order_by(col(Event.start_at), col(Event.id)))
    )


def rsvp_counts(*, session: Session) -> dict[int, int]:
    query = select(col(Rsvp.event_id), func.count()).group_by(col(Rsvp.event_id))
    return {row[0]: row[1] for row in session.exec(query)}


def attendee_names(*, session: Session, event_ids: Sequence[int]) -> dict[int, list[tuple[str, str | None]]]:
    """Who RSVP'd to each event: (name, their city)."""
    if not event_ids:
        return {}
    query = (
        select(col(Rsvp.event_id), col(Member.display_name), col(City.name))
        .join(Member, col(Member.id) == col(Rsvp.member_id))
        .outerjoin(City, col(City.id) == col(Member.city_id))
        .where(col(Rsvp.event_id).in_(event_ids))
        .order_by(col(Member.display_name))
    )
    found: dict[int, list[tuple[str, str | None]]] = {}
    for event_id, name, city in session.exec(query):
        found.setdefault(event_id, []).append((name, city))
    return found
