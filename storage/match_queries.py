"""Matching queries: keyword-only; they add and flush but never commit (the use case owns the transaction).

Also keeps `profile_revision` current: whenever a flush touches a city, its interests, its offers and
needs or its goals, the counter (row 0) goes up and the city's row takes the new value, in the same transaction. Each
process's match index asks "what changed since revision N?" and reloads only those cities.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, event, func, inspect, or_, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from storage.db import insert_ignoring_conflict
from storage.goal_queries import OPEN_STATUSES
from storage.models import (
    City,
    CityInterest,
    CityItem,
    Goal,
    Introduction,
    IntroductionOutcome,
    MatchPause,
    MatchRound,
    Member,
    NotAFit,
    ProfileRevision,
    Track,
    key,
)

COUNTER = 0  # the profile_revision row that holds the counter, not a city

# --- profile revisions ---------------------------------------------------------------------------------


def _touched_city_ids(session: OrmSession) -> set[int]:
    touched: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, City) and obj.id is not None and (obj in session.new or session.is_modified(obj)):
            touched.add(obj.id)
        elif isinstance(obj, CityInterest | CityItem | Goal) and obj.city_id is not None:
            touched.add(obj.city_id)
    return touched


_migrated: weakref.WeakSet[Engine] = weakref.WeakSet()  # engines whose schema has profile_revision


def _has_revisions(session: OrmSession) -> bool:
    """A schema older than this feature (mid-upgrade, or a test at revision 0001) has nothing to bump."""
    connection = session.connection()
    if connection.engine in _migrated:
        return True
    if not inspect(connection).has_table(ProfileRevision.__tablename__):
        return False
    _migrated.add(connection.engine)
    return True


def _note_profile_changes(session: OrmSession, _context: object) -> None:
    """after_flush: bump the revision of every city whose declared profile this flush changed."""
    touched = _touched_city_ids(session)
    if touched and _has_revisions(session):
        mark_profiles_changed(session=session, city_ids=sorted(touched))


# Registered once, for every session: /city edits, imports and tests all keep the revisions honest.
if not event.contains(OrmSession, "after_flush", _note_profile_changes):
    event.listen(OrmSession, "after_flush", _note_profile_changes)


def mark_profiles_changed(*, session: OrmSession, city_ids: Sequence[int]) -> int:
    """Give these cities a new revision. Core statements, so it is safe inside a flush event."""
    connection = session.connection()
    # SQLModel sets __table__ on every table class when it is made; its stubs do not declare it.
    table = ProfileRevision.__table__  # type: ignore[attr-defined]
    bumped = connection.execute(
        update(table).where(table.c.city_id == COUNTER).values(revision=table.c.revision + 1)
    ).rowcount
    if not bumped:  # a schema made without the migration's seed row
        connection.execute(table.insert().values(city_id=COUNTER, revision=1))
    revision = connection.execute(sa_select(table.c.revision).where(table.c.city_id == COUNTER)).scalar_one()
    for start in range(0, len(city_ids), 1000):  # an import marks thousands: statements of a bounded size
        chunk = city_ids[start : start + 1000]
        known = set(connection.execute(sa_select(table.c.city_id).where(table.c.city_id.in_(chunk))).scalars())
        if known:
            connection.execute(update(table).where(table.c.city_id.in_(known)).values(revision=revision))
        fresh = [{"city_id": city_id, "revision": revision} for city_id in chunk if city_id not in known]
        if fresh:
            # Another transaction may add the same city's row meanwhile: the later revision wins, nobody fails.
            insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
            statement = insert(table).values(fresh)
            connection.execute(
                statement.on_conflict_do_update(
                    index_elements=["city_id"], set_={"revision": statement.excluded.revision}
                )
            )
    return int(revision)


def profile_revision(*, session: Session) -> int:
    row = session.get(ProfileRevision, COUNTER)
    return row.revision if row else 0


def changed_city_ids(*, session: Session, since: int) -> list[int]:
    query = select(col(ProfileRevision.city_id)).where(
        col(ProfileRevision.revision) > since, col(ProfileRevision.city_id) != COUNTER
    )
    return list(session.exec(query))


# --- profiles --------------------------------------------------------------------------------------------


def cities(*, session: Session, city_ids: Sequence[int] | None = None) -> list[City]:
    query = select(City).order_by(col(City.id))
    if city_ids is not None:
        query = query.where(col(City.id).in_(city_ids))
    return list(session.exec(query))


def city_profile_rows(
    *, session: Session, city_ids: Sequence[int] | None = None
) -> list[tuple[int, str, bool, int | None]]:
    """(id, name, mentor, cohort id) of these cities (all when None), by id: columns, not City rows."""
    query = select(key(City.id), col(City.name), col(City.mentor), col(City.cohort_id)).order_by(col(City.id))
    if city_ids is not None:
        query = query.where(col(City.id).in_(city_ids))
    return [(city_id, name, mentor, cohort_id) for city_id, name, mentor, cohort_id in session.exec(query)]


def city_ids(*, session: Session) -> list[int]:
    return list(session.exec(select(key(City.id)).order_by(col(City.id))))


def city_names(*, session: Session, cohort_id: int | None = None) -> list[tuple[int, str]]:
    """(id, name) of every city (of a cohort), in the order of `queries.list_cities`: no City rows to load."""
    query = select(key(City.id), col(City.name)).order_by(col(City.name_key))
    if cohort_id is not None:
        query = query.where(col(City.cohort_id) == cohort_id)
    return [(city_id, name) for city_id, name in session.exec(query)]


def interest_keys(*, session: Session, city_ids: Sequence[int] | None = None) -> list[tuple[int, str]]:
    """(city id, track key) for every active interest."""
    query = (
        select(col(CityInterest.city_id), col(Track.key))
        .join(Track, col(Track.id) == col(CityInterest.track_id))
        .where(col(Track.active))
    )
    if city_ids is not None:
        query = query.where(col(CityInterest.city_id).in_(city_ids))
    return [(city_id, key) for city_id, key in session.exec(query)]


def item_texts(*, session: Session, city_ids: Sequence[int] | None = None) -> list[tuple[int, str, str]]:
    """(city id, "offer" or "need", text), oldest first."""
    query = select(col(CityItem.city_id), col(CityItem.kind), col(CityItem.text)).order_by(col(CityItem.id))
    if city_ids is not None:
        query = query.where(col(CityItem.city_id).in_(city_ids))
    return [(city_id, kind, text) for city_id, kind, text in session.exec(query)]


def open_goal_texts(*, session: Session, city_ids: Sequence[int] | None = None) -> dict[int, list[str]]:
    """Each city's open goals (not yet reported, on track or at risk), as text, for the goal similarity of the
    match score."""
    query = select(col(Goal.city_id), col(Goal.text)).where(col(Goal.status).in_(OPEN_STATUSES)).order_by(col(Goal.id))
    if city_ids is not None:
        query = query.where(col(Goal.city_id).in_(city_ids))
    result: dict[int, list[str]] = {}
    for city_id, text in session.exec(query):
        result.setdefault(city_id, []).append(text)
    return result


def reps_of_cities(*, session: Session, city_ids: Sequence[int]) -> dict[int, list[Member]]:
    result: dict[int, list[Member]] = {city_id: [] for city_id in city_ids}
    if not city_ids:
        return result
    query = select(Member).where(col(Member.city_id).in_(city_ids)).order_by(col(Member.display_name), col(Member.id))
    for member in session.exec(query):
        # a member here was found by city_id in city_ids, so it is never None.
        result[member.city_id].append(member)  # type: ignore[index]
    return result


def represented_city_ids(*, session: Session, city_ids: Sequence[int], role: str) -> set[int]:
    """Those of these cities with at least one member of `role` (an approved representative) linked to them."""
    found: set[int] = set()
    for start in range(0, len(city_ids), 1000):  # a round of thousands: statements of a bounded size
        chunk = list(city_ids[start : start + 1000])
        query = select(col(Member.city_id)).where(col(Member.city_id).in_(chunk), col(Member.role) == role).distinct()
        found.update(city_id for city_id in session.exec(query) if city_id is not None)
    return found


# --- not a fit -------------------------------------------------------------------------------------------


def not_fit_ids(*, session: Session, city_id: int) -> set[int]:
    return set(session.exec(select(col(NotAFit.other_city_id)).where(col(NotAFit.city_id) == city_id)))


def not_fit_pairs(*, session: Session, city_ids: Iterable[int]) -> set[frozenset[int]]:
    """Pairs among these cities where one marked the other not a fit (a round does not pair them either)."""
    return _pairs_among(session, col(NotAFit.city_id), col(NotAFit.other_city_id), city_ids)


def add_not_fit(*, session: Session, city_id: int, other_city_id: int, member_id: int | None, now: datetime) -> bool:
    """Remember it; False when it was already on the list."""
    values = {"city_id": city_id, "other_city_id": other_city_id, "created_by_id": member_id, "created_at": now}
    return insert_ignoring_conflict(session, NotAFit, values, ["city_id", "other_city_id"])


def remove_not_fit(*, session: Session, city_id: int, other_city_id: int) -> bool:
    row = session.get(NotAFit, (city_id, other_city_id))
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


# --- pauses ----------------------------------------------------------------------------------------------


def get_pause(*, session: Session, city_id: int, now: datetime) -> MatchPause | None:
    pause = session.get(MatchPause, city_id)
    return pause if pause is not None and pause.until > now else None


def paused_city_ids(*, session: Session, now: datetime) -> set[int]:
    return set(session.exec(select(col(MatchPause.city_id)).where(col(MatchPause.until) > now)))


def pauses_until(*, session: Session, now: datetime) -> dict[int, datetime]:
    """Each paused city's id and when its pause ends."""
    query = select(col(MatchPause.city_id), col(MatchPause.until)).where(col(MatchPause.until) > now)
    return {city_id: until for city_id, until in session.exec(query)}


