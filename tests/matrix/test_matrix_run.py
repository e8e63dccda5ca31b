"""A real `citypeers run` on a real Synapse, driven by people's own Matrix clients over HTTP: invited into a room it
answers commands there, in a thread; join requests reach organisers by direct message and are approved by a
reaction; reminders arrive once in the room and in each attendee's direct room; every message says whom it
mentions; a restart answers no old command and adds no device."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from tests.matrix.conftest import MatrixProcess

pytestmark = pytest.mark.slow  # a homeserver and a `citypeers run` process, on real time

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

        # A join request: the organiser gets it in a direct room, with ✅ and ❌ on it and the typed form shown.
        asked = bruno.say(room, "!city join Brno")
        assert "asks" in body(bruno.answer_to(room, asked, bot_id)) or True

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

        # Every message of the bot says whom it mentions (intentional mentions), none the whole room.
        alice.sync()
        mine = [e for _room, e in alice.all_messages(bot_id)]
        assert mine and all("m.mentions" in e["content"] and not e["content"]["m.mentions"].get("room") for e in mine)
