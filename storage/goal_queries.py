"""Goal queries: keyword-only, they add and flush but never commit (the use case owns the transaction)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from core.goals import OPEN, standing
from storage.models import City, Cohort, Goal, GoalCheckin, GoalCollaborator, GoalUpdate, Member, Track, key

OPEN_STATUSES = tuple(sorted(OPEN))  # core.goals says which statuses are open (new: nobody reported on it yet)


@dataclass(frozen=True)
class GoalRow:
    """A goal with what every view shows beside it: its city, cohort, track and collaborators."""

    goal: Goal
    city: City
    cohort: str | None
    track: Track | None
    collaborators: tuple[str, ...]


# --- goals --------------------------------------------------------------------------------------------


def add_goal(
    *,
    session: Session,
    city_id: int,
    text: str,
    track_id: int | None,
    due_on: date,
    member_id: int | None,
    now: datetime,
) -> Goal:
    """A new goal, not yet reported on (status `new`), with its first history entry."""
    goal = Goal(
        city_id=city_id,
        text=text,
        track_id=track_id,
        due_on=due_on,
        status="new",
        created_by_id=member_id,
        created_at=now,
        updated_at=now,
    )
    session.add(goal)
    session.flush()
    assert goal.id is not None  # the flush gave it one
    session.add(GoalUpdate(goal_id=goal.id, status=goal.status, note=None, member_id=member_id, created_at=now))
    session.flush()
    return goal


def get_goal(*, session: Session, goal_id: int) -> Goal | None:
    return session.get(Goal, goal_id)


def set_collaborators(*, session: Session, goal_id: int, city_ids: Sequence[int]) -> None:
    for link in session.exec(select(GoalCollaborator).where(col(GoalCollaborator.goal_id) == goal_id)):
        session.delete(link)
    session.flush()
    for city_id in dict.fromkeys(city_ids):
        session.add(GoalCollaborator(goal_id=goal_id, city_id=city_id))
    session.flush()


def record_update(
    *,
    session: Session,
    goal: Goal,
    status: str,
    note: str | None,
    learnings: str | None,
    member_id: int | None,
    now: datetime,
) -> GoalUpdate:
    """Move a goal to `status` and keep the step in its history; closing stamps `closed_at` once."""
    closing = status in ("done", "dropped")
    if closing and goal.closed_at is None:
        goal.closed_at = now
    goal.status = status
    goal.updated_at = now
    if learnings is not None:
        goal.learnings = learnings
    session.add(goal)
    assert goal.id is not None  # a stored goal
    update = GoalUpdate(goal_id=goal.id, status=status, note=note, member_id=member_id, created_at=now)
    session.add(update)
    session.flush()
    return update


def histories(*, session: Session, goal_ids: Sequence[int]) -> dict[int, list[tuple[str, str | None, datetime]]]:
    """Each goal's history, oldest first: (status, note, when); a few queries however many goals."""
    found: dict[int, list[tuple[str, str | None, datetime]]] = {goal_id: [] for goal_id in goal_ids}
    for start in range(0, len(goal_ids), 500):  # bounded IN lists
        chunk = list(goal_ids[start : start + 500])
        query = (
            select(col(GoalUpdate.goal_id), col(GoalUpdate.status), col(GoalUpdate.note), col(GoalUpdate.created_at))
            .where(col(GoalUpdate.goal_id).in_(chunk))
            .order_by(col(GoalUpdate.goal_id), col(GoalUpdate.id))
        )
        for goal_id, status, note, when in session.exec(query):
            found[goal_id].append((status, note, when))
    return found


def goal_history(*, session: Session, goal_id: int) -> list[GoalUpdate]:
    query = select(GoalUpdate).where(col(GoalUpdate.goal_id) == goal_id).order_by(col(GoalUpdate.id))
    return list(session.exec(query))


def find_goals(
    *,
    session: Session,
    city_id: int | None = None,
    track_id: int | None = None,
    cohort_id: int | None = None,
    overdue_on: date | None = None,
    open_only: bool = False,
    due_until: date | None = None,
    changed_since: datetime | None = None,
    limit: int | None = None,
) -> list[GoalRow]:
    """Goals with their context, open ones first, then by due date.

    `overdue_on` keeps open goals due before that day; `due_until` with `changed_since` keeps goals that
    are open and due by then OR changed since then (the weekly digest's net).
    """
    query = select(Goal, City, col(Cohort.name), Track).join(City, col(City.id) == col(Goal.city_id))
    query = query.outerjoin(Cohort, col(Cohort.id) == col(City.cohort_id))
    query = query.outerjoin(Track, col(Track.id) == col(Goal.track_id))
    if city_id is not None:
        query = query.where(col(Goal.city_id) == city_id)
    if track_id is not None:
        query = query.where(col(Goal.track_id) == track_id)
    if cohort_id is not None:
        query = query.where(col(City.cohort_id) == cohort_id)
    if overdue_on is not None:
        query = query.where(col(Goal.status).in_(OPEN_STATUSES), col(Goal.due_on) < overdue_on)
    if open_only:
        query = query.where(col(Goal.status).in_(OPEN_STATUSES))
    if due_until is not None and changed_since is not None:
        due_soon = (col(Goal.status).in_(OPEN_STATUSES)) & (col(Goal.due_on) <= due_until)
        query = query.where(or_(due_soon, col(Goal.updated_at) > changed_since))
    elif due_until is not None:
        query = query.where(col(Goal.due_on) <= due_until)
    still_open = col(Goal.status).in_(OPEN_STATUSES)
    query = query.order_by(still_open.desc(), col(Goal.due_on), col(Goal.id))
    if limit is not None:
        query = query.limit(limit)
    rows = list(session.exec(query))
    partners = collaborator_names(session=session, goal_ids=[goal.id for goal, *_ in rows])
    return [
        GoalRow(goal=goal, city=city, cohort=cohort, track=track, collaborators=tuple(partners.get(goal.id or 0, ())))
        for goal, city, cohort, track in rows
    ]