def set_pause(*, session: Session, city_id: int, until: datetime, member_id: int | None, now: datetime) -> MatchPause:
    values = {"city_id": city_id, "until": until, "created_by_id": member_id, "created_at": now}
    if not insert_ignoring_conflict(session, MatchPause, values, ["city_id"]):
        session.execute(update(MatchPause).where(col(MatchPause.city_id) == city_id).values(**values))
    pause = session.get(MatchPause, city_id, populate_existing=True)
    assert pause is not None
    return pause


def delete_pause(*, session: Session, city_id: int) -> bool:
    pause = session.get(MatchPause, city_id)
    if pause is None:
        return False
    session.delete(pause)
    session.flush()
    return True


# --- introductions and rounds ------------------------------------------------------------------------------


def _pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def introduced_ids(*, session: Session, city_id: int) -> set[int]:
    """Every city ever introduced to this one."""
    query = select(col(Introduction.city_a_id), col(Introduction.city_b_id)).where(
        or_(col(Introduction.city_a_id) == city_id, col(Introduction.city_b_id) == city_id)
    )
    return {b if a == city_id else a for a, b in session.exec(query)}


def last_introduction(*, session: Session, city_id: int, other_city_id: int) -> Introduction | None:
    a, b = _pair(city_id, other_city_id)
    query = (
        select(Introduction)
        .where(col(Introduction.city_a_id) == a, col(Introduction.city_b_id) == b)
        .order_by(col(Introduction.created_at).desc(), col(Introduction.id).desc())
    )
    return session.exec(query).first()


