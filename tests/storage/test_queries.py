from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import IntegrityError

from storage import queries
from storage.db import make_engine, unit_of_work, upgrade

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    upgrade(engine)
    with unit_of_work(engine) as session:
        queries.sync_tracks(session=session, tracks=[("energy", "Energy"), ("tourism", "Tourism")])
    yield engine
    engine.dispose()


def add_city(session, name, cohort=None):
    return queries.add_city(
        session=session, name=name, country="PL", population=None, mentor=False, cohort=cohort, now=NOW
    )


def test_city_names_are_unique_whatever_the_case_and_spacing(engine):
    with unit_of_work(engine) as session:
        add_city(session, "Łódź")
    with unit_of_work(engine) as session:
        assert queries.get_city_by_name(session=session, name="  łÓdŹ ").name == "Łódź"
    with pytest.raises(IntegrityError), unit_of_work(engine) as session:
        add_city(session, "ŁÓDŹ")


def test_a_failed_unit_of_work_leaves_nothing(engine):
    with pytest.raises(RuntimeError), unit_of_work(engine) as session:
        add_city(session, "Kraków")
        raise RuntimeError("boom")
    with unit_of_work(engine) as session:
        assert queries.list_cities(session=session) == []


def test_timestamps_come_back_as_aware_utc(engine):
    brussels_time = NOW.astimezone(timezone(timedelta(hours=1)))
    with unit_of_work(engine) as session:
        queries.ensure_member(session=session, external_id="U1", display_name="Ana", role="rep", now=brussels_time)
    with unit_of_work(engine) as session:
        member = queries.get_member(session=session, external_id="U1")
        assert member.created_at == NOW and member.created_at.utcoffset() == timedelta(0)


def test_one_pending_join_request_per_person_and_city(engine):
    with unit_of_work(engine) as session:
        city = add_city(session, "Gdansk")
        member = queries.ensure_member(session=session, external_id="U1", display_name="Ana", role="none", now=NOW)
        first = queries.add_join_request(session=session, member_id=member.id, city_id=city.id, now=NOW)
        first.status = "rejected"
        session.flush()
        queries.add_join_request(session=session, member_id=member.id, city_id=city.id, now=NOW)
        ids = (member.id, city.id)
    with pytest.raises(IntegrityError), unit_of_work(engine) as session:
        queries.add_join_request(session=session, member_id=ids[0], city_id=ids[1], now=NOW)


def test_list_filters_by_track_and_cohort(engine):
    with unit_of_work(engine) as session:
        tracks = {t.key: t.id for t in queries.active_tracks(session=session)}
        cohort = queries.get_or_add_cohort(session=session, name="ICC 2020", now=NOW)
        porto = add_city(session, "Porto", cohort)
        nice = add_city(session, "Nice")
        queries.set_city_tracks(session=session, city_id=porto.id, track_ids=[tracks["energy"], tracks["tourism"]])
        queries.set_city_tracks(session=session, city_id=nice.id, track_ids=[tracks["tourism"]])
    with unit_of_work(engine) as session:
        names = lambda cities: [c.name for c in cities]  # noqa: E731
        assert names(queries.list_cities(session=session)) == ["Nice", "Porto"]
        assert names(queries.list_cities(session=session, track_id=tracks["energy"])) == ["Porto"]
        assert names(queries.list_cities(session=session, track_id=tracks["tourism"], cohort_id=cohort.id)) == ["Porto"]
        assert queries.track_city_counts(session=session) == {tracks["energy"]: 1, tracks["tourism"]: 2}


def test_tracks_follow_the_configuration_but_keep_history(engine):
    with unit_of_work(engine) as session:
        energy = next(t for t in queries.active_tracks(session=session) if t.key == "energy")
        city = add_city(session, "Riga")
        queries.set_city_tracks(session=session, city_id=city.id, track_ids=[energy.id])
        queries.sync_tracks(session=session, tracks=[("tourism", "Green tourism"), ("mobility", "Mobility")])
    with unit_of_work(engine) as session:
        active = [(t.key, t.name) for t in queries.active_tracks(session=session)]
        assert active == [("tourism", "Green tourism"), ("mobility", "Mobility")]
        assert [t.key for t in queries.city_tracks(session=session, city_ids=[city.id])[city.id]] == ["energy"]
