"""A person on an encrypting client (mautrix, as Element does it: Olm and Megolm, keys on the homeserver), for the
tests of encrypted rooms: it creates an encrypted room, types commands that go out encrypted, and reads what the
bot answers once decrypted. Its keys live in a SQLite file of its own."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from mautrix.client import Client
from mautrix.client.state_store.asyncpg import PgStateStore
from mautrix.crypto import OlmMachine, PgCryptoStore
from mautrix.errors import SessionNotFound
from mautrix.types import EventType, RoomID, TextMessageEventContent, TrustState, UserID
from mautrix.util.async_db import Database

from tests.matrix.synapse import Registered


class EncryptedPerson:
    def __init__(self, url: str, account: Registered, store: Path) -> None:
        self.url, self.account, self.store = url, account, store
        self.received: list[Any] = []  # decrypted messages, as mautrix events
        self.undecryptable: list[str] = []
        self.client: Client | None = None

    async def __aenter__(self) -> EncryptedPerson:
        self.db = Database.create(f"sqlite:///{self.store}", upgrade_table=PgCryptoStore.upgrade_table)
        await self.db.start()
        await PgStateStore.upgrade_table.upgrade(self.db)
        state = PgStateStore(self.db)
        keys = PgCryptoStore(account_id=self.account.user_id, pickle_key="test", db=self.db)
        await keys.open()
        client = Client(
            mxid=UserID(self.account.user_id),
            device_id=self.account.device_id,
            base_url=self.url,
            token=self.account.access_token,
            state_store=state,
            sync_store=keys,
        )
        crypto = OlmMachine(client, keys, state)
        crypto.share_keys_min_trust = TrustState.UNVERIFIED
        client.crypto = crypto
        await crypto.load()
        await keys.put_device_id(self.account.device_id)
        await crypto.share_keys()
        client.add_event_handler(EventType.ROOM_MESSAGE, self._message)
        client.add_event_handler(EventType.ROOM_ENCRYPTED, self._encrypted)
        self.client, self.crypto = client, crypto
        self.syncing = client.start(None)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self.client is not None
        self.client.stop()
        await asyncio.sleep(0)
        await self.client.api.session.close()
        await self.db.stop()

    async def _message(self, event: Any) -> None:
        self.received.append(event)

    async def _encrypted(self, event: Any) -> None:
        # mautrix's own dispatcher decrypts what it can at once; a key that comes a moment later is waited for here.
        try:
            await self.crypto.decrypt_megolm_event(event)
        except SessionNotFound:
            if await self.crypto.wait_for_session(event.room_id, event.content.session_id, timeout=10):
                decrypted = await self.crypto.decrypt_megolm_event(event)
                if decrypted.event_id not in {e.event_id for e in self.received}:
                    self.received.append(decrypted)
            else:
                self.undecryptable.append(str(event.event_id))
        except Exception:
            self.undecryptable.append(str(event.event_id))

    async def create_encrypted_room(self, invite: list[str]) -> str:
        assert self.client is not None
        room = await self.client.create_room(
            invitees=[UserID(user) for user in invite],
            initial_state=[
                {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}
            ],
        )
        return str(room)

    async def say(self, room: str, text: str) -> str:
        assert self.client is not None
        return str(
            await self.client.send_message_event(
                RoomID(room), EventType.ROOM_MESSAGE, TextMessageEventContent(msgtype="m.text", body=text)
            )
        )

    async def wait_for(self, found: Any, *, timeout: float = 60) -> Any:
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            result = found()
            if result:
                return result
            await asyncio.sleep(0.2)  # waiting for the homeserver to bring the answer; nothing is timed here
        raise AssertionError(f"waited {timeout} s; received {[str(e.content.body) for e in self.received]}")
