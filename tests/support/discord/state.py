"""What the fake Discord holds: channels and DMs, messages, interactions and their answers, commands, scheduled
events, permissions denied; and how Discord builds the objects it answers with (users, messages, edits, who a
message pings). Its methods run with the fake's lock held."""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.support.discord.constants import BOT_USER_ID, BOT_USERNAME, DISCORD_EPOCH_MS, LOADING, TOKEN_LIFETIME
from tests.support.discord.routes import Upload
from tests.support.discord.rules import upload_index, walk_components
from tests.support.discord.schema import Findings

ERRORS = {
    0: "General error",
    10003: "Unknown Channel",
    10004: "Unknown Guild",
    10008: "Unknown Message",
    10015: "Unknown Webhook",
    10062: "Unknown interaction",
    10070: "Unknown Guild Scheduled Event",
    30038: "Maximum number of uncompleted guild scheduled events reached (100)",
    40060: "Interaction has already been acknowledged",
    50001: "Missing Access",
    50006: "Cannot send an empty message",
    50007: "Cannot send messages to this user",
    50013: "Missing Permissions",
    50027: "Invalid Webhook Token",
    50035: "Invalid Form Body",
    50109: "The request body contains invalid JSON.",
    50278: "Cannot send messages to this user due to having no mutual guilds",
}
STATUS_TEXT = {401: "401: Unauthorized", 404: "404: Not Found", 405: "405: Method Not Allowed"}
_NOT_EDITED = frozenset({"id", "timestamp", "webhook_id", "application_id"})  # kept when a component edits its message


def error(code: int, message: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"message": message or ERRORS.get(code, "General error"), "code": code, **extra}


def user(user_id: str) -> dict[str, Any]:
    return {
        "id": user_id,
        "username": f"user{user_id[-4:]}",
        "global_name": None,
        "discriminator": "0",
        "avatar": None,
        "public_flags": 0,
    }


def bot_user() -> dict[str, Any]:
    return {**user(BOT_USER_ID), "username": BOT_USERNAME, "bot": True}


def public(message: dict[str, Any]) -> dict[str, Any]:
    """A stored message as Discord answers it (without the allowed_mentions it was sent with)."""
    return {k: v for k, v in message.items() if k != "allowed_mentions"}


def pings(body: Mapping[str, Any], default_parse: Sequence[str]) -> dict[str, Any]:
    """Who Discord would notify for `body`'s content: `mentions` (user ids), `mention_roles`, `mention_everyone`."""
    content = str(body.get("content") or "")
    for component in walk_components(body.get("components")):  # a V2 text display can mention too
        if component.get("type") == 10:
            content += "\n" + str(component.get("content") or "")
    rules = body.get("allowed_mentions")
    parse = list(default_parse) if not isinstance(rules, dict) else list(rules.get("parse") or [])
    users_allowed = set(rules.get("users") or []) if isinstance(rules, dict) else set()
    named_users = re.findall(r"<@!?(\d+)>", content)
    named_roles = re.findall(r"<@&(\d+)>", content)
    roles_allowed = set(rules.get("roles") or []) if isinstance(rules, dict) else set()
    users = [u for u in dict.fromkeys(named_users) if "users" in parse or u in users_allowed]
    roles = [r for r in dict.fromkeys(named_roles) if "roles" in parse or r in roles_allowed]
    everyone = "everyone" in parse and bool(re.search(r"@(everyone|here)\b", content))
    return {"mentions": [{"id": u} for u in users], "mention_roles": roles, "mention_everyone": everyone}


@dataclass
class Channel:
    id: str
    type: int  # 0 guild text, 1 DM
    guild_id: str | None = None
    name: str | None = None
    recipient: str | None = None


@dataclass
class Interaction:
    payload: dict[str, Any]
    created: float  # monotonic
    answer: dict[str, Any] | None = None  # the bot's HTTP answer or its callback
    answered_by: str = ""  # "http" or "callback"
    events: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)  # (kind, message id, body)
    original_id: str = ""

    @property
    def token(self) -> str:
        return str(self.payload["token"])

    @property
    def type(self) -> int:
        return int(self.payload["type"])


