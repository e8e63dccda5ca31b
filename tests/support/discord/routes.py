"""The REST routes the fake serves: each with its OpenAPI path, its action (a function of channels.py, webhooks.py or
guilds.py, by name) and what splits its rate-limit bucket; and the shapes every action takes and returns."""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from typing import Any

from tests.support.discord.constants import API_PREFIX


@dataclass(frozen=True)
class Upload:
    """One `files[n]` part of a multipart request."""

    field: str
    filename: str
    content_type: str
    data: bytes


Params = dict[str, str]
Files = list[Upload]
Outcome = tuple[int, Any, bool]  # (status, answer, deduped)


@dataclass(frozen=True)
class Route:
    method: str
    template: str  # ours: /channels/{channel_id}/messages
    spec_path: str | None  # the OpenAPI document's path template for the same route
    action: str
    webhook: bool = False  # the token is in the path: no Authorization, not under the global limit
    major: tuple[str, ...] = ()  # path parameters that split its rate-limit bucket (docs: top-level resources)

    @property
    def key(self) -> str:
        return f"{self.method} {self.template}"

    @functools.cached_property
    def pattern(self) -> re.Pattern[str]:
        parts = re.split(r"(\{[a-z_]+\})", self.template)
        regex = "".join(f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts)
        return re.compile(f"^{regex}$")

    @functools.cached_property
    def bucket(self) -> str:
        return hashlib.sha256(self.key.encode()).hexdigest()[:32]


_CHANNEL = "/channels/{channel_id}"
_MESSAGE = "/channels/{channel_id}/messages/{message_id}"
_WEBHOOK = "/webhooks/{application_id}/{token}"
_SPEC_WEBHOOK = "/webhooks/{webhook_id}/{webhook_token}"
_EVENTS = "/guilds/{guild_id}/scheduled-events"
_EVENT = "/guilds/{guild_id}/scheduled-events/{event_id}"
_SPEC_EVENT = "/guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}"
_HOOK = ("application_id", "token")

ROUTES: tuple[Route, ...] = (
    Route("POST", "/users/@me/channels", "/users/@me/channels", "open_dm"),
    Route("GET", _CHANNEL, _CHANNEL, "get_channel", major=("channel_id",)),
    Route("GET", f"{_CHANNEL}/messages", f"{_CHANNEL}/messages", "list_messages", major=("channel_id",)),
    Route("POST", f"{_CHANNEL}/messages", f"{_CHANNEL}/messages", "create_message", major=("channel_id",)),
    Route("GET", _MESSAGE, _MESSAGE, "get_message", major=("channel_id",)),
    Route("PATCH", _MESSAGE, _MESSAGE, "edit_message", major=("channel_id",)),
    Route("DELETE", _MESSAGE, _MESSAGE, "delete_message", major=("channel_id",)),
    Route("GET", f"{_WEBHOOK}/messages/@original", f"{_SPEC_WEBHOOK}/messages/@original", "get_original", True, _HOOK),
    Route(
        "PATCH", f"{_WEBHOOK}/messages/@original", f"{_SPEC_WEBHOOK}/messages/@original", "edit_original", True, _HOOK
    ),
    Route(
        "DELETE",
        f"{_WEBHOOK}/messages/@original",
        f"{_SPEC_WEBHOOK}/messages/@original",
        "delete_original",
        True,
        _HOOK,
    ),
    Route("POST", _WEBHOOK, _SPEC_WEBHOOK, "followup", True, _HOOK),
    Route(
        "GET",
        f"{_WEBHOOK}/messages/{{message_id}}",
        f"{_SPEC_WEBHOOK}/messages/{{message_id}}",
        "get_followup",
        True,
        _HOOK,
    ),
    Route(
        "PATCH",
        f"{_WEBHOOK}/messages/{{message_id}}",
        f"{_SPEC_WEBHOOK}/messages/{{message_id}}",
        "edit_followup",
        True,
        _HOOK,
    ),
    Route(
        "DELETE",
        f"{_WEBHOOK}/messages/{{message_id}}",
        f"{_SPEC_WEBHOOK}/messages/{{message_id}}",
        "delete_followup",
        True,
        _HOOK,
    ),
    Route(
        "POST",
        "/interactions/{interaction_id}/{token}/callback",
        "/interactions/{interaction_id}/{interaction_token}/callback",
        "callback",
        True,
        ("interaction_id", "token"),
    ),
    Route("GET", "/applications/{application_id}/commands", "/applications/{application_id}/commands", "get_commands"),
    Route("PUT", "/applications/{application_id}/commands", "/applications/{application_id}/commands", "put_commands"),
    Route(
        "GET",
        "/applications/{application_id}/guilds/{guild_id}/commands",
        "/applications/{application_id}/guilds/{guild_id}/commands",
        "get_commands",
        major=("guild_id",),
    ),
    Route(
        "PUT",
        "/applications/{application_id}/guilds/{guild_id}/commands",
        "/applications/{application_id}/guilds/{guild_id}/commands",
        "put_commands",
        major=("guild_id",),
    ),
    Route("GET", _EVENTS, _EVENTS, "list_events", major=("guild_id",)),
    Route("POST", _EVENTS, _EVENTS, "create_event", major=("guild_id",)),
    Route("GET", _EVENT, _SPEC_EVENT, "get_event", major=("guild_id",)),
    Route("PATCH", _EVENT, _SPEC_EVENT, "edit_event", major=("guild_id",)),
    Route("DELETE", _EVENT, _SPEC_EVENT, "delete_event", major=("guild_id",)),
    Route("GET", f"{_EVENT}/users", f"{_SPEC_EVENT}/users", "event_users", major=("guild_id",)),
)


def match(method: str, path: str) -> tuple[Route | None, dict[str, str]]:
    for route in ROUTES:
        if route.method == method:
            found = route.pattern.match(path)
            if found:
                return route, found.groupdict()
    return None, {}


def key_matches(key: str, method: str, template: str, path: str) -> bool:
    """`key` names calls: "POST /channels/{channel_id}/messages", "POST /channels/123/messages", or either
    without the method (any method)."""
    wanted_method, _, wanted_path = key.partition(" ") if " " in key else ("", "", key)
    if wanted_method and wanted_method.upper() != method:
        return False
    wanted_path = wanted_path.removeprefix(API_PREFIX)
    return wanted_path in (template, path)
