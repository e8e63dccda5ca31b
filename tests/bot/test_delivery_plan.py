"""The ledger plans each platform's sends by its pace: a reminder to N people starts early enough that the last one
goes by its due time, never after; the real engine sends by that plan on an injected clock, once each."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from bot.delivery import DeliveryEngine, Outgoing
from handlers import ledger
from handlers.ledger import PLAN_MARGIN, PLAN_SHARE, RowKind, Status
from handlers.types import Notice, Reply
from storage import ledger_queries
from storage.db import run_transaction, unit_of_work
from storage.models import Delivery
from tests.handlers.conversation import say
from tests.support.outbox import RecordingSender

PACE = 5.0  # messages a second, as Slack's
STEP = timedelta(seconds=1 / (PACE * PLAN_SHARE))


class Timed(RecordingSender):
    """Records the injected clock's time of each send."""

    def __init__(self, clock) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.clock = clock
        self.at: dict[str, list[datetime]] = {}

    def send(self, message: Outgoing):  # type: ignore[no-untyped-def]
        self.at.setdefault(message.key, []).append(self.clock.now())
        return super().send(message)


def planned_engine(services, clock, sender, worker: str = "w1") -> DeliveryEngine:  # type: ignore[no-untyped-def]
    """The engine as `citypeers run` builds it for one platform at Slack's pace, its pacer on the injected clock."""
    return DeliveryEngine(
        services,
        sender,
        worker=worker,
        paces={"": PACE},
        sleep=lambda seconds: clock.advance(timedelta(seconds=seconds)),
        monotonic=lambda: clock.now().timestamp(),
    )


def run_until(engines, services, clock, until: datetime) -> None:  # type: ignore[no-untyped-def]
    """What the scheduler does: wake each engine at the next time a row is to be sent, until `until`."""
    while True:
        for engine in engines:
            engine.plan()
        with unit_of_work(services.engine) as session:
            upcoming = ledger_queries.next_pending_at(session=session)
        if upcoming is None or upcoming > until:
            return
        clock.set(max(clock.now(), upcoming))
        for engine in engines:
            engine.run_due()


def rows(services, kind: str = RowKind.REMINDER) -> list[Delivery]:  # type: ignore[no-untyped-def]
    with unit_of_work(services.engine) as session:
        return list(session.exec(select(Delivery).where(Delivery.kind == kind).order_by(Delivery.next_attempt_at)))


def add_lab(services, clock, *, start_in: timedelta, people: int, remind: str = "1h") -> datetime:  # type: ignore[no-untyped-def]
    start = (clock.now() + start_in).astimezone(services.settings.default_tz)
    say(services, "ana", f'/event add Lab start="{start:%Y-%m-%d %H:%M}" remind={remind}')
    for n in range(people):
        assert "You are attending" in say(services, f"p{n:03d}", "/event rsvp 1")
    return start


@pytest.fixture
def lab(services, clock):  # type: ignore[no-untyped-def]
    """40 people attend a Lab in a day; its reminder goes an hour before."""
    add_lab(services, clock, start_in=timedelta(days=1), people=40)
    return services


def test_a_reminder_to_many_is_placed_to_end_just_before_it_is_due(lab, clock):
    sender = RecordingSender()
    assert planned_engine(lab, clock, sender).plan() == 40
    placed = rows(lab)
    due = placed[0].due_at
    assert all(row.planned and row.due_at == due for row in placed)
    times = [row.next_attempt_at for row in placed]
    assert times[-1] == due - PLAN_MARGIN
    assert [b - a for a, b in zip(times, times[1:], strict=False)] == [STEP] * 39
    assert times[0] == due - PLAN_MARGIN - 39 * STEP  # ten seconds early for the first, at four a second


def test_sent_by_that_plan_every_one_goes_by_its_due_time_once(lab, clock):
    sender = Timed(clock)
    engine = planned_engine(lab, clock, sender)
    run_until([engine], lab, clock, clock.now() + timedelta(days=1))
    placed = rows(lab)
    assert {row.status for row in placed} == {Status.SENT} and not any(row.late for row in placed)
    assert all(row.sent_at <= row.due_at for row in placed)
    assert sorted(len(times) for times in sender.at.values()) == [1] * 40
    first = min(row.sent_at for row in placed)
    assert placed[0].due_at - first == PLAN_MARGIN + 39 * STEP


def test_people_who_attend_later_join_the_front_of_the_send(lab, clock):
    engine = planned_engine(lab, clock, RecordingSender())
    engine.plan()
    before = {row.id: row.next_attempt_at for row in rows(lab)}
    for n in range(40, 45):
        say(lab, f"p{n:03d}", "/event rsvp 1")
        engine.plan()  # as after each commit in `citypeers run`
    after = rows(lab)
    assert {row.id: row.next_attempt_at for row in after if row.id in before} == before  # nobody else moved
    times = [row.next_attempt_at for row in after]
    assert [b - a for a, b in zip(times, times[1:], strict=False)] == [STEP] * 44