def last_introductions(*, session: Session, city_id: int, other_city_ids: Sequence[int]) -> dict[int, Introduction]:
    """The latest introduction between `city_id` and each of the others it was introduced to."""
    if not other_city_ids:
        return {}
    others = list(other_city_ids)
    query = (
        select(Introduction)
        .where(
            or_(
                (col(Introduction.city_a_id) == city_id) & col(Introduction.city_b_id).in_(others),
                (col(Introduction.city_b_id) == city_id) & col(Introduction.city_a_id).in_(others),
            )
        )
        .order_by(col(Introduction.created_at), col(Introduction.id))
    )
    found: dict[int, Introduction] = {}
    for intro in session.exec(query):  # oldest first: the last one written wins
        found[intro.city_b_id if intro.city_a_id == city_id else intro.city_a_id] = intro
    return found


def met_pairs(*, session: Session, city_ids: Iterable[int]) -> set[frozenset[int]]:
    """Pairs among these cities that have ever been introduced (so a round does not repeat them)."""
    return _pairs_among(session, col(Introduction.city_a_id), col(Introduction.city_b_id), city_ids)


def _pairs_among(session: Session, first: Any, second: Any, city_ids: Iterable[int]) -> set[frozenset[int]]:
    """The pairs of two city columns of one table whose cities are both among `city_ids`."""
    ids = list(city_ids)
    if not ids:
        return set()
    query = select(first, second).where(col(first).in_(ids), col(second).in_(ids))
    return {frozenset((a, b)) for a, b in session.exec(query)}


def add_introduction(
    *,
    session: Session,
    city_id: int,
    other_city_id: int,
    member_id: int | None,
    reasons: list[dict[str, object]],
    now: datetime,
    followup_due_at: datetime,
    round_id: int | None = None,
) -> Introduction:
    a, b = _pair(city_id, other_city_id)
    intro = Introduction(
        city_a_id=a,
        city_b_id=b,
        created_by_id=member_id,
        round_id=round_id,
        reasons=reasons,
        created_at=now,
        followup_due_at=followup_due_at,
    )
    session.add(intro)
    session.flush()
    return intro


