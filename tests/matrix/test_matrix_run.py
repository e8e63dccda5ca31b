"""A real `citypeers run` on a real Synapse, driven by people's own Matrix clients over HTTP: invited into a room it
answers commands there, in a thread; join requests reach organisers by direct message and are approved by a
reaction; reminders arrive once in the room and in each attendee's direct room; every message says whom it
mentions; a restart answers no old command and adds no device."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.matrix.conftest import MatrixProcess

pytestmark = pytest.mark.slow(seconds=60)  # a homeserver and a `citypeers run` process, on real time

BRUSSELS = ZoneInfo("Europe/Brussels")


def body(event: dict) -> str:
    return str(event.get("content", {}).get("body", ""))


def test_invited_it_answers_commands_in_a_thread_and_approves_by_reaction(synapse, bot_account, people, tmp_path):
    alice, bruno = people("alice", "bruno")
    database = f"sqlite:///{tmp_path / 'citypeers.db'}"
    with MatrixProcess(synapse, bot_account, database, admins=alice.user_id) as bot:
        bot_id = bot_account.user_id
        room = alice.create_room(invite=[bot_id, bruno.user_id])
        bruno.join(room)
        alice.wait_for(lambda: bot_id in alice.members(room), what="the bot to join")

        command = alice.say(room, "!city register Brno country=CZ")
        answer = alice.answer_to(room, command, bot_id)
        assert body(answer) == "Registered Brno (CZ).", bot.log()
        assert answer["content"]["msgtype"] == "m.text"
        assert answer["content"]["formatted_body"] == "Registered <strong>Brno</strong> (CZ)."
        # A command typed in that thread is answered in the same thread, replying to it.
        shown = alice.say(room, "!city show Brno", thread=command)
        again = alice.answer_to(room, command, bot_id, after=answer["event_id"])
        assert "Brno" in body(again) and again["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == shown

        # A join request: the organiser gets it in a direct room, with ✅ and ❌ on it and the typed form shown.
        asked = bruno.say(room, "!city join Brno")
        assert "Asked to represent Brno" in body(bruno.answer_to(room, asked, bot_id))

        def request_in_direct_room():
            for direct in alice.direct_rooms():
                for event in alice.messages(direct, bot_id):
                    if "asks to represent" in body(event):
                        return direct, event
            return None

        direct, request = alice.wait_for(request_in_direct_room, what="the join request by DM")
        assert f"!city approve {bruno.user_id} Brno" in body(request)
        assert request["content"]["m.mentions"]["user_ids"] == [bruno.user_id]

        def reactions():
            return [
                e["content"]["m.relates_to"]["key"]
                for e in alice.events.get(direct, [])
                if e.get("type") == "m.reaction" and e["content"]["m.relates_to"]["event_id"] == request["event_id"]
            ]

        assert sorted(alice.wait_for(lambda: len(reactions()) == 2 and reactions())) == ["✅", "❌"]
        # Someone else's reaction runs nothing in their name: bruno is no organiser (and not in the room anyway).
        alice.react(direct, request["event_id"], "✅")
        approved = alice.answer_to(direct, request["event_id"], bot_id)
        assert "now represents" in body(approved), body(approved)

        # An organiser who leaves the direct room gets the next one in a new direct room, never in the old one.
        alice.request("POST", f"/_matrix/client/v3/rooms/{direct}/leave", {})
        (carla,) = people("carla")
        alice.invite(room, carla.user_id)
        carla.join(room)
        carla.say(room, "!city join Brno")

        def second_request():
            for other in alice.direct_rooms():
                if other != direct and any("asks to represent" in body(e) for e in alice.messages(other, bot_id)):
                    return other
            return None

        assert alice.wait_for(second_request, what="the next request in a new direct room") != direct

        # Every message of the bot says whom it mentions (intentional mentions), none the whole room.
        alice.sync()
        mine = [e for _room, e in alice.all_messages(bot_id)]
        assert mine and all("m.mentions" in e["content"] and not e["content"]["m.mentions"].get("room") for e in mine)


def typed(moment: datetime) -> str:
    return moment.astimezone(BRUSSELS).strftime("%Y-%m-%d %H:%M:%S")


def is_reminder(event: dict) -> bool:
    return "City Lab" in body(event) and "starts" in body(event)


def test_a_reminder_arrives_once_in_the_room_and_the_dm_and_a_restart_answers_no_old_command(
    synapse, bot_account, people, tmp_path
):
    alice, bruno = people("alice", "bruno")
    database = f"sqlite:///{tmp_path / 'citypeers.db'}"
    bot = MatrixProcess(synapse, bot_account, database, admins=alice.user_id)
    bot_id = bot_account.user_id
    registered = [d["device_id"] for d in synapse.devices(synapse.admin.access_token, bot_id)]  # registration's
    with bot:
        room = alice.create_room(invite=[bot_id, bruno.user_id])
        bruno.join(room)
        alice.wait_for(lambda: bot_id in alice.members(room), what="the bot to join")
        due = datetime.now(UTC) + timedelta(seconds=25)
        added = alice.say(
            room, f'!event add "City Lab" start="{typed(due + timedelta(minutes=1))}" remind=1m channel={room}'
        )
        assert "Scheduled" in body(alice.answer_to(room, added, bot_id)), bot.log()
        rsvp = bruno.say(room, "!event rsvp 1")
        assert "attending" in body(bruno.answer_to(room, rsvp, bot_id))

        def arrived():
            in_room = [e for e in bruno.messages(room, bot_id) if is_reminder(e)]
            in_dm = [e for d in bruno.direct_rooms() for e in bruno.messages(d, bot_id) if is_reminder(e)]
            return (in_room, in_dm) if in_room and in_dm else None

        in_room, in_dm = bruno.wait_for(arrived, timeout=120, what="the reminders")
        assert "!event rsvp 1" in body(in_room[0])  # the typed form, beside the reaction
        # RSVP by reaction on the room's reminder: the bot reacted ✅ there itself; bruno's runs the command as him.
        bruno.react(room, in_room[0]["event_id"], "✅")
        assert "attending" in body(bruno.answer_to(room, in_room[0]["event_id"], bot_id)).lower()
        commands = [added, rsvp]
    devices = [d["device_id"] for d in synapse.devices(synapse.admin.access_token, bot_id)]

    with bot:  # the same store: the same device, the sync position where it was
        shown = alice.say(room, "!city tracks")
        alice.answer_to(room, shown, bot_id)  # it answers new commands: an answer to an old one would be seen too
        bruno.sync()
        alice.sync()
    assert [d["device_id"] for d in synapse.devices(synapse.admin.access_token, bot_id)] == devices
    assert len(devices) == len(registered) + 1  # the one login of the first start, and no other
    for command in commands:
        answers = [
            e for e in alice.messages(room, bot_id) if e["content"].get("m.relates_to", {}).get("event_id") == command
        ]
        assert len(answers) == 1, command
    assert len([e for e in bruno.messages(room, bot_id) if is_reminder(e)]) == 1
    assert len([e for d in bruno.direct_rooms() for e in bruno.messages(d, bot_id) if is_reminder(e)]) == 1
    assert "logged in once" in bot.log() and bot.log().count("logged in once") == 1
    every = [e for _room, e in alice.all_messages(bot_id) + bruno.all_messages(bot_id)]
    assert every and all("m.mentions" in e["content"] for e in every)
