"""Goal storage on SQLite and PostgreSQL: history, filters, and check-ins claimed exactly once."""

import threading
from datetime import UTC, date, datetime, timedelta

import pytest

from storage import goal_queries, queries
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


def add_city(session, name):
    return queries.add_city(
        session=session, name=name, country="PL", population=None, mentor=False, cohort=None, now=NOW
    )


def test_goals_keep_their_history_and_collaborators(engine):
    with unit_of_work(engine) as session:
        krakow, lodz = add_city(session, "Kraków"), add_city(session, "Łódź")
        goal = goal_queries.add_goal(
            session=session,
            city_id=krakow.id,
            text="Open data hub",
            track_id=None,
            due_on=date(2027, 2, 22),
            member_id=None,
            now=NOW,
        )
        goal_queries.set_collaborators(session=session, goal_id=goal.id, city_ids=[lodz.id, lodz.id])
        later = NOW + timedelta(days=3)
        goal_queries.record_update(
            session=session, goal=goal, status="done", note="live", learnings="Ask early", member_id=None, now=later
        )
    with unit_of_work(engine) as session:
        [row] = goal_queries.find_goals(session=session)
        assert row.collaborators == ("Łódź",)
        assert (row.goal.status, row.goal.closed_at, row.goal.updated_at) == ("done", later, later)
        assert row.goal.due_on == date(2027, 2, 22)
        history = goal_queries.goal_history(session=session, goal_id=row.goal.id)
        assert [(u.status, u.note) for u in history] == [("new", None), ("done", "live")]
        assert goal_queries.find_goals(session=session, open_only=True) == []
        assert goal_queries.count_goals(session=session, overdue_on=date(2030, 1, 1)) == 0


def test_a_check_in_is_claimed_once_even_by_two_transactions_at_once(engine):
    with unit_of_work(engine) as session:
        city = add_city(session, "Kraków")
        goal = goal_queries.add_goal(
            session=session,
            city_id=city.id,
            text="Hub",
            track_id=None,
            due_on=date(2027, 2, 22),
            member_id=None,
            now=NOW,
        )
    results: list[bool] = []

    def second_claimer() -> None:
        with unit_of_work(engine) as session:
            results.append(goal_queries.claim_checkin(session=session, goal_id=goal.id, kind="due", now=NOW))

    with unit_of_work(engine) as session:
        assert goal_queries.claim_checkin(session=session, goal_id=goal.id, kind="due", now=NOW)
        # The other transaction waits for this one's row, then yields to it, whichever runs first.
        other = threading.Thread(target=second_claimer)
        other.start()
    other.join(timeout=60)
    assert results == [False]
    with unit_of_work(engine) as session:
        assert goal_queries.checkins_sent(session=session, goal_ids=[goal.id]) == {goal.id: {"due"}}
        assert goal_queries.claim_checkin(session=session, goal_id=goal.id, kind="month-before", now=NOW)
