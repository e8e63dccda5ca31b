"""The schema comes from Alembic, matches the models, and upgrades keep existing data."""

from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from storage import queries
from storage.db import alembic_config, make_engine, schema_heads, schema_is_current, unit_of_work, upgrade

pytestmark = pytest.mark.empty_database  # these tests run the migrations themselves

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def test_upgrade_creates_every_table_and_matches_the_models(database_url):
    engine = make_engine(database_url)
    upgrade(engine)
    tables = set(inspect(engine).get_table_names())
    assert set(SQLModel.metadata.tables) <= tables
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == [], "the models changed without a migration: run alembic revision --autogenerate"
    engine.dispose()


def test_upgrade_keeps_data_and_is_repeatable(database_url):
    engine = make_engine(database_url)
    command.upgrade(alembic_config(engine), "0001")
    with unit_of_work(engine) as session:
        queries.add_city(session=session, name="Brno", country="CZ", population=1, mentor=False, cohort=None, now=NOW)
    upgrade(engine)
    upgrade(engine)
    with unit_of_work(engine) as session:
        city = queries.get_city_by_name(session=session, name="brno")
        assert city is not None and city.created_at == NOW
    engine.dispose()


def test_downgrade_to_nothing_and_back(database_url):
    engine = make_engine(database_url)
    upgrade(engine)
    command.downgrade(alembic_config(engine), "base")
    assert "city" not in inspect(engine).get_table_names()
    upgrade(engine)
    assert "city" in inspect(engine).get_table_names()
    engine.dispose()


def test_the_cheap_schema_check_agrees_with_alembic(database_url):
    from alembic.script import ScriptDirectory

    assert schema_heads() == frozenset(ScriptDirectory.from_config(alembic_config(None)).get_heads())
    engine = make_engine(database_url)
    assert not schema_is_current(engine)  # a new database has no alembic_version table
    command.upgrade(alembic_config(engine), "0001")
    assert not schema_is_current(engine)
    upgrade(engine)
    assert schema_is_current(engine)
    engine.dispose()
