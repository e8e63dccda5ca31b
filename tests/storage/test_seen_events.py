"""Event ids seen, shared by every process: the first sighting is True once, old ids are forgotten."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from storage.db import make_engine, unit_of_work, upgrade
from storage.models import SeenEvent
from storage.seen_events import KEEP, PRUNE_ONE_IN, first_sighting

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def sight(engine, event_id: str, now: datetime = NOW) -> bool:
    with unit_of_work(engine) as session:
        return first_sighting(session=session, event_id=event_id, now=now)


def seen(engine) -> set[str]:
    with unit_of_work(engine) as session:
        return set(session.exec(select(SeenEvent.event_id)))


def test_an_id_is_new_once_and_old_ids_are_forgotten_now_and_then(database_url):
    engine = make_engine(database_url)
    upgrade(engine)
    assert sight(engine, "Ev1") is True
    assert sight(engine, "Ev1") is False
    assert sight(engine, "Ev2", NOW + KEEP / 2) is True
    # An id whose sighting prunes (chosen by the id, about one in PRUNE_ONE_IN), a day and a bit later.
    pruner = next(f"Ev{n}" for n in range(3, 10_000) if zlib.crc32(f"Ev{n}".encode()) % PRUNE_ONE_IN == 0)
    assert sight(engine, pruner, NOW + KEEP + timedelta(minutes=1)) is True
    assert seen(engine) == {"Ev2", pruner}
    assert sight(engine, "Ev2") is False
    engine.dispose()
