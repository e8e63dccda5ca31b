"""The delivery engine's Discord sender: reminders, broadcasts and notices as Discord messages.

A DM goes to the channel `POST /users/@me/channels` opens (once per person, then remembered). Every message
carries a `nonce` made from its ledger key with `enforce_nonce`, so Discord itself refuses to post it twice
within a few minutes; after a crash, the takeover also looks in the channel for the message before sending
again. A person whose DMs are closed (50007, 50278) is not retried: the row fails with `dm_closed`, and the
event's channel gets the reminder with a mention instead (see handlers.event.failure_report). A `calendar` row is
no message: it keeps the server's scheduled event in step with ours (bot/discord/events.py).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from datetime import datetime
from typing import Protocol

from bot.delivery import Arrival, Outgoing, SendOutcome
from bot.discord.api import DiscordClient, DiscordError, File
from bot.discord.events import ScheduledEvents
from bot.discord.render import Message, discord_id
from handlers.event_reminders import CALENDAR
from handlers.types import Reply

log = logging.getLogger(__name__)

DISCORD_EPOCH_MS = 1420070400000
DMS_CLOSED = frozenset({50007, 50278})
# Answers that trying again will not change: unknown channel or user, missing access or permission, bad form.
PERMANENT = {10003: "channel_not_found", 10013: "user_not_found", 50001: "missing_access", 50013: "missing_permissions"}


def nonce_of(key: str) -> str:
    """Discord's nonce holds 25 characters: a hash of the ledger key."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:25]


def snowflake_at(moment: datetime) -> int:
    return max(0, int(moment.timestamp() * 1000) - DISCORD_EPOCH_MS) << 22


class RenderMessage(Protocol):
    """bot.discord.render.render with the buttons' custom ids decided: `channel` for a message to a channel."""

    def __call__(self, reply: Reply, *, channel: bool = False) -> Message: ...


class DiscordDeliverySender:
    def __init__(self, client: DiscordClient, render: RenderMessage, events: ScheduledEvents | None = None) -> None:
        self.client = client
        self.render = render
        self.events = events
        self._dms: dict[str, str] = {}
        self._lock = threading.Lock()

    def send(self, message: Outgoing) -> SendOutcome:
        if message.kind == CALENDAR:
            return self.events.send(message) if self.events is not None else SendOutcome.sent()
        rendered = self._render(message)
        body = rendered.payload()
        body["enforce_nonce"] = True
        files = [File(f.filename, f.content, f.mime_type) for f in message.reply.files]
        if files:
            body["attachments"] = [{"id": index, "filename": f.filename} for index, f in enumerate(files)]
        try:
            for channel in self._channels(message):
                # Discord dedupes by author and nonce, whatever the channel: an introduction's DMs need one each.
                body["nonce"] = nonce_of(f"{message.key}:{channel}")
                self.client.request("POST", f"/channels/{channel}/messages", body=body, files=files)
        except DiscordError as error:
            return outcome_of(error)
        return SendOutcome.sent()

    def arrived(self, message: Outgoing, since: datetime) -> Arrival:
        """Whether the channel holds this message (same content from us) since `since`."""
        if message.kind == CALENDAR:
            return self.events.arrived(message, since) if self.events is not None else Arrival.ARRIVED
        content = self._render(message).content
        try:
            for channel in self._channels(message):
                found = self.client.request(
                    "GET", f"/channels/{channel}/messages?after={snowflake_at(since)}&limit=100"
                )
                if not any(isinstance(m, dict) and m.get("content") == content for m in found or []):
                    return Arrival.ABSENT
            return Arrival.ARRIVED
        except DiscordError as error:
            if error.status in (0, 429) or error.status >= 500:
                return Arrival.LATER
            log.warning("cannot look for message %s in its channel (%s)", message.key, error)
            return Arrival.UNKNOWN

    def _render(self, message: Outgoing) -> Message:
        # In a channel people in many zones read it: its times are Discord's timestamps, each reader's own.
        return self.render(message.reply, channel=message.recipient_kind == "channel")

    def _channels(self, message: Outgoing) -> list[str]:
        """The channel, or each person's DM (bots cannot open group DMs: an introduction goes to each)."""
        if message.recipient_kind == "channel":
            return [discord_id(message.recipient) or message.recipient]
        return [self._dm(discord_id(person) or person) for person in message.recipient.split(",")]

    def _dm(self, user: str) -> str:
        with self._lock:
            known = self._dms.get(user)
        if known:
            return known
        channel = str(self.client.request("POST", "/users/@me/channels", body={"recipient_id": user})["id"])
        with self._lock:
            self._dms[user] = channel
        return channel


def outcome_of(error: DiscordError) -> SendOutcome:
    if error.status == 429:
        return SendOutcome("retry", retry_after=error.retry_after or 1.0, error="ratelimited")
    if error.code in DMS_CLOSED:
        return SendOutcome("failed", error="dm_closed")
    if error.code in PERMANENT:
        return SendOutcome("failed", error=PERMANENT[error.code])
    if error.status in (401, 403, 404):
        return SendOutcome("failed", error=f"http_{error.status}")
    # A 5xx or a dropped connection: it may have been posted; the nonce keeps a resend from doubling it.
    return SendOutcome("retry", error=f"http_{error.status}" if error.status else "unreachable", certain=False)
