"""Retention over months with the injected clock: message bodies, delivery attempts and seen event ids go after
the period (default 90 days), audit entries after theirs (default two years), and nothing else; logs at INFO never
carry a goal's or a message's text. On SQLite and PostgreSQL."""

from __future__ import annotations

import ast
import io
import logging
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import select

from bot.app import build_services
from bot.delivery import SendOutcome
from handlers.jobs import prune_old_data
from handlers.types import Services
from storage import seen_events
from storage.db import unit_of_work
from storage.models import AuditEntry, Broadcast, City, CityItem, Delivery, Goal, Member, SeenEvent
from tests.conftest import make_settings
from tests.handlers.conversation import ask, say
from tests.support.outbox import RecordingSender, engine_for

DAY = timedelta(days=1)
NOTHING = {"bodies": 0, "broadcasts": 0, "attempts": 0, "seen_events": 0, "audit": 0}


def all_deliveries(services: Services) -> list[Delivery]:
    with unit_of_work(services.engine) as session:
        rows = list(session.exec(select(Delivery).order_by(Delivery.id)))
        session.expunge_all()
    return rows


def deliveries(services: Services) -> dict[str, Delivery]:
    """Ledger rows by recipient and kind (`bob:notice:`), the first of each."""
    rows: dict[str, Delivery] = {}
    for row in all_deliveries(services):
        rows.setdefault(f"{row.recipient}:{row.kind}:{row.broadcast_id or ''}", row)
    return rows


def seen(services: Services) -> set[str]:
    with unit_of_work(services.engine) as session:
        return set(session.exec(select(SeenEvent.event_id)))


def broadcast_texts(services: Services) -> dict[int, str]:
    with unit_of_work(services.engine) as session:
        return {b.id: b.text for b in session.exec(select(Broadcast))}  # type: ignore[misc]


def audit_whats(services: Services) -> list[str]:
    with unit_of_work(services.engine) as session:
        return list(session.exec(select(AuditEntry.what).order_by(AuditEntry.id)))


def kept_for_good(services: Services) -> tuple[object, ...]:
    """What retention never touches: cities, their offers, goals, people, how many ledger rows."""
    with unit_of_work(services.engine) as session:
        return (
            [(c.name, c.country) for c in session.exec(select(City).order_by(City.id))],
            list(session.exec(select(CityItem.text).order_by(CityItem.id))),
            list(session.exec(select(Goal.text).order_by(Goal.id))),
            list(session.exec(select(Member.external_id).order_by(Member.id))),
            session.exec(select(func.count()).select_from(Delivery)).one(),
        )


def send_due(services: Services, **answers: list[SendOutcome]) -> RecordingSender:
    sender = RecordingSender(answers=dict(answers))
    engine_for(services, sender).run_due()
    return sender


@pytest.fixture
def months(services: Services, clock) -> Services:
    """Day 0 (22 Nov 2026): Brno, bob approved (a notice), dan made expert (his DMs fail for good), eve made expert
    (Slack keeps asking us to wait, so hers is still owed), a broadcast now and one for day 120, a seen event id."""
    for user, line in [
        ("ana", "/city register Brno country=CZ"),
        ("bob", "/city join Brno"),
        ("ana", "/city approve @bob Brno"),
        ("bob", "/city offer open data platform"),
        ("bob", "/goal add Open a one-stop shop for renovation"),
        ("ana", "/city role @dan expert"),
        ("ana", "/city role @eve expert"),
        ("ana", "/event broadcast #general Welcome everyone"),
        ("ana", '/event broadcast #general Summit in spring at="2027-03-22 09:00"'),
    ]:
        assert not ask(services, user, line).error, line
    with unit_of_work(services.engine) as session:
        seen_events.first_sighting(session=session, event_id="Ev-day-0", now=clock.now())
    send_due(
        services,
        dan=[SendOutcome("failed", error="cannot_dm")],
        eve=[SendOutcome("retry", retry_after=400 * 86400)],
    )
    return services