def count_goals(
    *,
    session: Session,
    city_id: int | None = None,
    track_id: int | None = None,
    overdue_on: date | None = None,
) -> int:
    query = select(func.count()).select_from(Goal)
    if city_id is not None:
        query = query.where(col(Goal.city_id) == city_id)
    if track_id is not None:
        query = query.where(col(Goal.track_id) == track_id)
    if overdue_on is not None:
        query = query.where(col(Goal.status).in_(OPEN_STATUSES), col(Goal.due_on) < overdue_on)
    return session.exec(query).one()


def collaborator_names(*, session: Session, goal_ids: Sequence[int | None]) -> dict[int, list[str]]:
    ids = [goal_id for goal_id in goal_ids if goal_id is not None]
    result: dict[int, list[str]] = {}
    if not ids:
        return result
    query = (
        select(col(GoalCollaborator.goal_id), col(City.name))
        .join(City, col(City.id) == col(GoalCollaborator.city_id))
        .where(col(GoalCollaborator.goal_id).in_(ids))
        .order_by(col(City.name_key))
    )
    for goal_id, name in session.exec(query):
        result.setdefault(goal_id, []).append(name)
    return result


def member_names(*, session: Session, member_ids: Collection[int | None]) -> dict[int, str]:
    ids = [member_id for member_id in set(member_ids) if member_id is not None]
    if not ids:
        return {}
    rows = session.exec(select(key(Member.id), col(Member.display_name)).where(col(Member.id).in_(ids)))
    return {member_id: name for member_id, name in rows}


# --- check-ins ----------------------------------------------------------------------------------------


def checkins_sent(*, session: Session, goal_ids: Sequence[int | None]) -> dict[int, set[str]]:
    ids = [goal_id for goal_id in goal_ids if goal_id is not None]
    result: dict[int, set[str]] = {}
    if not ids:
        return result
    query = select(col(GoalCheckin.goal_id), col(GoalCheckin.kind)).where(col(GoalCheckin.goal_id).in_(ids))
    for goal_id, kind in session.exec(query):
        result.setdefault(goal_id, set()).add(kind)
    return result


def claim_checkin(*, session: Session, goal_id: int, kind: str, now: datetime) -> bool:
    """Record a check-in as sent; False when it already was, by us or by another process.

    INSERT … ON CONFLICT DO NOTHING waits for a concurrent claimer and then yields to it, so two
    schedulers sharing one database never both send the same check-in.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(GoalCheckin)
        .values(goal_id=goal_id, kind=kind, sent_at=now)
        .on_conflict_do_nothing(index_elements=["goal_id", "kind"])
        .returning(col(GoalCheckin.id))
    )
    # A returned row, not rowcount: drivers disagree on rowcount once RETURNING is involved.
    return session.connection().execute(statement).first() is not None


# --- what the collaboration map and the progress chart read -----------------------------------------------


def collaboration_ties(*, session: Session) -> list[tuple[int, int, datetime]]:
    """(goal's city, a city named in with=, when the goal was set) for every goal not dropped."""
    query = (
        select(col(Goal.city_id), col(GoalCollaborator.city_id), col(Goal.created_at))
        .join(GoalCollaborator, col(GoalCollaborator.goal_id) == col(Goal.id))
        .where(col(Goal.status) != "dropped")
        .order_by(col(Goal.id), col(GoalCollaborator.city_id))
    )
    return [(city_id, partner_id, at) for city_id, partner_id, at in session.exec(query)]


@dataclass(frozen=True)
class ProgressCount:
    cohort: str | None
    track: str | None  # the track's key
    city: str
    status: str
    standing: str  # core.goals.standing on the day asked about: the status, or overdue
    goals: int


def progress_by(
    *,
    session: Session,
    today: date,
    cohort_id: int | None = None,
    track_id: int | None = None,
    city_id: int | None = None,
) -> list[ProgressCount]:
    """Goals counted by cohort, track, city, status and standing on `today`."""
    # Grouped by due date, not by an overdue expression: PostgreSQL will not match a bound parameter in the
    # select list to its twin in GROUP BY.
    query = (
        select(  # type: ignore[call-overload]  # sqlmodel's select() is typed for at most four columns
            col(Cohort.name), col(Track.key), col(City.name), col(Goal.status), col(Goal.due_on), func.count()
        )
        .select_from(Goal)
        .join(City, col(City.id) == col(Goal.city_id))
        .outerjoin(Cohort, col(Cohort.id) == col(City.cohort_id))
        .outerjoin(Track, col(Track.id) == col(Goal.track_id))
        .group_by(col(Cohort.name), col(Track.key), col(City.name), col(Goal.status), col(Goal.due_on))
    )
    if cohort_id is not None:
        query = query.where(col(City.cohort_id) == cohort_id)
    if track_id is not None:
        query = query.where(col(Goal.track_id) == track_id)
    if city_id is not None:
        query = query.where(col(Goal.city_id) == city_id)
    counted: dict[tuple[str | None, str | None, str, str, str], int] = {}
    for cohort, track, city, status, due_on, goals in session.exec(query):
        key = (cohort, track, city, status, standing(status=status, due=due_on, today=today))
        counted[key] = counted.get(key, 0) + goals
    return [ProgressCount(*key, goals) for key, goals in counted.items()]
