"""Migration 0010 keys existing cities and cohorts by their folded names, and reports names that now clash."""

import logging

import pytest
from alembic import command
from sqlalchemy import text

from storage import queries
from storage.db import alembic_config, make_engine, unit_of_work

pytestmark = pytest.mark.empty_database  # these tests run the migrations themselves

CITIES = [("Kraków", "kraków"), ("krakow", "krakow"), ("Saint-Étienne", "saint-étienne"), ("Αθήνα", "αθήνα")]


def test_names_migration_folds_keys_and_reports_clashes(database_url, caplog):
    engine = make_engine(database_url)
    command.upgrade(alembic_config(engine), "0008")
    with engine.begin() as connection:
        for name, key in CITIES:
            connection.execute(
                text("INSERT INTO city (name, name_key, country, mentor, created_at) VALUES (:n, :k, 'PL', false, :t)"),
                {"n": name, "k": key, "t": "2026-01-01 00:00:00+00:00"},
            )
        connection.execute(
            text("INSERT INTO cohort (name, name_key, created_at) VALUES ('ICC-2020', 'icc-2020', :t)"),
            {"t": "2026-01-01 00:00:00+00:00"},
        )
    with caplog.at_level(logging.WARNING):
        command.upgrade(alembic_config(engine), "0010")
    with engine.connect() as connection:
        keys = dict(connection.execute(text("SELECT name, name_key FROM city")).all())
        cohort_key = connection.execute(text("SELECT name_key FROM cohort")).scalar_one()
    krakow_id = 2  # the later of the two that now fold alike keeps a distinct key
    assert keys == {
        "Kraków": "krakow",
        "krakow": f"krakow #{krakow_id}",
        "Saint-Étienne": "saint etienne",
        "Αθήνα": "αθηνα",
    }
    assert cohort_key == "icc 2020"
    [warning] = [r.getMessage() for r in caplog.records if "same name" in r.getMessage()]
    assert "'Kraków'" in warning and "'krakow'" in warning and "krakow #2" in warning
    with unit_of_work(engine) as session:
        assert queries.get_city_by_name(session=session, name="saint etienne").name == "Saint-Étienne"
        assert queries.get_city_by_name(session=session, name="KRAKOW").name == "Kraków"
        assert queries.get_cohort_by_name(session=session, name="icc 2020").name == "ICC-2020"
    command.downgrade(alembic_config(engine), "0008")
    with engine.connect() as connection:
        keys = dict(connection.execute(text("SELECT name, name_key FROM city")).all())
    assert keys == dict(CITIES)
    engine.dispose()
