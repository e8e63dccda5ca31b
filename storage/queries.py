"""Queries: keyword-only, they add and flush but never commit (the use case owns the transaction)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert
from sqlmodel import Session, col, select

from storage.db import insert_ignoring_conflict
from storage.models import City, CityInterest, CityItem, Cohort, JoinRequest, Member, StoredCommand, Track, name_key

# --- members -------------------------------------------------------------------------------------


def get_member(*, session: Session, external_id: str) -> Member | None:
    return session.exec(select(Member).where(col(Member.external_id) == external_id)).first()


def count_members(*, session: Session) -> int:
    return session.exec(select(func.count()).select_from(Member)).one()


def ensure_member(*, session: Session, external_id: str, display_name: str, role: str, now: datetime) -> Member:
    """The member with this id, created (with `role`) if they are new. Two first commands of one person racing
    each other both get the same row: the insert yields to the other's (ON CONFLICT DO NOTHING)."""
    member = get_member(session=session, external_id=external_id)
    if member is None:
        values = {"external_id": external_id, "display_name": display_name[:80], "role": role, "created_at": now}
        insert_ignoring_conflict(session, Member, values, ["external_id"])
        member = get_member(session=session, external_id=external_id)
        assert member is not None  # inserted now, or by the transaction we yielded to
    return member


def members_with_roles(*, session: Session, roles: Sequence[str]) -> list[Member]:
    return list(session.exec(select(Member).where(col(Member.role).in_(roles)).order_by(col(Member.id))))


def reps_of(*, session: Session, city_id: int) -> list[Member]:
    return list(session.exec(select(Member).where(col(Member.city_id) == city_id).order_by(col(Member.display_name))))


# --- cohorts and tracks ---------------------------------------------------------------------------


def get_cohort_by_name(*, session: Session, name: str) -> Cohort | None:
    return session.exec(select(Cohort).where(col(Cohort.name_key) == name_key(name))).first()


def get_or_add_cohort(*, session: Session, name: str, now: datetime) -> Cohort:
    cohort = get_cohort_by_name(session=session, name=name)
    if cohort is None:
        values = {"name": name, "name_key": name_key(name), "created_at": now}
        insert_ignoring_conflict(session, Cohort, values, ["name_key"])
        cohort = get_cohort_by_name(session=session, name=name)
        assert cohort is not None
    return cohort


def all_cohort_names(*, session: Session) -> list[str]:
    return list(session.exec(select(col(Cohort.name)).order_by(col(Cohort.name_key))))


def active_tracks(*, session: Session) -> list[Track]:
    return list(session.exec(select(Track).where(col(Track.active)).order_by(col(Track.id))))


def sync_tracks(*, session: Session, tracks: Sequence[tuple[str, str]]) -> None:
    """Make the configured tracks the active ones; a track dropped from config keeps its history."""
    stored = {track.key: track for track in session.exec(select(Track))}
    wanted = dict(tracks)
    for key, track in stored.items():
        track.active = key in wanted
        if key in wanted:
            track.name = wanted[key]
    for key, name in tracks:
        if key not in stored:
            session.add(Track(key=key, name=name, active=True))
    session.flush()


def track_city_counts(*, session: Session) -> dict[int, int]:
    rows = session.exec(select(col(CityInterest.track_id), func.count()).group_by(col(CityInterest.track_id)))
    return {track_id: count for track_id, count in rows}


# --- cities ----------------------------------------------------------------------------------------


def get_city_by_name(*, session: Session, name: str) -> City | None:
    return session.exec(select(City).where(col(City.name_key) == name_key(name))).first()


def all_city_names(*, session: Session) -> list[str]:
    """Every city's name (one column: a near miss is compared with all of them)."""
    return list(session.exec(select(col(City.name)).order_by(col(City.name_key))))


def get_city(*, session: Session, city_id: int) -> City | None:
    return session.get(City, city_id)


def add_city(
    *,
    session: Session,
    name: str,
    country: str,
    population: int | None,
    mentor: bool,
    cohort: Cohort | None,
    now: datetime,
) -> City:
    city = City(
        name=name,
        name_key=name_key(name),
        country=country,
        population=population,
        mentor=mentor,
        cohort_id=cohort.id if cohort else None,
        created_at=now,
    )
    session.add(city)
    session.flush()
    return city


def list_cities(*, session: Session, track_id: int | None = None, cohort_id: int | None = None) -> list[City]:
    query = select(City).order_by(col(City.name_key))
    if track_id is not None:
        query = query.join(CityInterest, col(CityInterest.city_id) == col(City.id)).where(
            col(CityInterest.track_id) == track_id
        )
    if cohort_id is not None:
        query = query.where(col(City.cohort_id) == cohort_id)
    return list(session.exec(query))


def city_tracks(*, session: Session, city_ids: Sequence[int]) -> dict[int, list[Track]]:
    """Each city's interests, in track order."""
    result: dict[int, list[Track]] = {city_id: [] for city_id in city_ids}
    if not city_ids:
        return result
    rows = session.exec(
        select(col(CityInterest.city_id), Track)
        .join(Track, col(Track.id) == col(CityInterest.track_id))
        .where(col(CityInterest.city_id).in_(city_ids))
        .order_by(col(Track.id))
    )
    for city_id, track in rows:
        result[city_id].append(track)
    return result


def set_city_tracks(*, session: Session, city_id: int, track_ids: Sequence[int]) -> None:
    for interest in session.exec(select(CityInterest).where(col(CityInterest.city_id) == city_id)):
        session.delete(interest)
    session.flush()
    for track_id in dict.fromkeys(track_ids):
        session.add(CityInterest(city_id=city_id, track_id=track_id))
    session.flush()


