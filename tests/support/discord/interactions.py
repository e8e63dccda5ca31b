"""Interactions sent to the bot as Discord sends them, signed with Ed25519, and the bot's answers checked."""

from __future__ import annotations

import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.support.discord import state
from tests.support.discord.constants import (
    APP_PERMISSIONS,
    BOOLEAN,
    CHANNEL,
    DEFAULT_MEMBER_PERMISSIONS,
    EPHEMERAL,
    GENERAL_CHANNEL_ID,
    GUILD_ID,
    INTEGER,
    INTERACTION_DEADLINE,
    NUMBER,
    STRING,
    SUB_COMMAND,
    SUB_COMMAND_GROUP,
    USER,
)
from tests.support.discord.rules import interaction_response_problems, walk_components

if TYPE_CHECKING:
    from tests.support.discord.fake import FakeDiscord


@dataclass(frozen=True)
class Answer:
    """The bot's HTTP answer to one interaction: `status, body, token = interactions.command(...)` works too."""

    status: int
    body: Any  # the parsed JSON answer, None if it was empty or not JSON
    token: str
    interaction: dict[str, Any]
    text: str = ""
    elapsed: float = 0.0

    def __iter__(self) -> Iterator[Any]:
        return iter((self.status, self.body, self.token))

    @property
    def type(self) -> int | None:
        return self.body.get("type") if isinstance(self.body, dict) else None

    @property
    def data(self) -> dict[str, Any]:
        data = self.body.get("data") if isinstance(self.body, dict) else None
        return data if isinstance(data, dict) else {}

    @property
    def content(self) -> str:
        return str(self.data.get("content") or "")

    @property
    def ephemeral(self) -> bool:
        return bool((self.data.get("flags") or 0) & EPHEMERAL)


OptionValue = Any
Options = Mapping[str, OptionValue] | Sequence[tuple[str, int, OptionValue]]


def _infer_type(value: Any) -> int:
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int):
        return INTEGER
    if isinstance(value, float):
        return NUMBER
    return STRING


