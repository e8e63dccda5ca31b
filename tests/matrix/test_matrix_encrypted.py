"""An encrypted room, as Tchap, openDesk and BundesMessenger make them by default: the bot reads a command it can only
read decrypted, answers in the same room encrypted, readable by the person's device; its device is cross-signed."""

from __future__ import annotations

import asyncio

import pytest

from tests.matrix.client import Person
from tests.matrix.conftest import MatrixProcess
from tests.matrix.e2ee import EncryptedPerson

pytestmark = pytest.mark.slow(seconds=60)  # a homeserver and a `citypeers run` process, on real time


def test_an_encrypted_room_gets_a_readable_answer(synapse, bot_account, tmp_path):
    alice = synapse.register()
    database = f"sqlite:///{tmp_path / 'citypeers.db'}"
    with MatrixProcess(synapse, bot_account, database, admins=alice.user_id) as bot:

        async def scenario() -> None:
            async with EncryptedPerson(synapse.url, alice, tmp_path / "alice.db") as person:
                room = await person.create_encrypted_room([bot_account.user_id])
                members = lambda: person.client.get_joined_members(room)  # noqa: E731
                deadline = asyncio.get_running_loop().time() + 60
                while bot_account.user_id not in await members():
                    assert asyncio.get_running_loop().time() < deadline, bot.log()
                    await asyncio.sleep(0.2)
                command = await person.say(room, "!city register Brno country=CZ")

                def answered():
                    return [e for e in person.received if e.sender == bot_account.user_id and str(e.room_id) == room]

                answer = (await person.wait_for(answered))[0]
                assert answer.content.body == "Registered Brno (CZ).", bot.log()
                relates = answer.content.relates_to
                assert str(relates.event_id) == command and str(relates.rel_type) == "m.thread"
                assert person.undecryptable == []

        asyncio.run(scenario())
    # What the homeserver holds of the answer is encrypted: no readable copy of it.
    reader = Person(synapse.url, alice)
    reader.sync()
    from_bot = [e for room in reader.events for e in reader.messages(room, bot_account.user_id)]
    assert from_bot and {e["type"] for e in from_bot} == {"m.room.encrypted"}
    # The bot's device is cross-signed: signed by the account's self-signing key, which the master key signs.
    keys = reader.request("POST", "/_matrix/client/v3/keys/query", {"device_keys": {bot_account.user_id: []}})
    self_signing = next(iter(keys["self_signing_keys"][bot_account.user_id]["keys"]))
    devices = keys["device_keys"][bot_account.user_id]
    signed = [device for device, data in devices.items() if self_signing in data["signatures"][bot_account.user_id]]
    assert len(signed) == 1 and keys["master_keys"][bot_account.user_id]