def test_retention_prunes_what_it_should_and_nothing_else(months, clock):
    services = months
    day0 = deliveries(services)
    assert day0["bob:notice:"].status == "sent" and day0["bob:notice:"].body
    assert day0["dan:notice:"].status == "failed" and day0["dan:notice:"].error == "cannot_dm"
    assert day0["eve:notice:"].status == "pending" and day0["eve:notice:"].body
    assert day0["ana:report:"].body  # the broadcast's delivery summary

    clock.advance(60 * DAY)  # day 60: something new, and nothing is old enough yet
    say(services, "ana", "/city role @fay expert")
    with unit_of_work(services.engine) as session:
        seen_events.first_sighting(session=session, event_id="Ev-day-60", now=clock.now())
    send_due(services)
    assert prune_old_data(services) == NOTHING
    assert deliveries(services)["fay:notice:"].body
    kept = kept_for_good(services)

    clock.advance(31 * DAY)  # day 91: day 0 is past the 90 days
    pruned = prune_old_data(services)
    # bob's notice, dan's failed one, the broadcast's summary and the report that dan could not be reached
    assert pruned["bodies"] == 4 and pruned["broadcasts"] == 1 and pruned["seen_events"] == 1 and not pruned["audit"]
    settled_on_day_0 = [
        r for r in all_deliveries(services) if r.status != "pending" and r.due_at < clock.now() - 90 * DAY
    ]
    assert len(settled_on_day_0) == 6  # with the organisers' message (missed) and the broadcast (sent), bodiless
    assert all(r.body is None and r.error is None and r.attempted_at is None for r in settled_on_day_0)
    rows = deliveries(services)
    assert rows["dan:notice:"].error is None and rows["dan:notice:"].status == "failed"  # the row, and its key, stay
    assert rows["eve:notice:"].body == day0["eve:notice:"].body  # still owed: kept whole
    assert rows["eve:notice:"].status == "pending"
    assert rows["fay:notice:"].body  # day 60
    assert broadcast_texts(services) == {1: "", 2: "Summit in spring"}  # the second is still to go
    assert seen(services) == {"Ev-day-60"}
    assert kept_for_good(services) == kept  # no city, offer, goal, person or ledger row went
    assert len(audit_whats(services)) == 7  # six on day 0, fay's role on day 60
    assert prune_old_data(services) == NOTHING  # again: nothing more

    clock.advance(640 * DAY)  # day 731: day 0's audit entries are past two years, day 60's are not
    pruned = prune_old_data(services)
    assert pruned["audit"] == 6
    assert audit_whats(services) == ["role"]  # fay's, on day 60
    assert broadcast_texts(services) == {1: "", 2: "Summit in spring"}  # never sent: nothing to prune
    assert deliveries(services)["eve:notice:"].body == day0["eve:notice:"].body


def test_the_periods_are_settings(database_url, clock):
    settings = make_settings(database_url, citypeers_retention_days=30, citypeers_audit_retention_days=365)
    services = build_services(settings, clock=clock, first_user_is_admin=True)
    try:
        assert services.settings.retention == 30 * DAY
        assert services.settings.audit_retention == 365 * DAY
        say(services, "ana", "/city register Brno country=CZ")
        clock.advance(31 * DAY)
        assert prune_old_data(services)["audit"] == 0
        clock.advance(335 * DAY)
        assert prune_old_data(services)["audit"] == 1
    finally:
        services.engine.dispose()
    defaults = make_settings(database_url)
    assert (defaults.citypeers_retention_days, defaults.citypeers_audit_retention_days) == (90, 730)


SECRET_GOAL = "Zanzibar-goal renovation one-stop shop"
SECRET_MESSAGE = "Quetzal-broadcast welcome"
SECRET_OFFER = "Xylophone-offer open data"


