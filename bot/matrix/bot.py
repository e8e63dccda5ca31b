"""The Matrix bot: one device of a bot account, syncing in a thread of its own (mautrix-python on asyncio).

What it keeps, in MATRIX_STORE (one SQLite file; `citypeers backup` copies it beside the database's backup):
- the device: its id and access token (`citypeers_matrix_session`), so a restart never logs in again (a new device
  would lose the homeserver's transaction ids and the encryption keys);
- the sync position (`next_batch`, in mautrix's crypto account row), so a restart never reads old commands again;
- the encryption keys: the Olm account, Olm and Megolm sessions, devices seen, cross-signing (mautrix's tables
  `crypto_*`) and the rooms' state the encryption needs (`mx_*`);
- the reactions it offers on its own messages (`citypeers_matrix_reaction`): which command each one runs.

Commands are messages that start with `!` (`!city register Brno country=CZ`), in any room it was invited into by
someone of an allowed homeserver; each is run by the same dispatcher as the console, once (its event id goes into
the shared seen_event table first), and answered in the room, in a thread on the command. A person named in a
command may be typed (`@bruno:example.org`) or a pill (its id in the link): both reach the handlers as the neutral
`<@matrix:@bruno:example.org|Bruno>`. Messages for one person go to one direct room per person, reused: the rooms
in the bot's `m.direct` account data, or a new one (`is_direct`) added to it.

Sending is idempotent: each send's transaction id is given by the caller (the ledger row's key, hashed), so a retry
after a timeout, a 429 (waited out: `retry_after_ms`) or a crash gets the homeserver's first answer back instead of
a second message. In an encrypted room the content is encrypted first (a retry encrypts again; the homeserver still
keeps the first event for that transaction id).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import threading
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from mautrix.client import Client, InternalEventType, SyncStream
from mautrix.client.encryption_manager import DecryptionDispatcher
from mautrix.crypto import OlmMachine, PgCryptoStateStore, PgCryptoStore
from mautrix.errors import DecryptionError, MLimitExceeded, MNotFound, SessionNotFound
from mautrix.types import (
    DeviceID,
    EncryptedEvent,
    EventType,
    Membership,
    RoomCreatePreset,
    RoomID,
    StateEvent,
    TrustState,
    UserID,
)
from mautrix.util.async_db import Connection, Database, UpgradeTable

from bot.matrix.render import PREFIX, Message

if TYPE_CHECKING:
    from bot.matrix.settings import MatrixSettings

log = logging.getLogger(__name__)
T = TypeVar("T")

COMMAND = re.compile(r"!([A-Za-z]{1,16})(?:\s+(.*))?", re.DOTALL)
# Typed Matrix user ids in a command (the grammar of user ids, spec appendix), not inside a neutral reference.
TYPED_USER = re.compile(r"(?<![<\w|:\x00])@[a-z0-9._=\-/+]+:[A-Za-z0-9.\-]+(?::\d{1,5})?(?![\w:])")
# Rooms typed as an alias (`#lab:example.org`) or an id: `!abc:example.org`, or room version 12's, 43 characters of
# unpadded base64 with no server (`!n9UUr9…Tt73c`).
TYPED_ROOM = re.compile(
    r"(?<![<\w|:])(?:#[^\s:<>|#!]+:[A-Za-z0-9.\-]+(?::\d{1,5})?|!(?:[A-Za-z0-9_\-+/]{43}|[^\s:<>|#!]+:[A-Za-z0-9.\-]+(?::\d{1,5})?))(?![\w:])"
)
PILL = re.compile(r'<a\s+href="https://matrix\.to/#/(@[^"?]+)(?:\?[^"]*)?"\s*>(.*?)</a>', re.IGNORECASE | re.DOTALL)
ROOM_PILL = re.compile(r'<a\s+href="https://matrix\.to/#/([#!][^"?]+)(?:\?[^"]*)?"\s*>.*?</a>', re.I | re.DOTALL)
TAG = re.compile(r"<[^>]+>")
REPLY_FALLBACK = re.compile(r"<mx-reply>.*?</mx-reply>", re.DOTALL | re.IGNORECASE)
MAX_RATE_LIMIT_WAITS = 30  # 429s one send waits out before it gives the row back to the ledger
SEND_TIMEOUT = 30.0
ROOM_RETRY = 5.0  # seconds between tries of a room the homeserver's limit refused (Synapse's default: one per 5 s)

upgrade_table = UpgradeTable(version_table_name="citypeers_matrix_version", database_name="CityPeers Matrix store")


async def _upgrade_v1(conn: Connection) -> None:
    await conn.execute(
        """CREATE TABLE citypeers_matrix_session (
            user_id TEXT PRIMARY KEY, device_id TEXT NOT NULL, access_token TEXT NOT NULL,
            recovery_key TEXT, cross_signed INTEGER NOT NULL DEFAULT 0)"""
    )
    await conn.execute(
        """CREATE TABLE citypeers_matrix_reaction (
            event_id TEXT NOT NULL, emoji TEXT NOT NULL, command TEXT NOT NULL, thread_root TEXT,
            PRIMARY KEY (event_id, emoji))"""
    )


upgrade_table.register(_upgrade_v1, description="The device, its token and the reactions the bot offers")


class RateLimited(Exception):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited for {retry_after:.1f} s")
        self.retry_after = retry_after


class SendFailed(Exception):
    def __init__(self, status: int, errcode: str, message: str) -> None:
        super().__init__(f"{status} {errcode}: {message}")
        self.status, self.errcode = status, errcode


@dataclass(frozen=True)
class Incoming:
    """A command or a reaction, as the adapter runs it: who, the line (neutral, `/city …`), where to answer."""

    event_id: str
    room_id: str
    sender: str
    name: str
    line: str
    direct: bool  # the room is the person's direct room with the bot
    thread_of: str  # the root of the thread the answer goes in: the command's (or the message reacted to)
    reply_to: str = ""  # the event the answer replies to: the command, or the message reacted to


def txn_of(key: str) -> str:
    """A transaction id from a ledger key (or any key): URL-safe, the same for the same key."""
    return "cp" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:40]


def neutral_line(body: str, formatted: str | None) -> str:
    """A command as typed, with pills and typed user ids written the neutral way (`<@matrix:@id|name>`)."""
    if formatted:
        formatted = REPLY_FALLBACK.sub("", formatted)
        text = ROOM_PILL.sub(lambda m: urllib.parse.unquote(m.group(1)), formatted)
        text = PILL.sub(lambda m: f"\x00{m.group(1)}\x01{TAG.sub('', m.group(2)).strip()}\x02", text)
        text = re.sub(r"<br\s*/?>", "\n", text, flags=re.IGNORECASE)
        import html

        text = html.unescape(TAG.sub("", text))
    else:
        text = "\n".join(line for line in body.splitlines() if not line.startswith("> "))
    text = TYPED_USER.sub(lambda m: f"<@{PREFIX}{m.group(0)}|{m.group(0)[1:].split(':', 1)[0]}>", text)
    text = re.sub(
        r"\x00([^\x01]*)\x01([^\x02]*)\x02",
        lambda m: f"<@{PREFIX}{urllib.parse.unquote(m.group(1))}|{m.group(2).lstrip('@') or m.group(1)}>",
        text,
    )
    return text.strip()


class MatrixBot:
    """The device and its sync loop; `run_command(incoming)` answers a command, on a worker thread."""

    def __init__(
        self,
        settings: MatrixSettings,
        run_command: Callable[[Incoming], Any],
        *,
        families: frozenset[str],
        workers: int = 4,
        on_rate_limited: Callable[[], None] = lambda: None,
    ) -> None:
        self.settings = settings
        self.run_command = run_command
        self.families = families
        self.on_rate_limited = on_rate_limited  # GET /metrics counts the homeserver's 429s
        self.mxid = UserID(settings.matrix_user_id)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._thread, name="matrix", daemon=True)
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="matrix-command")
        self.ready = threading.Event()
        self.failure: BaseException | None = None
        self.client: Client | None = None
        self.crypto: OlmMachine | None = None
        self.db: Database | None = None
        self.direct: dict[str, str] = {}  # person -> their direct room with the bot
        self._direct_lock: asyncio.Lock | None = None
        self._sync_task: asyncio.Future[Any] | None = None
        self.accept_after_ms = 0  # commands older than this are not answered (the first start's old messages)
        self.recovery_key: str | None = None
        self._joined: set[str] = set()

    # --- the thread ----------------------------------------------------------------------------------------

    def start(self, timeout: float = 120.0) -> None:
        self.thread.start()
        if not self.ready.wait(timeout):
            raise TimeoutError("the Matrix homeserver did not answer in time")
        if self.failure is not None:
            raise self.failure

    def _thread(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._open())
        except BaseException as error:  # told by start(), in the caller's thread
            self.failure = error
            self.ready.set()
            return
        self.ready.set()
        try:
            self.loop.run_until_complete(self._sync())
        except (asyncio.CancelledError, Exception):
            log.info("Matrix sync stopped", exc_info=log.isEnabledFor(logging.DEBUG))
        finally:
            self.loop.run_until_complete(self._close())

    async def _sync(self) -> None:
        assert self.client is not None
        self._sync_task = self.client.start(None)
        await self._sync_task

    def stop(self) -> None:
        if self.thread.is_alive() and self.client is not None:
            self.loop.call_soon_threadsafe(self.client.stop)
            self.thread.join(timeout=20)
        self.executor.shutdown(wait=True)

    def call(self, coroutine: Awaitable[T], timeout: float = SEND_TIMEOUT) -> T:
        """Run a coroutine on the bot's loop from another thread and wait for it."""
        if not self.ready.wait(timeout) or self.client is None:
            if hasattr(coroutine, "close"):
                coroutine.close()
            raise TimeoutError("the Matrix device is not ready")
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)  # type: ignore[arg-type]

    # --- opening: the store, the device, the keys ----------------------------------------------------------

    async def _open(self) -> None:
        path = Path(self.settings.matrix_store).resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = Database.create(f"sqlite:///{path}", upgrade_table=upgrade_table)
        await self.db.start()
        await PgCryptoStore.upgrade_table.upgrade(self.db)
        await PgCryptoStateStore.upgrade_table.upgrade(self.db)
        self._direct_lock = asyncio.Lock()
        device_id, token = await self._session()
        state_store = PgCryptoStateStore(self.db)
        crypto_store = PgCryptoStore(account_id=self.mxid, pickle_key=self.settings.matrix_pickle_key, db=self.db)
        await crypto_store.open()
        client = Client(
            mxid=self.mxid,
            device_id=device_id,
            base_url=self.settings.matrix_homeserver,
            token=token,
            sync_store=crypto_store,
            state_store=state_store,
        )
        self.client = client
        whoami = await client.whoami()
        if whoami.user_id != self.mxid:
            raise ValueError(f"the token is {whoami.user_id}'s, not {self.mxid}'s")
        if await crypto_store.get_next_batch() is None:
            # The very first start: what was said before it is history, not commands to answer now.
            self.accept_after_ms = int(time.time() * 1000)
        stored_device = await crypto_store.get_device_id()
        if stored_device and stored_device != device_id:
            log.warning("the Matrix device changed (%s -> %s): its old keys are dropped", stored_device, device_id)
            await crypto_store.delete()
        crypto = OlmMachine(client, crypto_store, state_store)
        # Reminders go to whoever is in the room, verified or not: a bot is read on many devices.
        crypto.share_keys_min_trust = TrustState.UNVERIFIED
        crypto.send_keys_min_trust = TrustState.UNVERIFIED
        client.crypto = crypto
        client.remove_dispatcher(DecryptionDispatcher)  # ours waits for a key that arrives a moment later
        self.crypto = crypto
        await crypto.load()
        if not stored_device:
            await crypto_store.put_device_id(DeviceID(device_id))
        assert crypto.account is not None  # load() made or read it
        if not crypto.account.shared:
            await crypto.share_keys()
        await self._cross_sign()
        await self._load_direct()
        client.add_event_handler(EventType.ROOM_MEMBER, self._on_member)
        client.add_event_handler(EventType.ROOM_MESSAGE, self._on_message)
        client.add_event_handler(EventType.REACTION, self._on_reaction)
        client.add_event_handler(EventType.ROOM_ENCRYPTED, self._on_encrypted)
        client.add_event_handler(InternalEventType.SYNC_ERRORED, self._on_sync_error)
        log.info("Matrix: %s on device %s, syncing", self.mxid, device_id)

    async def _close(self) -> None:
        # Sends and commands under way finish (or give up) before the store and the connection close.
        pending = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        if pending:
            await asyncio.wait(pending, timeout=10)
        if self.client is not None:
            await self.client.api.session.close()
        if self.db is not None:
            await self.db.stop()

    async def _session(self) -> tuple[str, str]:
        """The device and its token: kept from the first start, or given (SSO), or a login with the password
        (once, ever; then kept)."""
        assert self.db is not None
        row = await self.db.fetchrow(
            "SELECT device_id, access_token FROM citypeers_matrix_session WHERE user_id=$1", self.mxid
        )
        if self.settings.matrix_access_token:
            device, token = self.settings.matrix_device_id, self.settings.matrix_access_token
        elif row is not None:
            return row["device_id"], row["access_token"]
        else:
            login = Client(base_url=self.settings.matrix_homeserver)
            try:
                answer = await login.login(
                    identifier=self.mxid, password=self.settings.matrix_password, device_name="CityPeers"
                )
            finally:
                await login.api.session.close()
            device, token = answer.device_id, answer.access_token
            log.info(
                "Matrix: logged in once as %s, device %s (kept in %s)", self.mxid, device, self.settings.matrix_store
            )
        await self.db.execute(
            """INSERT INTO citypeers_matrix_session (user_id, device_id, access_token) VALUES ($1, $2, $3)
               ON CONFLICT (user_id) DO UPDATE SET device_id=excluded.device_id, access_token=excluded.access_token""",
            self.mxid,
            device,
            token,
        )
        return device, token

    async def _cross_sign(self) -> None:
        """Sign the device with the account's cross-signing keys, made once (a recovery key, kept in the store and
        logged once for the operator); a device signed before is left as it is."""
        assert self.db is not None and self.crypto is not None
        row = await self.db.fetchrow(
            "SELECT cross_signed, recovery_key FROM citypeers_matrix_session WHERE user_id=$1", self.mxid
        )
        if row is not None and row["cross_signed"]:
            self.recovery_key = row["recovery_key"]
            return
        try:
            own = await self.crypto.get_own_cross_signing_public_keys()
            if own is None:
                key = await self.crypto.generate_recovery_key()
                self.recovery_key = key
                log.warning("Matrix: the bot's cross-signing keys were made; their recovery key is %s", key)
            else:
                log.warning(
                    "Matrix: %s already has cross-signing keys; verify this device (%s) from another session",
                    self.mxid,
                    self.client.device_id if self.client else "",
                )
                key = None
        except Exception as error:  # the homeserver may ask for interactive auth: the bot still works
            log.warning("Matrix: could not cross-sign the device (%s); it works, but shows as unverified", error)
            return
        await self.db.execute(
            "UPDATE citypeers_matrix_session SET cross_signed=1, recovery_key=$2 WHERE user_id=$1", self.mxid, key
        )

    async def _on_sync_error(self, event: Any) -> None:
        log.warning("Matrix sync failed (%s); trying again", getattr(event, "error", event))

    # --- incoming -------------------------------------------------------------------------------------------

    def _allowed(self, user_id: str) -> bool:
        server = user_id.split(":", 1)[1].lower() if ":" in user_id else ""
        return server in self.settings.matrix_allowed_servers

    async def _on_member(self, event: StateEvent) -> None:
        membership = event.content.membership  # type: ignore[union-attr]
        if membership in (Membership.LEAVE, Membership.BAN) and self.direct.get(str(event.state_key)) == event.room_id:
            # The person left their direct room: the next message for them opens a new one.
            person = str(event.state_key)
            assert self._direct_lock is not None and self.client is not None
            async with self._direct_lock:
                self.direct.pop(person, None)
                try:
                    data = dict(await self.client.get_account_data(EventType.DIRECT) or {})
                    data[person] = [room for room in data.get(person, []) if room != event.room_id]
                    await self.client.set_account_data(EventType.DIRECT, data)
                except Exception as error:
                    log.warning("Matrix: could not update the bot's direct rooms (%s)", error)
            return
        if event.state_key != self.mxid or membership != Membership.INVITE:
            return
        if event.room_id in self._joined:
            return  # the invitation is seen in the room's state and its timeline: joined once
        if not self._allowed(event.sender):
            log.info("Matrix: an invitation from %s (not an allowed homeserver) left unanswered", event.sender)
            return
        assert self.client is not None
        try:
            await self.client.join_room_by_id(event.room_id)
        except Exception as error:
            log.warning("Matrix: could not join %s: %s", event.room_id, error)
            return
        self._joined.add(event.room_id)
        if getattr(event.content, "is_direct", False):
            assert self._direct_lock is not None
            async with self._direct_lock:  # many invitations in one sync: m.direct is read and written in turn
                await self._remember_direct(event.sender, event.room_id)
        log.info("Matrix: joined %s, invited by %s", event.room_id, event.sender)

    async def _on_encrypted(self, event: EncryptedEvent) -> None:
        assert self.crypto is not None and self.client is not None
        try:
            decrypted = await self.crypto.decrypt_megolm_event(event)
        except SessionNotFound:
            # The room key comes to the device separately, often in the same sync: wait for it a moment.
            if not await self.crypto.wait_for_session(event.room_id, event.content.session_id, timeout=10):
                log.warning("Matrix: no key for %s in %s; not answered", event.event_id, event.room_id)
                return
            try:
                decrypted = await self.crypto.decrypt_megolm_event(event)
            except DecryptionError as error:
                log.warning("Matrix: cannot decrypt %s: %s", event.event_id, error)
                return
        except DecryptionError as error:
            log.warning("Matrix: cannot decrypt %s: %s", event.event_id, error)
            return
        self.client.dispatch_event(decrypted, getattr(event, "source", SyncStream.TIMELINE))

    async def _on_message(self, event: Any) -> None:
        if event.sender == self.mxid or event.timestamp < self.accept_after_ms:
            return
        content = event.content
        if str(getattr(content, "msgtype", "")) not in ("m.text", "m.notice"):
            return
        body = str(getattr(content, "body", "") or "")
        formatted = getattr(content, "formatted_body", None) if str(getattr(content, "format", "")) else None
        relates = getattr(content, "relates_to", None)
        if relates is not None and str(getattr(relates, "rel_type", "")) == "m.replace":
            return  # an edit is not a new command
        # A command typed in a thread is answered in that thread (a thread cannot start inside another).
        in_thread = relates is not None and str(getattr(relates, "rel_type", "")) == "m.thread"
        root = str(getattr(relates, "event_id", "") or event.event_id) if in_thread else event.event_id
        line = neutral_line(body, formatted)
        found = COMMAND.fullmatch(line)
        if found is None or found.group(1).lower() not in self.families:
            return
        command = await self._neutral_rooms(f"/{found.group(1).lower()} {found.group(2) or ''}".strip())
        await self._dispatch(event.event_id, event.room_id, event.sender, command, root=root)

    async def _neutral_rooms(self, line: str) -> str:
        """Rooms typed as an alias (`#lab:example.org`) or an id (`!abc:example.org`) written the neutral way
        (`<#matrix:!abc:example.org|lab>`); an alias that does not resolve stays as typed."""
        assert self.client is not None
        out, end = [], 0
        for found in TYPED_ROOM.finditer(line):
            typed = found.group(0)
            room, name = typed, typed[1:].split(":", 1)[0]
            if typed.startswith("#"):
                try:
                    room = str((await self.client.resolve_room_alias(typed)).room_id)  # type: ignore[arg-type]
                except Exception:
                    continue
            else:
                name = await self._room_name(room) or name[:12]
            out.append(line[end : found.start()])
            out.append(f"<#{PREFIX}{room}|{name}>")
            end = found.end()
        out.append(line[end:])
        return "".join(out)

    async def _room_name(self, room: str) -> str | None:
        assert self.client is not None
        try:
            state = await self.client.get_state_event(RoomID(room), EventType.ROOM_NAME)
            return str(getattr(state, "name", "") or "") or None
        except Exception:
            return None

    async def _on_reaction(self, event: Any) -> None:
        if event.sender == self.mxid or event.timestamp < self.accept_after_ms:
            return
        relates = getattr(event.content, "relates_to", None)
        target, key = getattr(relates, "event_id", None), getattr(relates, "key", None)
        if not target or not key:
            return
        assert self.db is not None
        # Emoji come with or without the variation selector, depending on the client.
        row = await self.db.fetchrow(
            "SELECT command, thread_root FROM citypeers_matrix_reaction WHERE event_id=$1 AND (emoji=$2 OR emoji=$3)",
            target,
            key,
            key.replace("\ufe0f", "") + "\ufe0f" if "\ufe0f" not in key else key.replace("\ufe0f", ""),
        )
        if row is None:
            return
        root = row["thread_root"] or target
        await self._dispatch(event.event_id, event.room_id, event.sender, row["command"], root=root, reply_to=target)

    async def _dispatch(
        self, event_id: str, room_id: str, sender: str, line: str, *, root: str, reply_to: str | None = None
    ) -> None:
        name = await self._name_of(room_id, sender)
        direct = self.direct.get(sender) == room_id
        incoming = Incoming(event_id, room_id, sender, name, line, direct, root, reply_to or event_id)
        await self.loop.run_in_executor(self.executor, self.run_command, incoming)

    async def _name_of(self, room_id: str, user_id: str) -> str:
        assert self.client is not None and self.client.state_store is not None
        try:
            member = await self.client.state_store.get_member(RoomID(room_id), UserID(user_id))
            if member is not None and member.displayname:
                return str(member.displayname)
        except Exception:
            pass
        return user_id[1:].split(":", 1)[0]

    # --- direct rooms ------------------------------------------------------------------------------------------

    async def _load_direct(self) -> None:
        assert self.client is not None
        data: Any
        try:
            data = await self.client.get_account_data(EventType.DIRECT)
        except MNotFound:
            data = {}
        except Exception as error:
            log.warning("Matrix: cannot read the bot's direct rooms (%s)", error)
            data = {}
        for person, rooms in (data or {}).items():
            if isinstance(rooms, list) and rooms:
                self.direct[person] = str(rooms[-1])

    async def _remember_direct(self, person: str, room_id: str) -> None:
        """Add the room to the bot's m.direct (the caller holds the direct-rooms lock)."""
        assert self.client is not None
        self.direct[person] = room_id
        try:
            data = dict(await self.client.get_account_data(EventType.DIRECT) or {})
        except MNotFound:
            data = {}
        rooms = [room for room in data.get(person, []) if room != room_id] + [room_id]
        data[person] = rooms
        await self.client.set_account_data(EventType.DIRECT, data)

    async def direct_room(self, person: str) -> str:
        """The person's direct room with the bot: the one known, or a new one (`is_direct`, in `m.direct`)."""
        assert self.client is not None and self._direct_lock is not None
        async with self._direct_lock:
            known = self.direct.get(person)
            if known:
                return known
            for attempt in range(MAX_RATE_LIMIT_WAITS + 1):
                try:
                    room = await self.client.create_room(
                        preset=RoomCreatePreset.TRUSTED_PRIVATE,
                        is_direct=True,
                        invitees=[UserID(person)],
                    )
                    break
                except MLimitExceeded:
                    self.on_rate_limited()
                    # Synapse counts a new room against the message limit too; mautrix drops its retry_after_ms.
                    if attempt == MAX_RATE_LIMIT_WAITS:
                        raise RateLimited(ROOM_RETRY) from None
                    await asyncio.sleep(ROOM_RETRY)
            await self._remember_direct(person, str(room))
            return str(room)

    # --- sending ----------------------------------------------------------------------------------------------

    async def send(
        self, room_id: str, message: Message, txn: str, *, thread_of: str | None = None, reply_to: str | None = None
    ) -> str:
        """Send a message (encrypted where the room is) under a transaction id, waiting out 429s; then the
        reactions it offers, each under its own transaction id, remembered for whoever reacts. The event id."""
        content = message.content(thread_of=thread_of, reply_to=reply_to)
        event_id = await self._put(room_id, "m.room.message", content, txn)
        if message.reactions:
            assert self.db is not None
            for number, (emoji, command) in enumerate(message.reactions.items()):
                await self.db.execute(
                    """INSERT INTO citypeers_matrix_reaction (event_id, emoji, command, thread_root)
                       VALUES ($1, $2, $3, $4) ON CONFLICT (event_id, emoji) DO NOTHING""",
                    event_id,
                    emoji,
                    command,
                    thread_of,  # a reaction on a message in a thread is answered in that thread
                )
                if message.place_reactions:
                    reaction = {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": emoji}}
                    await self._put(room_id, "m.reaction", reaction, f"{txn}r{number}", encrypt=False)
        return event_id

    async def send_file(self, room_id: str, filename: str, data: bytes, mime: str, txn: str) -> str:
        assert self.client is not None
        url = await self.client.upload_media(data, mime_type=mime, filename=filename)
        content = {
            "msgtype": "m.file",
            "body": filename,
            "filename": filename,
            "url": str(url),
            "info": {"mimetype": mime, "size": len(data)},
            "m.mentions": {},
        }
        return await self._put(room_id, "m.room.message", content, txn)

    async def _is_encrypted(self, room_id: str) -> bool:
        assert self.client is not None and self.client.state_store is not None
        encrypted = await self.client.state_store.is_encrypted(RoomID(room_id))
        if encrypted is None:
            try:
                await self.client.get_state_event(RoomID(room_id), EventType.ROOM_ENCRYPTION)
                encrypted = True
            except MNotFound:
                encrypted = False
        return bool(encrypted)

    async def _put(
        self, room_id: str, event_type: str, content: dict[str, Any], txn: str, *, encrypt: bool = True
    ) -> str:
        assert self.client is not None
        waits = 0
        while True:
            sent_type, sent = event_type, content
            if encrypt and await self._is_encrypted(room_id):
                plain: Any = content  # mautrix takes a plain dict as well as its content classes
                encrypted = await self.client.encrypt(RoomID(room_id), EventType.find(event_type), plain)
                sent_type, sent = "m.room.encrypted", encrypted.serialize()
            try:
                return await self._raw_put(room_id, sent_type, sent, txn)
            except RateLimited as limited:
                self.on_rate_limited()
                waits += 1
                if waits > MAX_RATE_LIMIT_WAITS:
                    raise
                await asyncio.sleep(limited.retry_after)

    async def _raw_put(self, room_id: str, event_type: str, content: dict[str, Any], txn: str) -> str:
        assert self.client is not None
        quote = urllib.parse.quote
        url = (
            f"{self.settings.matrix_homeserver}/_matrix/client/v3/rooms/{quote(room_id, safe='')}"
            f"/send/{quote(event_type, safe='')}/{quote(txn, safe='')}"
        )
        headers = {"Authorization": f"Bearer {self.client.api.token}", "Content-Type": "application/json"}
        async with self.client.api.session.put(url, data=json.dumps(content), headers=headers) as answer:
            text = await answer.text()
            try:
                body = json.loads(text) if text else {}
            except ValueError:
                body = {}
            if answer.status == 200 and body.get("event_id"):
                return str(body["event_id"])
            if answer.status == 429:
                retry_ms = body.get("retry_after_ms")
                header = answer.headers.get("Retry-After")
                seconds = retry_ms / 1000 if isinstance(retry_ms, int | float) else float(header or 1)
                raise RateLimited(max(0.05, seconds))
            raise SendFailed(answer.status, str(body.get("errcode", "")), str(body.get("error", text[:200])))

    async def sent_before(self, room_id: str, txn: str, since_ms: int) -> bool | None:
        """Whether the room holds our event with this transaction id (our own events carry it in `unsigned`),
        looking back to `since_ms`; None when the room cannot be read."""
        assert self.client is not None
        quote = urllib.parse.quote
        base = f"{self.settings.matrix_homeserver}/_matrix/client/v3/rooms/{quote(room_id, safe='')}/messages"
        headers = {"Authorization": f"Bearer {self.client.api.token}"}
        since: str | None = None
        for _page in range(20):
            query = {"dir": "b", "limit": "100", **({"from": since} if since else {})}
            async with self.client.api.session.get(base, params=query, headers=headers) as answer:
                if answer.status != 200:
                    return None
                body = await answer.json()
            chunk = body.get("chunk") or []
            for event in chunk:
                if event.get("sender") == self.mxid and (event.get("unsigned") or {}).get("transaction_id") == txn:
                    return True
            if not chunk or not body.get("end") or int(chunk[-1].get("origin_server_ts", 0)) < since_ms:
                return False
            since = body["end"]
        return False
