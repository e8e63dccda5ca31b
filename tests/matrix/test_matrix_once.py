"""Exactly once under Synapse's default limits (0.2 messages a second after a burst of 10): a reminder to many
attendees' direct rooms waits out the 429s and arrives once each; and a bot killed in the middle of sending it,
then started again on the same store, sends the rest and nothing twice (each send's transaction id is its ledger
row's, reused by the next process; an interrupted one is looked for in the room first)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.matrix.client import Person
from tests.matrix.conftest import MatrixProcess

pytestmark = pytest.mark.slow  # a homeserver, `citypeers run` processes and minutes of real rate limits

BRUSSELS = ZoneInfo("Europe/Brussels")


def body(event: dict) -> str:
    return str(event.get("content", {}).get("body", ""))


def is_reminder(event: dict) -> bool:
    return "City Lab" in body(event) and "starts" in body(event)


def dm_reminders(person: Person, bot_id: str) -> list[dict]:
    return [e for room in person.direct_rooms() for e in person.messages(room, bot_id) if is_reminder(e)]


def attended_event(synapse, bot: MatrixProcess, organiser: Person, attendees: list[Person], *, lead: float) -> str:
    """A room with the bot and everyone in it, an event whose reminder is due `lead` seconds from now (ten minutes
    before it starts), attended by all, each of whom opened a direct room with the bot; the bot unlimited while it
    answers, under the homeserver's default limits from then on. The room."""
    bot_id = bot.bot.user_id
    room = organiser.create_room(invite=[bot_id] + [p.user_id for p in attendees])
    for person in attendees:
        person.join(room)
        person.invited.append(person.create_room(invite=[bot_id], direct=True))  # as Element's "Start chat"
    organiser.wait_for(lambda: bot_id in organiser.members(room), what="the bot to join")
    for person in attendees:
        person.wait_for(lambda p=person: bot_id in p.members(p.invited[-1]), what="the bot in the direct room")
    due = datetime.now(UTC) + timedelta(seconds=lead)
    start = (due + timedelta(minutes=10)).astimezone(BRUSSELS).strftime("%Y-%m-%d %H:%M:%S")
    added = organiser.say(room, f'!event add "City Lab" start="{start}" remind=10m channel={room}')
    assert "Scheduled" in body(organiser.answer_to(room, added, bot_id)), bot.log()
    asked = [(person, person.say(room, "!event rsvp 1")) for person in attendees]
    for person, command in asked:
        assert "attending" in body(person.answer_to(room, command, bot_id))
    assert datetime.now(UTC) < due - timedelta(seconds=3), "the set-up took longer than the lead: raise it"
    synapse.limit(synapse.admin.access_token, bot_id)
    return room


def wait_until(check, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.5)  # waiting for the homeserver to deliver; nothing is timed here
    raise AssertionError(f"waited {timeout} s for {what}")


def sync_all(people: list[Person]) -> None:
    for person in people:
        person.sync(timeout_ms=0)


@pytest.mark.slow(seconds=300)  # 41 messages past the burst at 0.2 a second: the longest test, so it starts first
def test_a_reminder_to_fifty_direct_rooms_arrives_once_each_under_synapses_limits(
    synapse, bot_account, people, tmp_path
):
    organiser, *attendees = people(*["p"] * 51)
    database = f"sqlite:///{tmp_path / 'citypeers.db'}"
    with MatrixProcess(synapse, bot_account, database, admins=organiser.user_id, citypeers_claim_seconds="5") as bot:
        bot_id = bot_account.user_id
        room = attended_event(synapse, bot, organiser, attendees, lead=180)

        def everyone_has_it() -> bool:
            sync_all([organiser, *attendees])
            in_room = any(is_reminder(e) for e in organiser.messages(room, bot_id))
            return in_room and all(dm_reminders(person, bot_id) for person in attendees)

        started = time.monotonic()
        wait_until(everyone_has_it, timeout=900, what="the reminder in every direct room")
        took = time.monotonic() - started
        time.sleep(3)
        sync_all([organiser, *attendees])
        assert [len(dm_reminders(person, bot_id)) for person in attendees] == [1] * 50
        assert len([e for e in organiser.messages(room, bot_id) if is_reminder(e)]) == 1
        assert "429" in bot.log() or took > 100  # the homeserver's limits were met, and waited out
        print(f"50 direct rooms and the room reached in {took:.0f} s of waiting after the set-up")


@pytest.mark.slow(seconds=180)  # two starts of the bot and a reminder at Synapse's pace
def test_a_bot_killed_while_sending_reminders_sends_each_once_after_it_starts_again(
    synapse, bot_account, people, tmp_path
):
    organiser, *attendees = people(*["p"] * 15)
    database = f"sqlite:///{tmp_path / 'citypeers.db'}"
    bot = MatrixProcess(synapse, bot_account, database, admins=organiser.user_id, citypeers_claim_seconds="3")
    bot_id = bot_account.user_id
    with bot:
        room = attended_event(synapse, bot, organiser, attendees, lead=60)

        def some_have_it() -> bool:
            sync_all(attendees)
            return 0 < sum(bool(dm_reminders(person, bot_id)) for person in attendees) < len(attendees) - 2

        wait_until(some_have_it, timeout=300, what="some reminders to arrive")
        bot.kill()  # in the middle: the burst went out, the rest wait on the homeserver's limit
        sync_all(attendees)
        before = sum(bool(dm_reminders(person, bot_id)) for person in attendees)
        assert before < len(attendees)

    with bot:  # the same store and database: the same device, the ledger as the killed process left it

        def everyone_has_it() -> bool:
            sync_all([organiser, *attendees])
            in_room = any(is_reminder(e) for e in organiser.messages(room, bot_id))
            return in_room and all(dm_reminders(person, bot_id) for person in attendees)

        wait_until(everyone_has_it, timeout=600, what="the rest of the reminders")
        time.sleep(3)
        sync_all([organiser, *attendees])
        assert [len(dm_reminders(person, bot_id)) for person in attendees] == [1] * len(attendees)
        assert len([e for e in organiser.messages(room, bot_id) if is_reminder(e)]) == 1