class State:
    """Everything the fake Discord knows; `url` is where it serves (attachment URLs point there)."""

    def __init__(self, application_id: str, nonce_window: float) -> None:
        self.application_id = application_id
        self.nonce_window = nonce_window  # docs: "checked for uniqueness in the past few minutes"
        self.url = ""
        self._ids = itertools.count(1)
        self._last_id = 0
        self.channels: dict[str, Channel] = {}
        self.dms: dict[str, str] = {}  # user id -> DM channel id
        self.closed_dms: dict[str, int] = {}  # user id -> error code
        self.messages: dict[str, list[dict[str, Any]]] = {}  # channel id -> message objects, oldest first
        self.nonces: dict[str, tuple[float, str, str]] = {}  # nonce -> (at, channel id, message id)
        self.interactions: dict[str, Interaction] = {}  # token -> interaction
        self.commands: dict[str | None, list[dict[str, Any]]] = {}  # guild id (None: global) -> commands
        self.command_ids: dict[tuple[str | None, int, str], str] = {}
        self.events: dict[str, dict[str, dict[str, Any]]] = {}  # guild id -> event id -> event
        self.denied: dict[str, set[str | None]] = {}  # permission -> guild ids (None: everywhere)

    def new_id(self) -> str:
        """A fresh snowflake (increasing, dated now)."""
        stamp = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last_id = max(stamp | (next(self._ids) & 0xFFF), self._last_id + 1)
        return str(self._last_id)

    def dm_channel(self, user_id: str) -> str:
        channel = self.dms.get(user_id)
        if channel is None:
            channel = self.dms[user_id] = self.new_id()
            self.channels[channel] = Channel(channel, 1, recipient=user_id)
        return channel

    def guild_denied(self, guild_id: str | None, *permissions: str) -> bool:
        return any(None in self.denied.get(p, set()) or guild_id in self.denied.get(p, set()) for p in permissions)

    def events_of(self, guild_id: str) -> dict[str, dict[str, Any]]:
        return self.events.setdefault(guild_id, {})

    # --- channels and messages ------------------------------------------------------------------------------

    def find_channel(self, channel_id: str) -> tuple[Channel | None, tuple[int, Any] | None]:
        channel = self.channels.get(channel_id)
        if channel is None:
            return None, (404, error(10003))
        if channel.type == 0 and self.guild_denied(channel.guild_id, "VIEW_CHANNEL"):
            return None, (403, error(50001))
        return channel, None

    def channel_message(self, params: Mapping[str, str]) -> tuple[dict[str, Any] | None, tuple[int, Any] | None]:
        channel, refusal = self.find_channel(params["channel_id"])
        if refusal:
            return None, refusal
        assert channel is not None
        for message in self.messages.get(channel.id, []):
            if message["id"] == params["message_id"]:
                return message, None
        return None, (404, error(10008))

    def message(
        self,
        channel_id: str,
        body: Mapping[str, Any],
        files: Sequence[Upload],
        *,
        default_parse: Sequence[str],
        message_id: str | None = None,
        webhook: bool = False,
    ) -> dict[str, Any]:
        """The message object Discord makes of `body` (with `allowed_mentions` kept, for tests to read)."""
        message_id = message_id or self.new_id()
        attachments = []
        for upload in files:
            meta = next(
                (
                    a
                    for a in body.get("attachments") or []
                    if isinstance(a, dict) and str(a.get("id")) == upload_index(upload)
                ),
                {},
            )
            attachment_id = self.new_id()
            attachments.append(
                {
                    "id": attachment_id,
                    "filename": meta.get("filename") or upload.filename,
                    "size": len(upload.data),
                    "url": f"{self.url}/attachments/{channel_id}/{attachment_id}/{upload.filename}",
                    "proxy_url": f"{self.url}/attachments/{channel_id}/{attachment_id}/{upload.filename}",
                    "content_type": upload.content_type,
                    **({"description": meta["description"]} if meta.get("description") else {}),
                }
            )
        message: dict[str, Any] = {
            "id": message_id,
            "channel_id": channel_id,
            "type": 0,
            "content": body.get("content") or "",
            "author": bot_user(),
            "attachments": attachments,
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "timestamp": datetime.now(UTC).isoformat(),
            "edited_timestamp": None,
            "tts": bool(body.get("tts")),
            "pinned": False,
            "flags": body.get("flags") or 0,
        }
        message |= pings(body, default_parse)
        if body.get("nonce") is not None:
            message["nonce"] = body["nonce"]
        if webhook:
            message["webhook_id"] = self.application_id
            message["application_id"] = self.application_id
        message["allowed_mentions"] = body.get("allowed_mentions")
        return message

    def edit(
        self, message: dict[str, Any], body: Mapping[str, Any], files: Sequence[Upload], *, default_parse: Sequence[str]
    ) -> dict[str, Any]:
        """`message` after an edit; mentions are parsed by the edit's own allowed_mentions, or the defaults."""
        edited = dict(message)
        edited["allowed_mentions"] = body.get("allowed_mentions")
        for key in ("content", "embeds", "components", "flags"):
            if key in body:
                edited[key] = body[key] if body[key] is not None else ([] if key in ("embeds", "components") else "")
        if "attachments" in body or files:
            kept = {str(a.get("id")) for a in body.get("attachments") or [] if isinstance(a, dict)}
            fresh = self.message(message["channel_id"], body, files, default_parse=[])["attachments"]
            edited["attachments"] = [a for a in message.get("attachments", []) if a["id"] in kept] + fresh
        if "content" in body or "components" in body:
            edited |= pings(edited, default_parse)
        edited["edited_timestamp"] = datetime.now(UTC).isoformat()
        return edited

    # --- interactions --------------------------------------------------------------------------------------

    def interaction(self, out: Findings, params: Mapping[str, str]) -> tuple[Interaction | None, Any]:
        """The interaction a webhook call's token names, or the refusal Discord answers."""
        if "application_id" in params and params["application_id"] != self.application_id:
            out.warn(f"webhook of application {params['application_id']}, not {self.application_id}")
            return None, (404, error(10015))
        interaction = self.interactions.get(params["token"])
        if interaction is None:
            out.warn(f"unknown interaction token {params['token'][:16]}…")
            return None, (404, error(10015))
        if time.monotonic() - interaction.created > TOKEN_LIFETIME:
            out.warn("interaction token used after its 15 minutes")
            return None, (401, error(50027))
        return interaction, None

    def webhook_message(
        self, interaction: Interaction, body: Mapping[str, Any], files: Sequence[Upload], message_id: str
    ) -> dict[str, Any]:
        channel_id = str(interaction.payload.get("channel_id") or "")
        return self.message(channel_id, body, files, default_parse=["users"], message_id=message_id, webhook=True)

    def original(self, interaction: Interaction) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """(original response, follow-ups) as they stand, from the answer and the webhook calls in order."""
        payload = interaction.payload
        channel_id = str(payload.get("channel_id") or (payload.get("channel") or {}).get("id") or "")
        answer = interaction.answer or {}
        kind = answer.get("type")
        data = answer.get("data") or {}
        original: dict[str, Any] | None = None
        if kind == 4:
            original = self.message(
                channel_id, data, [], default_parse=["users"], message_id=interaction.original_id, webhook=True
            )
        elif kind == 5:
            loading = {"flags": (data.get("flags") or 0) | LOADING}
            original = self.message(
                channel_id, loading, [], default_parse=[], message_id=interaction.original_id, webhook=True
            )
        elif kind in (6, 7) and isinstance(payload.get("message"), dict):
            original = dict(payload["message"])
            if kind == 7:
                original = self.edit(original, data, [], default_parse=["users"])
        followups: dict[str, dict[str, Any]] = {}
        for event, message_id, message in interaction.events:
            if event == "original":
                if original is None or original.get("flags", 0) & LOADING:
                    base = original or {}
                    original = {**message, "flags": (base.get("flags", 0) & ~LOADING) | message.get("flags", 0)}
                    original["id"] = base.get("id") or message["id"]
                else:
                    original = {**original, **{k: v for k, v in message.items() if k not in ("id", "timestamp")}}
            elif event == "followup":
                if kind == 5 and original is not None and original.get("flags", 0) & LOADING:
                    original = {**message, "id": original["id"], "flags": original["flags"] & ~LOADING}
                else:
                    followups[message_id] = message
            elif event == "edit-followup" and message_id in followups:
                followups[message_id] = {**followups[message_id], **message}
            elif event == "delete-followup":
                followups.pop(message_id, None)
            elif event == "delete-original":
                original = None
        return original, list(followups.values())

    def sync_component_message(self, interaction: Interaction) -> None:
        """A component interaction answered with type 6 or 7 edits the message the component is on, for everyone
        who sees it: the channel's stored copy changes with it (an ephemeral message is stored nowhere)."""
        if (interaction.answer or {}).get("type") not in (6, 7) or not isinstance(
            interaction.payload.get("message"), dict
        ):
            return
        source = interaction.payload["message"]
        stored = self.messages.get(str(source.get("channel_id") or interaction.payload.get("channel_id") or ""), [])
        original, _ = self.original(interaction)
        for index, message in enumerate(stored):
            if message["id"] == source.get("id") and original is not None:
                kept = {"allowed_mentions": message.get("allowed_mentions")}
                edited = {k: v for k, v in original.items() if k not in _NOT_EDITED}
                stored[index] = {**message, **edited, **kept}
                stored[index]["edited_timestamp"] = datetime.now(UTC).isoformat()

    def followup(self, interaction: Interaction, message_id: str) -> dict[str, Any] | None:
        _, followups = self.original(interaction)
        return next((m for m in followups if m["id"] == message_id), None)