class DiscordInteractions:
    """Posts what Discord would post to the bot's interactions endpoint, signed with a fresh Ed25519 key."""

    def __init__(self, bot_url: str, discord: FakeDiscord, *, path: str = "/discord/interactions") -> None:
        self.url = f"{bot_url.rstrip('/')}{path}"
        self.discord = discord
        self._key = Ed25519PrivateKey.generate()

    @property
    def public_key_hex(self) -> str:
        """The bot's DISCORD_PUBLIC_KEY."""
        return self._key.public_key().public_bytes_raw().hex()

    def signature(self, timestamp: str, body: bytes) -> str:
        return self._key.sign(timestamp.encode() + body).hex()

    # --- the interactions ---------------------------------------------------------------------------------

    def ping(self) -> Answer:
        payload = {
            "id": self.discord.new_id(),
            "application_id": self.discord.application_id,
            "type": 1,
            "token": _token(),
            "version": 1,
            "user": state.user("1310000000000009999"),
            "app_permissions": APP_PERMISSIONS,
        }
        return self.send(payload)

    def command(
        self,
        user_id: str,
        name: str,
        subcommand: str | None = None,
        options: Options = (),
        *,
        guild_id: str | None = GUILD_ID,
        channel_id: str | None = None,
        locale: str = "en-GB",
        username: str | None = None,
        permissions: str = DEFAULT_MEMBER_PERMISSIONS,
    ) -> Answer:
        """`/name subcommand` with `options`: {name: value} (types from the registered command, or inferred:
        bool 5, int 4, float 10, str 3), {name: (type, value)}, or [(name, type, value), ...]. `subcommand`
        may be "group sub". `guild_id=None` sends it from the user's DM with the bot."""
        data = self._command_data(name, subcommand, options, guild_id=guild_id)
        payload = self._payload(2, user_id, data, guild_id, channel_id, locale, username, permissions)
        return self.send(payload)

    def autocomplete(
        self,
        user_id: str,
        name: str,
        subcommand: str | None,
        focused_option: str,
        partial: str,
        *,
        options: Options = (),
        guild_id: str | None = GUILD_ID,
        channel_id: str | None = None,
        locale: str = "en-GB",
        username: str | None = None,
    ) -> Answer:
        """The user is typing `partial` into `focused_option` (other options already filled: `options`)."""
        data = self._command_data(name, subcommand, options, guild_id=guild_id, focused=(focused_option, partial))
        payload = self._payload(4, user_id, data, guild_id, channel_id, locale, username, DEFAULT_MEMBER_PERMISSIONS)
        return self.send(payload)

    def click(
        self,
        user_id: str,
        message: Mapping[str, Any],
        custom_id: str | None = None,
        *,
        label: str | None = None,
        values: Sequence[str] | None = None,
        guild_id: str | None = GUILD_ID,
        locale: str = "en-GB",
        username: str | None = None,
    ) -> Answer:
        """Press the button `custom_id` (or labelled `label`) in `message` (one the fake received: a channel
        message, `original(token)`, a follow-up, or an answer's data), or pick `values` in a select menu."""
        components = list(walk_components(message.get("components")))
        found = [
            c
            for c in components
            if (custom_id is not None and c.get("custom_id") == custom_id)
            or (label is not None and c.get("label") == label)
        ]
        assert found, f"no component {custom_id or label!r} in the message: {[c.get('custom_id') for c in components]}"
        component = found[0]
        assert component.get("style") not in (5, 6), "link and premium buttons send no interaction"
        assert not component.get("disabled"), f"{custom_id or label!r} is disabled"
        data: dict[str, Any] = {"custom_id": component["custom_id"], "component_type": component.get("type", 2)}
        if component.get("type") in (3, 5, 6, 7, 8):
            data["values"] = list(values or [])
        if "id" in component:
            data["id"] = component["id"]
        channel_id = str(message.get("channel_id") or "") or None
        if channel_id is not None and self.discord.is_dm_channel(channel_id):
            guild_id = None  # a press in a DM comes with `user` and no guild, as Discord sends it
        if guild_id is None and channel_id is None:
            channel_id = self.discord.dm_channel(user_id)
        source = {
            "id": message.get("id") or self.discord.new_id(),
            "channel_id": channel_id or GENERAL_CHANNEL_ID,
            "type": message.get("type", 0),
            "content": message.get("content", ""),
            "components": message.get("components", []),
            "embeds": message.get("embeds", []),
            "attachments": message.get("attachments", []),
            "flags": message.get("flags", 0),
            "author": message.get("author") or state.bot_user(),
            "timestamp": message.get("timestamp") or datetime.now(UTC).isoformat(),
        }
        payload = self._payload(3, user_id, data, guild_id, channel_id, locale, username, DEFAULT_MEMBER_PERMISSIONS)
        payload["message"] = source
        return self.send(payload)

    def submit_modal(
        self,
        user_id: str,
        custom_id: str,
        values: Mapping[str, str],
        *,
        modal: Mapping[str, Any] | None = None,
        message: Mapping[str, Any] | None = None,
        guild_id: str | None = GUILD_ID,
        channel_id: str | None = None,
        locale: str = "en-GB",
        username: str | None = None,
    ) -> Answer:
        """Submit a modal with `values` for its text inputs. With `modal` (the bot's type-9 answer or its data)
        the submission mirrors its layout (action rows or labels) and keeps what Discord's client enforces
        (required inputs, lengths); without, each value comes in an action row. `message`: the message whose
        button opened the modal."""
        modal_data = dict(modal.get("data", modal)) if modal else None
        if modal_data is not None:
            assert modal_data.get("custom_id") == custom_id, f"the modal is {modal_data.get('custom_id')!r}"
            components = []
            inputs = []
            for component in modal_data.get("components") or []:
                if component.get("type") == 1:
                    children = [self._submitted(c, values) for c in component.get("components") or []]
                    inputs.extend(component.get("components") or [])
                    components.append({"type": 1, "id": component.get("id", 0), "components": children})
                elif component.get("type") == 18:
                    inner = component.get("component") or {}
                    inputs.append(inner)
                    components.append(
                        {"type": 18, "id": component.get("id", 0), "component": self._submitted(inner, values)}
                    )
                else:
                    components.append({"type": component.get("type"), "id": component.get("id", 0)})
            unknown = set(values) - {str(i.get("custom_id")) for i in inputs}
            assert not unknown, f"the modal has no inputs {sorted(unknown)}"
        else:
            components = [
                {"type": 1, "components": [{"type": 4, "custom_id": key, "value": value}]}
                for key, value in values.items()
            ]
        data = {"custom_id": custom_id, "components": components}
        payload = self._payload(5, user_id, data, guild_id, channel_id, locale, username, DEFAULT_MEMBER_PERMISSIONS)
        if message is not None:
            payload["message"] = dict(message)
        return self.send(payload)

    @staticmethod
    def _submitted(text_input: Mapping[str, Any], values: Mapping[str, str]) -> dict[str, Any]:
        key = str(text_input.get("custom_id"))
        value = values.get(key, "")
        if text_input.get("type") == 4:
            low, high = text_input.get("min_length", 0), text_input.get("max_length", 4000)
            required = text_input.get("required", True)
            assert value or not required, f"the input {key!r} is required: Discord's client will not submit without it"
            assert not value or low <= len(value) <= high, f"{key!r} takes {low}-{high} characters, not {len(value)}"
        submitted = {"type": text_input.get("type", 4), "custom_id": key, "value": value}
        if "id" in text_input:
            submitted["id"] = text_input["id"]
        return submitted

    def raw(self, body: bytes, signature: str | None = None, timestamp: str | None = None) -> Answer:
        """POST `body` as it is, with exactly this signature (none if None) and timestamp (now if None); nothing
        is checked: for bad and missing signatures, which the bot must answer 401."""
        timestamp = timestamp if timestamp is not None else str(int(time.time()))
        headers = {"Content-Type": "application/json", "X-Signature-Timestamp": timestamp}
        if signature is not None:
            headers["X-Signature-Ed25519"] = signature
        status, text, _, elapsed = _post(self.url, body, headers)
        return Answer(status, _json_or_none(text), "", {}, text, elapsed)

    def send(self, payload: dict[str, Any], *, age: float = 0.0) -> Answer:
        """Register `payload` with the fake, sign it as of `age` seconds ago, post it, check the answer."""
        self.discord.register_interaction(payload)
        body = json.dumps(payload, separators=(",", ":")).encode()
        timestamp = str(int(time.time() - age))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Discord-Interactions/1.0 (+https://discord.com)",
            "X-Signature-Ed25519": self.signature(timestamp, body),
            "X-Signature-Timestamp": timestamp,
        }
        status, text, content_type, elapsed = _post(self.url, body, headers)
        parsed = _json_or_none(text)
        token = str(payload["token"])
        problems: list[str] = []
        where = f"answer to interaction type {payload['type']}"
        if status == 200:
            if parsed is None:
                problems.append(f"{where}: 200 without a JSON body: {text[:120]!r}")
            else:
                if not content_type.startswith("application/json"):
                    problems.append(f"{where}: Content-Type {content_type!r}, not application/json")
                problems.extend(
                    f"{where}: {p}" for p in interaction_response_problems(parsed, interaction_type=payload["type"])
                )
                if payload["type"] == 1 and parsed != {"type": 1}:
                    problems.append(f"{where}: a PING wants exactly {{'type': 1}}, not {parsed}")
                self.discord.record_answer(token, parsed)
        elif status in (202, 204):
            if self.discord.answer(token) is None:
                problems.append(f"{where}: answered {status} without posting a callback first")
        else:
            problems.append(f"{where}: HTTP {status}: {text[:200]!r}")
        if elapsed > INTERACTION_DEADLINE:
            problems.append(
                f"{where}: answered after {elapsed:.2f} s; Discord gives up after {INTERACTION_DEADLINE:.0f} s"
            )
        self.discord.note(problems)
        return Answer(status, parsed, token, payload, text, elapsed)

    # --- building payloads --------------------------------------------------------------------------------

    def _payload(
        self,
        kind: int,
        user_id: str,
        data: dict[str, Any],
        guild_id: str | None,
        channel_id: str | None,
        locale: str,
        username: str | None,
        permissions: str,
    ) -> dict[str, Any]:
        discord = self.discord
        user = state.user(user_id)
        if username:
            user |= {"username": username, "global_name": username}
        payload: dict[str, Any] = {
            "id": discord.new_id(),
            "application_id": discord.application_id,
            "type": kind,
            "data": data,
            "token": _token(),
            "version": 1,
            "locale": locale,
            "app_permissions": APP_PERMISSIONS,
            "entitlements": [],
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        if guild_id is not None:
            channel_id = channel_id or GENERAL_CHANNEL_ID
            payload |= {
                "guild_id": guild_id,
                "guild": {"id": guild_id, "locale": "en-US", "features": []},
                "guild_locale": "en-US",
                "channel_id": channel_id,
                "channel": {"id": channel_id, "type": 0, "guild_id": guild_id, "name": "general"},
                "member": {
                    "user": user,
                    "roles": [],
                    "permissions": permissions,
                    "joined_at": "2026-01-05T09:00:00.000000+00:00",
                    "nick": None,
                    "avatar": None,
                    "flags": 0,
                    "pending": False,
                    "deaf": False,
                    "mute": False,
                    "premium_since": None,
                    "communication_disabled_until": None,
                },
                "authorizing_integration_owners": {"0": guild_id},
                "context": 0,
            }
        else:
            channel_id = channel_id or discord.dm_channel(user_id)
            payload |= {
                "channel_id": channel_id,
                "channel": {"id": channel_id, "type": 1, "recipients": [user]},
                "user": user,
                "authorizing_integration_owners": {"0": "0"},
                "context": 1,
            }
        return payload

    def _registered(self, name: str, guild_id: str | None) -> dict[str, Any] | None:
        """The slash command `name` as the bot registered it (the guild's first, then global), if it did."""
        scopes: list[str | None] = [guild_id] if guild_id else []
        for scope in [*scopes, None]:
            for command in self.discord.commands(scope):
                if command.get("name") == name and (command.get("type") or 1) == 1:
                    return command
        if any(self.discord.commands(scope) for scope in [*scopes, None]):
            self.discord.note([f"interaction: /{name} is not among the registered commands"])
        return None

    def _command_data(
        self,
        name: str,
        subcommand: str | None,
        options: Options,
        *,
        guild_id: str | None,
        focused: tuple[str, str] | None = None,
    ) -> dict[str, Any]:
        registered = self._registered(name, guild_id)
        declared: list[dict[str, Any]] = (registered or {}).get("options") or []
        path = (subcommand or "").split()
        for part in path:
            match = next((o for o in declared if o.get("name") == part), None)
            if registered is not None and match is None:
                self.discord.note([f"interaction: /{name} has no registered subcommand {part!r}"])
            declared = (match or {}).get("options") or []
        declared_types = {o.get("name"): o.get("type") for o in declared}
        triples: list[tuple[str, int, Any]] = []
        items = options.items() if isinstance(options, Mapping) else [(n, (t, v)) for n, t, v in options]
        for option_name, value in items:
            if isinstance(value, tuple):
                kind, value = value
            else:
                kind = declared_types.get(option_name) or _infer_type(value)
            triples.append((option_name, int(kind), value))
        if focused is not None:
            triples.append((focused[0], int(declared_types.get(focused[0]) or STRING), focused[1]))
        if registered is not None:
            unknown = [n for n, _, _ in triples if n not in declared_types]
            if unknown:
                self.discord.note([f"interaction: /{name} {subcommand or ''} has no registered options {unknown}"])
        resolved: dict[str, dict[str, Any]] = {}
        typed = []
        for option_name, kind, value in triples:
            option: dict[str, Any] = {"name": option_name, "type": kind, "value": value}
            if focused is not None and option_name == focused[0]:
                option["focused"] = True
            typed.append(option)
            if kind == USER:
                resolved.setdefault("users", {})[str(value)] = state.user(str(value))
                if guild_id is not None:
                    resolved.setdefault("members", {})[str(value)] = {
                        "roles": [],
                        "joined_at": "2026-01-05T09:00:00.000000+00:00",
                        "permissions": DEFAULT_MEMBER_PERMISSIONS,
                        "flags": 0,
                    }
            elif kind == CHANNEL:
                resolved.setdefault("channels", {})[str(value)] = {
                    "id": str(value),
                    "type": 0,
                    # As Discord resolves it: the channel's own name (a made-up one for a channel it does not hold).
                    "name": self.discord.channel_name(str(value)) or f"channel-{str(value)[-4:]}",
                    "permissions": APP_PERMISSIONS,
                }
        if len(path) == 2:
            typed = [
                {
                    "type": SUB_COMMAND_GROUP,
                    "name": path[0],
                    "options": [{"type": SUB_COMMAND, "name": path[1], "options": typed}],
                }
            ]
        elif len(path) == 1:
            typed = [{"type": SUB_COMMAND, "name": path[0], "options": typed}]
        data: dict[str, Any] = {
            "id": (registered or {}).get("id") or self.discord.new_id(),
            "name": name,
            "type": 1,
            "options": typed,
        }
        if resolved:
            data["resolved"] = resolved
        if registered is not None and registered.get("guild_id"):
            data["guild_id"] = registered["guild_id"]
        return data


def _token() -> str:
    return "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(60)


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str, str, float]:
    """(status, body, Content-Type, seconds) of one POST."""
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            text = response.read().decode()
            return response.status, text, response.headers.get("Content-Type", ""), time.perf_counter() - started
    except urllib.error.HTTPError as error:
        text = error.read().decode()
        return error.code, text, error.headers.get("Content-Type", ""), time.perf_counter() - started
