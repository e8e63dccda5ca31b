"""The delivery engine with a controllable clock: once, late, missed, retried, failed, reported, shared."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from bot.delivery import RunStats, SendOutcome
from storage import ledger_queries
from storage.db import unit_of_work
from tests.handlers.conversation import say
from tests.support.outbox import RecordingSender, engine_for

MINUTE = timedelta(minutes=1)


@pytest.fixture
def lab(services, clock):
    """ana (admin) schedules a City Lab starting in 2 days 10:00 with reminders 1d and 1h; bob attends."""
    start = (clock.now() + timedelta(days=2)).astimezone(services.settings.default_tz).strftime("%Y-%m-%d 10:00")
    say(services, "ana", f'/event add City Lab start="{start}" remind=1d,1h channel=#labs')
    say(services, "bob", "/event rsvp 1")
    return services


def statuses(services) -> list[tuple[str, str]]:
    with unit_of_work(services.engine) as session:
        return [(d.key.split(":", 3)[-1], d.status) for d in ledger_queries.deliveries_for(session=session, event_id=1)]


def test_nothing_before_it_is_due_then_each_reminder_once(lab, clock):
    sender = RecordingSender()
    engine = engine_for(lab, sender)
    assert engine.run_due().sent == 0
    clock.advance(timedelta(days=1))  # the 1d reminder is due now
    assert engine.run_due().sent == 2
    assert engine.run_due().sent == 0
    assert sorted(who for _, who, _ in sender.sent) == ["bob", "labs"]
    assert sender.texts_to("bob") == ["⏰ City Lab starts in 1 day: Tue 24 Nov 2026, 10:00 CET"]
    assert sender.texts_to("labs")[0].startswith("⏰ City Lab starts in 1 day")


def test_due_while_down_is_sent_late_if_the_event_has_not_begun(lab, clock):
    sender = RecordingSender()
    clock.advance(timedelta(days=1, hours=3))  # the bot was down when the 1d reminder fell due
    stats = engine_for(lab, sender).run_due()
    assert (stats.sent, stats.late) == (2, 2)
    assert "Sent late: this reminder was due" in sender.texts_to("bob")[0]


def test_due_while_down_after_the_event_began_is_missed(lab, clock):
    sender = RecordingSender()
    clock.advance(timedelta(days=3))
    stats = engine_for(lab, sender).run_due()
    assert (stats.sent, stats.missed) == (0, 4)
    assert sender.sent == []
    assert {status for _, status in statuses(lab)} == {"missed"}


def test_rate_limited_waits_for_retry_after_and_sends_once(lab, clock):
    sender = RecordingSender(answers={"bob": [SendOutcome("retry", retry_after=2, error="ratelimited")]})
    engine = engine_for(lab, sender)
    clock.advance(timedelta(days=1, hours=1))
    first = engine.run_due()
    assert (first.sent, first.retried) == (1, 1)
    assert engine.run_due().sent == 0  # not before Retry-After
    clock.advance(timedelta(seconds=2))
    assert engine.run_due().sent == 1
    assert sorted(who for _, who, _ in sender.sent) == ["bob", "labs"]


def test_server_errors_back_off_then_give_up_and_the_organiser_hears(lab, clock):
    sender = RecordingSender(answers={"labs": [SendOutcome("retry", error="http_503")] * 8})
    engine = engine_for(lab, sender)
    clock.advance(timedelta(days=1))
    for _ in range(10):  # backoff 2 s, 4 s … 128 s: every wait is under five minutes
        engine.run_due()
        clock.advance(timedelta(minutes=5))
    with unit_of_work(lab.engine) as session:
        failed = [d for d in ledger_queries.deliveries_for(session=session, event_id=1) if d.status == "failed"]
    assert len(failed) == 1 and failed[0].attempts == 8
    assert any("It will not be retried" in text for text in sender.texts_to("ana"))


def test_a_permanent_error_is_not_retried_and_is_reported(lab, clock):
    sender = RecordingSender(answers={"labs": [SendOutcome("failed", error="channel_not_found")]})
    engine = engine_for(lab, sender)
    clock.advance(timedelta(days=1, hours=1))
    stats = engine.run_due()
    assert stats.failed == 1 and stats.errors == ["channel_not_found"]
    assert sender.texts_to("ana") == ["Could not deliver to #labs: channel_not_found. It will not be retried."]
    clock.advance(timedelta(hours=1))
    engine.run_due()
    assert len(sender.texts_to("ana")) == 1


def test_cancel_withdraws_pending_reminders(lab, clock):
    say(lab, "ana", "/event cancel 1")
    clock.advance(timedelta(days=1, hours=1))
    sender = RecordingSender()
    engine_for(lab, sender).run_due()
    # bob is told of the cancellation (through the same ledger); no reminder goes out.
    assert [text for _, _, text in sender.sent] == ["City Lab, planned for Tue 24 Nov 2026, 10:00 CET, is cancelled."]
    assert {status for _, status in statuses(lab) if _.startswith("reminder")} <= {"withdrawn"}


def test_moving_an_event_moves_its_reminders(lab, clock):
    later = (clock.now() + timedelta(days=5)).astimezone(lab.settings.default_tz).strftime("%Y-%m-%d 10:00")
    say(lab, "ana", f'/event edit 1 start="{later}"')
    sender = RecordingSender()
    clock.advance(timedelta(days=1, hours=1))  # the old 1d reminder time
    assert engine_for(lab, sender).run_due().sent == 1  # bob hears of the change; no reminder at the old time
    assert sender.texts_to("bob") == ["City Lab has changed: Fri 27 Nov 2026, 10:00 CET."]
    clock.advance(timedelta(days=3))
    assert engine_for(lab, sender).run_due().sent == 2


def test_broadcast_now_and_the_organisers_summary(services, clock):
    say(services, "ana", "/event broadcast #general Hello <!channel> & welcome")
    sender = RecordingSender()
    engine_for(services, sender).run_due()
    assert sender.texts_to("general") == ["Hello <!channel> & welcome"]
    assert sender.texts_to("ana") == ["Broadcast to #general: 1 sent (0 late), 0 failed, 0 missed."]


def test_a_scheduled_broadcast_waits_for_its_time(services, clock):
    at = (clock.now() + timedelta(hours=2)).astimezone(services.settings.default_tz).strftime("%Y-%m-%d %H:%M")
    say(services, "ana", f'/event broadcast #general Summit tomorrow at="{at}"')
    sender = RecordingSender()
    engine = engine_for(services, sender)
    engine.run_due()
    assert sender.sent == []
    clock.advance(timedelta(hours=2))
    engine.run_due()
    assert sender.texts_to("general") == ["Summit tomorrow"]


def test_two_workers_on_one_database_send_each_message_once(services, clock):
    start = (clock.now() + timedelta(days=2)).astimezone(services.settings.default_tz).strftime("%Y-%m-%d 10:00")
    say(services, "ana", f'/event add Summit start="{start}" remind=1d channel=#summit')
    for n in range(40):
        say(services, f"u{n}", "/event rsvp 1")
    clock.advance(timedelta(days=1, hours=1))
    sender = RecordingSender()
    engines = [engine_for(services, sender, worker=f"w{n}") for n in range(2)]
    threads = [threading.Thread(target=engine.run_due) for engine in engines for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    recipients = [who for _, who, _ in sender.sent]
    assert sorted(recipients) == sorted([f"u{n}" for n in range(40)] + ["summit"])


def test_a_lapsed_claim_is_renewed_or_skipped_so_nothing_goes_twice(lab, clock):
    clock.advance(timedelta(days=1))
    sender = RecordingSender()
    slow, quick = engine_for(lab, sender, worker="slow"), engine_for(lab, sender, worker="quick")
    claimed = slow._claim()  # the slow worker took the batch, then stalled past its claim
    assert len(claimed) == 2
    clock.advance(timedelta(minutes=6))
    during = []

    def quick_runs_while_slow_sends(kind, recipient, reply):  # the other process wakes mid-send
        if not during:
            during.append(None)  # only once, also while quick itself is sending
            during[0] = quick.run_due()
        return SendOutcome.sent()

    sender.hook = quick_runs_while_slow_sends
    stats = RunStats()
    for delivery_id in claimed:
        slow._deliver(delivery_id, stats)
    assert during[0].sent == 1  # quick could take only the row slow had not renewed yet
    assert stats.sent == 1  # and slow skipped that one
    assert sorted(who for _, who, _ in sender.sent) == ["bob", "labs"]


def test_a_person_whose_dms_are_closed_gets_the_reminder_in_the_channel_and_the_organiser_hears_once(lab, clock):
    sender = RecordingSender(answers={"bob": [SendOutcome("failed", error="dm_closed")] * 2})
    engine = engine_for(lab, sender)
    engine.run_due()  # bob's "you are attending" has no notice; nothing is due yet
    clock.advance(timedelta(days=1))  # the 1d reminder
    stats = engine.run_due()
    assert stats.failed == 1 and stats.errors == ["dm_closed"]
    in_channel = sender.texts_to("labs")
    assert in_channel[0].startswith("⏰ City Lab starts in 1 day")
    assert in_channel[1].startswith("@bob, your direct messages are closed to CityPeers, so your reminder is here:")
    assert "⏰ City Lab starts in 1 day" in in_channel[1]
    assert sender.texts_to("ana") == ["Could not deliver to @bob: dm_closed. It will not be retried."]
    clock.advance(timedelta(hours=23))  # the 1h reminder: DMs still closed; the channel again, the organiser not
    engine.run_due()
    assert len(sender.texts_to("ana")) == 1
    assert sum("your direct messages are closed" in text for text in sender.texts_to("labs")) == 2
