"""A ledger row's status is one of DeliveryStatus, held so by the database; its key has one spelling per kind."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from handlers import ledger
from handlers.ledger import RowKind, Status
from storage.db import make_engine, unit_of_work, upgrade

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def test_every_status_the_ledger_knows_is_stored_and_any_other_is_refused(engine):
    for status in Status:
        with unit_of_work(engine) as session:
            row = ledger.queue(session, kind=RowKind.NOTICE, key=f"k-{status}", recipient="ana", due=NOW)
            assert row is not None
            session.execute(text("UPDATE delivery SET status = :s WHERE id = :id"), {"s": status.value, "id": row.id})
    with pytest.raises(IntegrityError), unit_of_work(engine) as session:
        session.execute(text("UPDATE delivery SET status = 'postponed' WHERE key = 'k-pending'"))
    with unit_of_work(engine) as session:
        stored = session.execute(text("SELECT status FROM delivery WHERE key = 'k-pending'")).scalar_one()
    assert stored == Status.PENDING


def test_keys_keep_their_spelling_and_long_ones_never_meet():
    occurrence = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    assert ledger.reminder_key(3, occurrence, 60, "slack:U1") == "reminder:3:20270301T090000Z:60:slack:U1"
    assert ledger.broadcast_key(4, "discord:123") == "broadcast:4:discord:123"
    assert ledger.digest_name("2026-W48") == "digest:2026-W48"
    # Two ids as long as a platform allows (Matrix: 255 characters) that differ only at their end.
    first, second = "matrix:@" + "a" * 240 + "1:x.org", "matrix:@" + "a" * 240 + "2:x.org"
    keys = {ledger.reminder_key(3, occurrence, 60, first), ledger.reminder_key(3, occurrence, 60, second)}
    assert len(keys) == 2
    assert all(len(key) == ledger.MAX_KEY and key.startswith("reminder:3:20270301T090000Z:60:matrix:@") for key in keys)


def test_a_claim_takes_no_more_rows_than_asked_and_planned_rows_first(engine):
    """Sixty notices due at once and one reminder placed ahead of its due time: a claim of two takes the reminder
    and one notice, never the sixty (PostgreSQL may run a limited IN-subquery again per updated row)."""
    from datetime import timedelta

    from storage import ledger_queries

    with unit_of_work(engine) as session:
        for n in range(60):
            ledger.queue(session, kind=RowKind.NOTICE, key=f"n{n}", recipient=f"p{n}", due=NOW)
        reminder = ledger.queue(session, kind=RowKind.REMINDER, key="r", recipient="ana", due=NOW + timedelta(hours=1))
        ledger_queries.place(session=session, delivery_id=reminder.id, at=NOW - timedelta(seconds=1))
    with unit_of_work(engine) as session:
        claimed = ledger_queries.claim_due(session=session, worker="w", now=NOW, limit=2, hold=timedelta(minutes=5))
        assert [row.key for row in claimed][:1] == ["r"] and len(claimed) == 2
    with unit_of_work(engine) as session:
        sending = session.execute(text("SELECT count(*) FROM delivery WHERE status = 'sending'")).scalar_one()
    assert sending == 2