CHUNK = 500  # rows (or keys) per statement: well under SQLite's and PostgreSQL's parameter limits


def registered_name_keys(*, session: Session, keys: Sequence[str]) -> set[str]:
    """Which of these name keys already belong to a city."""
    found: set[str] = set()
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        found.update(session.exec(select(col(City.name_key)).where(col(City.name_key).in_(chunk))))
    return found


def add_cities(*, session: Session, cities: Sequence[dict[str, Any]]) -> list[int]:
    """Insert many cities (column values) in few statements; returns their ids in the same order."""
    # SQLModel sets __table__ on every table class when it is made; its stubs do not declare it.
    table = City.__table__  # type: ignore[attr-defined]
    connection = session.connection()
    ids: list[int] = []
    for start in range(0, len(cities), CHUNK):
        statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        ids.extend(connection.execute(statement, list(cities[start : start + CHUNK])).scalars())
    return ids


def add_interests_and_items(
    *, session: Session, interests: Sequence[dict[str, Any]], items: Sequence[dict[str, Any]]
) -> None:
    """Insert many city tracks and offers or needs (column values), a batch per statement.

    RETURNING makes SQLAlchemy send each batch as one multi-row INSERT (its "insertmanyvalues"), where a plain
    executemany would cost PostgreSQL a round trip per row."""
    connection = session.connection()
    # SQLModel sets __table__ on every table class when it is made; its stubs do not declare it.
    for table, rows in ((CityInterest.__table__, interests), (CityItem.__table__, items)):  # type: ignore[attr-defined]
        statement = insert(table).returning(table.c.city_id)
        for start in range(0, len(rows), CHUNK):
            connection.execute(statement, list(rows[start : start + CHUNK]))


def city_items(*, session: Session, city_id: int, kind: str) -> list[CityItem]:
    query = (
        select(CityItem).where(col(CityItem.city_id) == city_id, col(CityItem.kind) == kind).order_by(col(CityItem.id))
    )
    return list(session.exec(query))


def add_city_item(
    *, session: Session, city_id: int, kind: str, text: str, member_id: int | None, now: datetime
) -> CityItem:
    item = CityItem(city_id=city_id, kind=kind, text=text, created_by_id=member_id, created_at=now)
    session.add(item)
    session.flush()
    return item


def delete_city_item(*, session: Session, item: CityItem) -> None:
    session.delete(item)
    session.flush()


def cohort_names(*, session: Session, cohort_ids: Sequence[int | None]) -> dict[int, str]:
    ids = [cohort_id for cohort_id in set(cohort_ids) if cohort_id is not None]
    if not ids:
        return {}
    return {c.stored_id: c.name for c in session.exec(select(Cohort).where(col(Cohort.id).in_(ids)))}


# --- join requests ---------------------------------------------------------------------------------


def pending_join_request(*, session: Session, member_id: int, city_id: int) -> JoinRequest | None:
    query = select(JoinRequest).where(
        col(JoinRequest.member_id) == member_id,
        col(JoinRequest.city_id) == city_id,
        col(JoinRequest.status) == "pending",
    )
    return session.exec(query).first()


def add_join_request(*, session: Session, member_id: int, city_id: int, now: datetime) -> JoinRequest:
    request = JoinRequest(member_id=member_id, city_id=city_id, status="pending", created_at=now)
    session.add(request)
    session.flush()
    return request


def pending_join_requests(*, session: Session, limit: int) -> list[tuple[JoinRequest, Member, City]]:
    """The oldest open requests first, with who asks and for which city."""
    query = (
        select(JoinRequest, Member, City)
        .join(Member, col(Member.id) == col(JoinRequest.member_id))
        .join(City, col(City.id) == col(JoinRequest.city_id))
        .where(col(JoinRequest.status) == "pending")
        .order_by(col(JoinRequest.created_at), col(JoinRequest.id))
        .limit(limit)
    )
    return [(request, member, city) for request, member, city in session.exec(query)]


def count_pending_join_requests(*, session: Session) -> int:
    return session.exec(select(func.count()).select_from(JoinRequest).where(col(JoinRequest.status) == "pending")).one()


def city_names_matching(*, session: Session, typed: str, limit: int) -> list[str]:
    """Names of cities starting with `typed` (case-insensitive), then those containing it, at most `limit`."""
    key = name_key(typed)
    starts = list(
        session.exec(
            select(col(City.name))
            .where(col(City.name_key).startswith(key, autoescape=True))
            .order_by(col(City.name_key))
            .limit(limit)
        )
    )
    if len(starts) < limit and key:
        inside = (
            select(col(City.name))
            .where(col(City.name_key).contains(key, autoescape=True))
            .order_by(col(City.name_key))
            .limit(limit * 2)
        )
        starts += [name for name in session.exec(inside) if name not in starts][: limit - len(starts)]
    return starts


# --- button commands kept server-side -------------------------------------------------------------------


def store_command(*, session: Session, token: str, command: str, now: datetime) -> None:
    """Keep `command` under `token` (a hash of it): storing it again changes nothing."""
    insert_ignoring_conflict(session, StoredCommand, {"token": token, "command": command, "created_at": now}, ["token"])


def stored_command(*, session: Session, token: str) -> str | None:
    row = session.get(StoredCommand, token)
    return row.command if row else None


def display_names(*, session: Session, external_ids: Iterable[str]) -> dict[str, str]:
    """Today's display names of the members with these external ids (someone erased has none)."""
    wanted = sorted({external_id for external_id in external_ids if external_id})
    if not wanted:
        return {}
    query = select(col(Member.external_id), col(Member.display_name)).where(col(Member.external_id).in_(wanted))
    return dict(session.exec(query).all())
