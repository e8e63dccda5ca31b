"""Scheduled work becomes deliveries: digests once a week per expert in their zone, check-ins once."""

from datetime import UTC, datetime, timedelta

import pytest

from core.reminders import digest_week_due
from core.text import Mention, Text
from handlers.jobs import queue_digests, queue_followups
from handlers.types import Button, Reply, Section, reply_from_dict, reply_to_dict
from tests.handlers.conversation import say
from tests.support.outbox import RecordingSender, engine_for


def test_digest_week_due():
    monday_7, monday_8 = datetime(2026, 11, 23, 7, 59), datetime(2026, 11, 23, 8, 0)
    assert digest_week_due(monday_7, 1, 8) is None
    assert digest_week_due(monday_8, 1, 8) == "2026-W48"
    assert digest_week_due(datetime(2026, 11, 24, 7, 59), 1, 8) == "2026-W48"  # missed on Monday: still goes out
    assert digest_week_due(datetime(2026, 11, 24, 8, 0), 1, 8) is None  # but not days late
    assert digest_week_due(datetime(2026, 11, 25, 9, 0), 4, 8) is None  # Wednesday, digest on Thursdays


def test_a_reply_survives_the_ledger():
    reply = Reply(title="Digest", error=False)
    reply.sections.append(
        Section(
            Text("*{city}*: {who} {n}", city="Łódź <!here>", who=Mention("U1", "ana"), n=3),
            [Button("Done", "/goal update 1 done", "primary")],
        )
    )
    again = reply_from_dict(reply_to_dict(reply))
    assert again.plain() == reply.plain() == "Digest\nŁódź <!here>: @ana 3"
    assert again.sections[0].buttons == reply.sections[0].buttons
    assert again.sections[0].text.values["who"] == Mention("U1", "ana")


@pytest.fixture
def experts(services, clock):
    """It is Sunday 22 Nov 2026 09:00 UTC. eve is in Brussels, kai in Auckland (already Monday there)."""
    say(services, "ana", "/city role @eve expert")
    say(services, "ana", "/city role @kai expert")
    from handlers.dispatch import handle
    from handlers.types import Request

    handle(services, Request("kai", "kai", "city", "tracks", tz="Pacific/Auckland"))
    engine_for(services, RecordingSender()).run_due()  # the "you are now expert" notices, out of the way
    return services


def test_each_expert_gets_one_digest_a_week_at_their_own_local_hour(experts, clock):
    sender = RecordingSender()
    engine = engine_for(experts, sender)
    clock.set(datetime(2026, 11, 22, 19, 0, tzinfo=UTC))  # Monday 08:00 in Auckland, Sunday 20:00 in Brussels
    assert queue_digests(experts) == 1
    assert queue_digests(experts) == 0
    engine.run_due()
    assert [who for _, who, _ in sender.sent] == ["kai"]
    clock.set(datetime(2026, 11, 23, 7, 0, tzinfo=UTC))  # Monday 08:00 in Brussels
    assert queue_digests(experts) == 1
    engine.run_due()
    assert sorted(who for _, who, _ in sender.sent) == ["eve", "kai"]
    assert sender.texts_to("eve") == [
        "Weekly goals digest, 2026-11-23\nNo goals are due in the next 14 days, overdue, or changed in the last 7 days."
    ]
    clock.advance(timedelta(days=3))
    assert queue_digests(experts) == 0
    clock.advance(timedelta(days=4))  # the next Monday
    assert queue_digests(experts) == 2


def test_goal_checkins_go_through_the_ledger_once(services, clock):
    say(services, "ana", "/city register Porto country=PT")
    say(services, "bob", "/city join Porto")
    say(services, "ana", "/city approve @bob Porto")
    say(services, "bob", "/goal add Open a tourism data hub due=2027-01-05")
    engine_for(services, RecordingSender()).run_due()  # the join and approval notices, out of the way
    sender = RecordingSender()
    engine = engine_for(services, sender)
    assert queue_followups(services) == 0  # nothing is due yet
    clock.set(datetime(2026, 12, 5, 9, 0, tzinfo=UTC))  # a month before the due date
    assert queue_followups(services) == 1
    assert queue_followups(services) == 0
    engine.run_due()
    [text] = sender.texts_to("bob")
    assert "Open a tourism data hub" in text
    clock.set(datetime(2027, 1, 5, 9, 0, tzinfo=UTC))
    assert queue_followups(services) == 1  # the due-date check-in
    engine.run_due()
    assert len(sender.texts_to("bob")) == 2


def test_a_digest_with_news_offers_the_progress_chart(experts, clock):
    from handlers.goal import weekly_digest

    say(experts, "ana", "/city register Porto country=PT")
    say(experts, "bob", "/city join Porto")
    say(experts, "ana", "/city approve @bob Porto")
    say(experts, "bob", "/goal add Open a tourism data hub due=2026-12-01")
    [notice] = weekly_digest(experts, only={"eve"})
    assert "Open a tourism data hub" in notice.reply.plain()
    assert [b.command for b in notice.reply.sections[-1].buttons] == ["/goal chart"]