def test_two_sends_near_each_other_share_the_pace_and_each_keeps_its_time(services, clock):
    """A second event starting two seconds before the first: its send goes before the first's, never on top."""
    first = add_lab(services, clock, start_in=timedelta(days=1), people=30)
    second = first - timedelta(seconds=2)
    say(services, "ana", f'/event add Second start="{second:%Y-%m-%d %H:%M:%S}" remind=1h')
    for n in range(30):
        say(services, f"p{n:03d}", "/event rsvp 2")
    sender = Timed(clock)
    engine = planned_engine(services, clock, sender)
    engine.plan()
    placed = rows(services)
    times = sorted(row.next_attempt_at for row in placed)
    assert all(b - a >= STEP for a, b in zip(times, times[1:], strict=False)), "two rows share a slot"
    assert all(row.next_attempt_at <= row.due_at - PLAN_MARGIN for row in placed)
    run_until([engine], services, clock, clock.now() + timedelta(days=1))
    assert all(row.status == Status.SENT and row.sent_at <= row.due_at for row in rows(services))


def test_notices_due_at_once_do_not_make_a_planned_reminder_late(lab, clock):
    engine = planned_engine(lab, clock, Timed(clock))
    engine.plan()
    start = rows(lab)[0].next_attempt_at
    clock.set(start - timedelta(seconds=1))
    burst = Notice(tuple(f"q{n}" for n in range(60)), Reply.of("Hello"))  # sixty people told something at once
    run_transaction(lab.engine, lambda session: ledger.queue_notices(session, [burst], now=clock.now()))
    run_until([engine], lab, clock, clock.now() + timedelta(days=1))
    reminders = rows(lab)
    assert all(row.status == Status.SENT and row.sent_at <= row.due_at for row in reminders)
    assert [row.status for row in rows(lab, RowKind.NOTICE)] == [Status.SENT] * 60


def test_two_processes_send_each_row_once_by_one_plan(lab, clock):
    sender = Timed(clock)
    engines = [planned_engine(lab, clock, sender, worker) for worker in ("w1", "w2")]
    run_until(engines, lab, clock, clock.now() + timedelta(days=1))
    assert sorted(len(times) for times in sender.at.values()) == [1] * 40
    placed = rows(lab)
    assert {row.status for row in placed} == {Status.SENT} and all(row.sent_at <= row.due_at for row in placed)


def test_after_an_outage_the_plan_goes_late_and_says_so(lab, clock):
    engine = planned_engine(lab, clock, Timed(clock))
    engine.plan()
    due = rows(lab)[0].due_at
    clock.set(due + timedelta(minutes=10))  # every process was down when the send was planned to start
    run_until([engine], lab, clock, due + timedelta(minutes=30))
    placed = rows(lab)
    assert {row.status for row in placed} == {Status.SENT} and all(row.late for row in placed)


def test_after_an_outage_past_the_start_the_plan_is_missed(lab, clock):
    engine = planned_engine(lab, clock, Timed(clock))
    engine.plan()
    clock.set(rows(lab)[0].due_at + timedelta(hours=1, minutes=1))  # down until the Lab had begun
    run_until([engine], lab, clock, clock.now())
    assert {row.status for row in rows(lab)} == {Status.MISSED}


def test_without_room_before_its_time_a_row_goes_as_soon_as_it_can(services, clock):
    """Due in five seconds to forty people: at four a second they cannot all be on time; none waits for its due time."""
    add_lab(services, clock, start_in=timedelta(days=1), people=40)
    clock.set(rows(services)[0].due_at - timedelta(seconds=5))
    planned_engine(services, clock, RecordingSender()).plan()
    times = [row.next_attempt_at for row in rows(services)]
    assert all(time_ <= clock.now() + timedelta(seconds=5) for time_ in times)
    assert sum(1 for time_ in times if time_ == clock.now()) == 40 - 16  # 16 fit in the 4 s before due - margin


def test_a_moved_event_is_planned_again(lab, clock):
    engine = planned_engine(lab, clock, RecordingSender())
    engine.plan()
    later = (clock.now() + timedelta(days=3)).astimezone(lab.settings.default_tz)
    say(lab, "ana", f'/event edit 1 start="{later:%Y-%m-%d %H:%M}"')
    assert engine.plan() == 80  # the reminders at their new time, and each attendee's notice of the change
    moved = [row for row in rows(lab) if row.status == Status.PENDING]
    assert len(moved) == 40
    due = moved[0].due_at
    assert all(row.planned and row.due_at == due and row.next_attempt_at < due for row in moved)