def test_no_info_log_line_carries_a_goal_or_a_message(services, clock, caplog):
    caplog.set_level(logging.INFO)
    for user, line in [
        ("ana", "/city register Brno country=CZ"),
        ("bob", "/city join Brno"),
        ("ana", "/city approve @bob Brno"),
        ("bob", f"/city offer {SECRET_OFFER}"),
        ("bob", f"/goal add {SECRET_GOAL}"),
        ("bob", "/goal update 1 at-risk Zanzibar-note"),
        ("ana", f"/event broadcast #general {SECRET_MESSAGE}"),
        ("ana", f'/event broadcast #other "{SECRET_MESSAGE} again" at="2026-11-23 10:00"'),
        ("ana", '/event add "Zanzibar-lab" start="2026-11-24 10:00" channel=#labs'),
        ("ana", "/goal export"),
        ("ana", "/city audit"),
    ]:
        ask(services, user, line)
    send_due(services, **{"#general": [SendOutcome("failed", error="channel_not_found")]})
    clock.advance(DAY + timedelta(hours=1))
    send_due(services, **{"#other": [SendOutcome("retry", retry_after=5)]})
    clock.advance(timedelta(minutes=1))
    send_due(services)
    clock.advance(200 * DAY)
    prune_old_data(services)

    # The console logs a command that failed on our side: its name, never its text.
    from bot import console as console_module

    terminal = console_module.Console(services, "bob", io.StringIO())
    original = console_module.handle

    def broken(*_args, **_kwargs):
        raise RuntimeError("database gone")

    console_module.handle = broken
    try:
        terminal.run_line(f"/goal add {SECRET_GOAL}")
    finally:
        console_module.handle = original

    assert any(record.levelno >= logging.INFO for record in caplog.records)  # something was logged
    assert any("command failed" in record.getMessage() for record in caplog.records)
    for record in caplog.records:
        if record.levelno < logging.INFO:
            continue
        text = record.getMessage() + (caplog.handler.format(record) if record.exc_info else "")
        for secret in ("Zanzibar", "Quetzal", "Xylophone"):
            assert secret not in text, (record.name, text)


# What a log call may not be given: names that hold people's text (a goal, an offer, a message, a command's rest).
TEXT_NAMES = {"text", "body", "rest", "note", "line", "reply", "content", "learnings", "title", "description", "plain"}
# Calls that pass such a name but log no text of people's, and why.
NOT_PEOPLES_TEXT = {("bot/slack/listeners.py", "response.body")}  # Slack's answer to our reply, not the reply


def test_no_log_call_in_bot_or_handlers_is_given_peoples_text():
    """The grep: every log call of bot/ and handlers/ at INFO or above, and the names its arguments read."""
    root = Path(__file__).resolve().parents[2]
    found = []
    for folder in ("bot", "handlers"):
        for path in sorted((root / folder).rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in {"info", "warning", "error", "exception", "critical", "log"}
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id in {"log", "logger", "logging"}
                ):
                    continue
                for arg in node.args[1:]:
                    for sub in ast.walk(arg):
                        name = getattr(sub, "id", None) or getattr(sub, "attr", "")
                        if name in TEXT_NAMES and (relative, ast.unparse(sub)) not in NOT_PEOPLES_TEXT:
                            found.append(f"{relative}:{node.lineno}: {ast.unparse(sub)}")
    assert found == []


def test_every_process_prunes_daily(services):
    """The job is one of the scheduler's, daily, first a few minutes after start (a process restarted every day
    still prunes)."""
    from datetime import UTC, datetime

    from bot.scheduler import RETENTION_FIRST, Runtime

    runtime = Runtime(services, RecordingSender())
    before = datetime.now(UTC)
    runtime.start()
    try:
        job = runtime.scheduler.get_job("retention")
        assert job is not None and job.func is prune_old_data and job.args == (services,)
        assert job.trigger.interval == DAY
        assert before + RETENTION_FIRST <= job.next_run_time <= datetime.now(UTC) + RETENTION_FIRST
    finally:
        runtime.shutdown()