def add_round(*, session: Session, cohort_id: int | None, member_id: int | None, now: datetime) -> MatchRound:
    match_round = MatchRound(cohort_id=cohort_id, created_by_id=member_id, created_at=now)
    session.add(match_round)
    session.flush()
    return match_round


def get_introduction(*, session: Session, introduction_id: int) -> Introduction | None:
    return session.get(Introduction, introduction_id)


def claim_due_followups(*, session: Session, now: datetime, limit: int = 200) -> list[Introduction]:
    """Introductions whose follow-up is due and unsent, locked so two processes never both take one."""
    query = (
        select(Introduction)
        .where(col(Introduction.followup_sent_at).is_(None), col(Introduction.followup_due_at) <= now)
        .order_by(col(Introduction.followup_due_at), col(Introduction.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    due = list(session.exec(query))
    for intro in due:
        intro.followup_sent_at = now
    session.flush()
    return due


def set_outcome(
    *, session: Session, introduction_id: int, city_id: int, met: bool, outcome: str, member_id: int, now: datetime
) -> IntroductionOutcome:
    key = {"introduction_id": introduction_id, "city_id": city_id}
    answer = {"met": met, "outcome": outcome, "answered_by_id": member_id, "answered_at": now}
    if not insert_ignoring_conflict(session, IntroductionOutcome, key | answer, list(key)):
        session.execute(
            update(IntroductionOutcome)
            .where(
                col(IntroductionOutcome.introduction_id) == introduction_id, col(IntroductionOutcome.city_id) == city_id
            )
            .values(**answer)
        )
    row = session.get(IntroductionOutcome, (introduction_id, city_id), populate_existing=True)
    assert row is not None
    return row


def introductions(*, session: Session, city_ids: Sequence[int] | None = None) -> list[Introduction]:
    """Introductions touching any of these cities (all of them when None)."""
    query = select(Introduction).order_by(col(Introduction.id))
    if city_ids is not None:
        query = query.where(or_(col(Introduction.city_a_id).in_(city_ids), col(Introduction.city_b_id).in_(city_ids)))
    return list(session.exec(query))


def outcomes(*, session: Session, introduction_ids: Sequence[int]) -> list[IntroductionOutcome]:
    if not introduction_ids:
        return []
    query = select(IntroductionOutcome).where(col(IntroductionOutcome.introduction_id).in_(introduction_ids))
    return list(session.exec(query))


def count_rounds(*, session: Session, cohort_id: int | None) -> int:
    """Rounds run for this cohort (None: the rounds run for all cities), so each scope numbers its own."""
    scope = col(MatchRound.cohort_id).is_(None) if cohort_id is None else col(MatchRound.cohort_id) == cohort_id
    return session.exec(select(func.count()).select_from(MatchRound).where(scope)).one()


# --- the collaboration network (/match map) ----------------------------------------------------------------


def network_cities(
    *, session: Session, cohort_id: int | None = None, track_id: int | None = None
) -> list[tuple[int, str, str]]:
    """(id, name, country) of the cities a map shows: all, a cohort's, or those working on a track."""
    query = select(key(City.id), col(City.name), col(City.country)).order_by(col(City.name_key), col(City.id))
    if cohort_id is not None:
        query = query.where(col(City.cohort_id) == cohort_id)
    if track_id is not None:
        query = query.join(CityInterest, col(CityInterest.city_id) == col(City.id)).where(
            col(CityInterest.track_id) == track_id
        )
    return [(city_id, name, country) for city_id, name, country in session.exec(query)]


def introduction_ties(*, session: Session) -> list[tuple[int, int, bool, datetime, bool]]:
    """Every introduction as (city a, city b, made by a round, made at, met): met when either side said so."""
    met = set(
        session.exec(select(col(IntroductionOutcome.introduction_id)).where(col(IntroductionOutcome.met)).distinct())
    )
    query = select(  # type: ignore[call-overload]  # sqlmodel's select() is typed for at most four columns
        col(Introduction.id),
        col(Introduction.city_a_id),
        col(Introduction.city_b_id),
        col(Introduction.round_id),
        col(Introduction.created_at),
    ).order_by(col(Introduction.id))
    return [(a, b, round_id is not None, at, intro_id in met) for intro_id, a, b, round_id, at in session.exec(query)]
