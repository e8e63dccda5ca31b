"""A fake Discord over real HTTP: the REST routes CityPeers calls, and signed interactions sent to the bot.

`FakeDiscord` listens on 127.0.0.1 at a free port; point the bot's DISCORD_API_URL at `fake.api_url`. It records
every call (`calls`), checks every body against Discord's OpenAPI schema and against the documented limits the
schema leaves out (`problems`: tests assert it stays empty), and misbehaves on demand (`fail_next`, `hold_next`,
`close_dms`, `deny_permission`). `FakeDiscord(rate_limits=DiscordLimits())` enforces per-route buckets and the
global 50 requests a second as Discord does, with Discord's headers and 429 body. `DiscordInteractions` posts
interactions to the bot signed with Ed25519 as Discord signs them, and checks what the bot answers. Tests and
bench scripts both use it; it imports nothing of the bot.

The schema is Discord's published OpenAPI 3.1 document (discord/discord-api-spec, MIT), read from
`tests/support/discord/openapi.json` (a copy of Discord's published schema), or from DISCORD_OPENAPI. Where it and the
documentation (discord/discord-api-docs) differ, the documentation wins: see `_DOCS_OVER_SCHEMA`.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import math
import os
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry
from referencing.jsonschema import DRAFT202012

API_PREFIX = "/api/v10"
APPLICATION_ID = "1310000000000000001"
BOT_USER_ID = APPLICATION_ID  # an application's bot user has the application's id
BOT_USERNAME = "citypeers"
GUILD_ID = "1310000000000000100"
GENERAL_CHANNEL_ID = "1310000000000000200"
DISCORD_EPOCH_MS = 1_420_070_400_000

# Message flags (docs: resources/message, "Message Flags").
SUPPRESS_EMBEDS = 1 << 2
EPHEMERAL = 1 << 6
LOADING = 1 << 7
SUPPRESS_NOTIFICATIONS = 1 << 12
IS_VOICE_MESSAGE = 1 << 13
IS_COMPONENTS_V2 = 1 << 15
MESSAGE_FLAGS = SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS | IS_VOICE_MESSAGE | IS_COMPONENTS_V2
RESPONSE_FLAGS = MESSAGE_FLAGS | EPHEMERAL  # interaction responses and follow-ups may also be ephemeral

# Option types (docs: interactions/application-commands).
SUB_COMMAND, SUB_COMMAND_GROUP, STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER = range(1, 11)

# Documented limits the schema leaves out, or states differently (the docs win).
CONTENT_CHARS = 2000  # the schema says 4,000 for channel messages
ACTION_ROWS = 5
BUTTONS_PER_ROW = 5
BUTTON_LABEL_CHARS = 80
CUSTOM_ID_CHARS = 100
MODAL_TITLE_CHARS = 45
MODAL_COMPONENTS = 5  # the schema says 40
EMBEDS = 10
EMBED_TOTAL_CHARS = 6000
V2_COMPONENTS = 40
CHOICE_VALUE_CHARS = 100  # the schema says 6,000
ACTIVE_EVENTS = 100
INTERACTION_DEADLINE = 3.0  # seconds to the first answer
TOKEN_LIFETIME = 15 * 60.0  # an interaction token's follow-ups
DEFAULT_MEMBER_PERMISSIONS = "2248473465835073"
APP_PERMISSIONS = "2248473465835073"

_DOCS_OVER_SCHEMA = {
    "content": "message content is up to 2,000 characters (MessageCreateRequest/MessageEditRequestPartial say 4,000)",
    "attachments[].id": "an attachment id is a snowflake or the number n of its files[n] (the schema: snowflake only)",
    "modal components": "a modal holds 1 to 5 components (the schema allows 40)",
    "choice value": "a string choice's value is up to 100 characters (the schema says 6,000)",
    "scheduled_end_time": "required for EXTERNAL events (optional in the schema), as is a 1-100 character location",
    "event name": "1-100 characters (the schema sets no minimum)",
    "AllowedMentionTypes": "the schema's descriptions of users and roles are swapped; the values are right",
    "follow-ups": "username, avatar_url, thread_name and applied_tags are in the webhook schema but not for follow-ups",
    "deferred flags": "a type-5 answer may carry only the EPHEMERAL flag (the schema allows any integer)",
    "allowed_mentions": "parse 'users' with a users list (or 'roles' with roles) is refused (the schema allows both)",
    "nonce": "enforce_nonce dedupes by author and nonce in the past few minutes, not by channel (no window given)",
}

# Discord's published schema (MIT, discord/discord-api-spec), copied beside this file with its licence.
OPENAPI = Path(os.environ.get("DISCORD_OPENAPI") or Path(__file__).resolve().parent / "discord/openapi.json")
_URI = "urn:discord-openapi"


# --- what a request must look like -----------------------------------------------------------------------------


@dataclass
class _Findings:
    """What is wrong with one body: `refused` Discord answers 400 (with `code`); `policy` Discord accepts but the
    documentation or CityPeers' rules forbid (unknown keys, pings nobody asked for)."""

    refused: list[str] = field(default_factory=list)
    policy: list[str] = field(default_factory=list)
    code: int = 50035

    def refuse(self, text: str, code: int = 50035) -> None:
        if not self.refused:
            self.code = code
        self.refused.append(text)

    def warn(self, text: str) -> None:
        self.policy.append(text)

    def all(self) -> list[str]:
        return self.refused + self.policy


class _Spec:
    """Discord's OpenAPI document: one validator per request body, built once."""

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise FileNotFoundError(f"Discord's OpenAPI schema is not at {path}; set DISCORD_OPENAPI to its path")
        doc = json.loads(path.read_text(encoding="utf-8"))
        schemas = doc["components"]["schemas"]
        # The docs win: an attachment's id may be the number n of its files[n] part.
        schemas["MessageAttachmentRequest"]["properties"]["id"] = {
            "anyOf": [{"$ref": "#/components/schemas/SnowflakeType"}, {"type": "integer", "minimum": 0}]
        }
        self.doc = doc
        self.registry = Registry().with_resource(_URI, DRAFT202012.create_resource(doc))
        self._validators: dict[Any, tuple[Draft202012Validator, frozenset[str] | None]] = {}
        self.data_keys: dict[int, frozenset[str] | None] = {}
        for route in ROUTES:
            schema = self.request_schema(route)
            if schema is not None:
                self._validators[route.key] = (self._compile(schema), self.top_keys(schema))
        for callback_type, name in _CALLBACK_SCHEMAS.items():
            schema = {"$ref": f"#/components/schemas/{name}"}
            self._validators[("callback", callback_type)] = (self._compile(schema), frozenset({"type", "data"}))
            self.data_keys[callback_type] = self.top_keys(self.component(name)["properties"].get("data"))

    def request_schema(self, route: _Route) -> dict[str, Any] | None:
        if route.spec_path is None:
            return None
        operation = self.doc["paths"][route.spec_path].get(route.method.lower(), {})
        body = operation.get("requestBody")
        return body["content"]["application/json"]["schema"] if body else None

    def component(self, name: str) -> dict[str, Any]:
        return self.doc["components"]["schemas"][name]

    def _compile(self, schema: dict[str, Any]) -> Draft202012Validator:
        text = json.dumps(schema).replace('"#/components/', f'"{_URI}#/components/')
        return Draft202012Validator(json.loads(text), registry=self.registry)

    def top_keys(self, schema: Any) -> frozenset[str] | None:
        """The property names an object body may carry, through $ref/anyOf/oneOf/allOf; None if not an object."""
        if not isinstance(schema, dict):
            return None
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            return self.top_keys(self.component(ref.rsplit("/", 1)[-1]))
        keys: set[str] = set(schema.get("properties", {}))
        found = bool(keys) or schema.get("type") == "object"
        for combinator in ("anyOf", "oneOf", "allOf"):
            for member in schema.get(combinator, []):
                member_keys = self.top_keys(member)
                if member_keys is not None:
                    keys |= member_keys
                    found = True
        return frozenset(keys) if found else None

    def check(self, key: Any, body: Any, out: _Findings, *, where: str = "") -> None:
        """Schema errors are refusals; keys outside the schema's top-level properties are policy problems."""
        validator, keys = self._validators.get(key, (None, None))
        prefix = f"{where}: " if where else ""
        if validator is not None:
            seen: set[str] = set()
            for error in validator.iter_errors(body):
                for leaf in _explain(error):
                    path = "/".join(str(p) for p in leaf.absolute_path) or "(body)"
                    text = f"{prefix}schema: {path}: {_describe(leaf)}"
                    if text not in seen and len(seen) < 8:
                        seen.add(text)
                        out.refuse(text)
        if keys is not None and isinstance(body, dict):
            unknown = sorted(set(body) - keys)
            if unknown:
                out.warn(f"{prefix}unknown top-level key(s) {unknown}: not in Discord's schema, Discord ignores them")


def _describe(error: ValidationError) -> str:
    """jsonschema's message, without quoting a 2,000-character value back."""
    value, limit = error.instance, error.validator_value
    bound = "at most" if str(error.validator).startswith("max") else "at least"
    if error.validator in ("maxLength", "minLength") and isinstance(value, str):
        return f"{len(value)} characters; the schema allows {bound} {limit}"
    if error.validator in ("maxItems", "minItems") and isinstance(value, list):
        return f"{len(value)} items; the schema allows {bound} {limit}"
    return _short(error.message, 160)


def _explain(error: ValidationError) -> list[ValidationError]:
    """The errors that say what is wrong: inside a oneOf/anyOf, those of the branch whose kind fits (its `type`
    discriminator matches) with the fewest errors."""
    if error.validator not in ("oneOf", "anyOf") or not error.context:
        return [error]
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)

    def wrong_kind(errors: list[ValidationError]) -> bool:
        return any(
            (not e.relative_path and e.validator == "type")
            or (list(e.relative_path) == ["type"] and e.validator in ("enum", "const"))
            for e in errors
        )

    fitting = [errors for errors in branches.values() if not wrong_kind(errors)] or list(branches.values())
    closest = min(fitting, key=len)  # of several that could fit, the one with the fewest errors
    return [leaf for sub in closest for leaf in _explain(sub)] or [best_match([error])]


_CALLBACK_SCHEMAS = {
    1: "PongInteractionCallbackRequest",
    4: "CreateMessageInteractionCallbackRequest",
    5: "CreateMessageInteractionCallbackRequest",
    6: "UpdateMessageInteractionCallbackRequest",
    7: "UpdateMessageInteractionCallbackRequest",
    8: "ApplicationCommandAutocompleteCallbackRequest",
    9: "ModalInteractionCallbackRequest",
}
# Which answers each interaction type accepts (docs: "Interaction Callback Type").
_ANSWERS_FOR = {1: {1}, 2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}


@functools.cache
def _spec() -> _Spec:
    return _Spec(OPENAPI)


def _short(text: str, limit: int = 240) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _custom_id(value: Any, where: str, out: _Findings) -> None:
    if not isinstance(value, str) or not 1 <= len(value) <= CUSTOM_ID_CHARS:
        size = len(value) if isinstance(value, str) else type(value).__name__
        out.refuse(f"{where}: custom_id is {size} characters; Discord allows 1-{CUSTOM_ID_CHARS}")


def _length(value: Any, low: int, high: int, what: str, out: _Findings) -> None:
    if isinstance(value, str) and not low <= len(value) <= high:
        out.refuse(f"{what} is {len(value)} characters; Discord allows {low}-{high}")


def _mentions_policy(body: Mapping[str, Any], out: _Findings, where: str) -> None:
    mentions = body.get("allowed_mentions")
    if not isinstance(mentions, dict):
        out.warn(
            f"{where}: no allowed_mentions: Discord would then ping every user, role and @everyone the text names; "
            'send {"parse": [], "users": [...]}'
        )
        return
    parse = mentions.get("parse") or []
    if isinstance(parse, list):
        if "everyone" in parse or "roles" in parse:
            out.warn(f"{where}: allowed_mentions.parse {parse} lets typed @everyone/@here or roles ping")
        elif parse:
            out.warn(f"{where}: allowed_mentions.parse {parse} lets any typed user mention ping; name users instead")
        if "users" in parse and mentions.get("users"):
            out.refuse(f"{where}: allowed_mentions parse 'users' and a users list are mutually exclusive")
        if "roles" in parse and mentions.get("roles"):
            out.refuse(f"{where}: allowed_mentions parse 'roles' and a roles list are mutually exclusive")
    if mentions.get("roles"):
        out.warn(f"{where}: allowed_mentions.roles pings roles {mentions['roles']}")


def _embed_limits(embeds: Any, out: _Findings, where: str) -> None:
    if not isinstance(embeds, list):
        return
    if len(embeds) > EMBEDS:
        out.refuse(f"{where}: {len(embeds)} embeds; Discord allows {EMBEDS}")
    total = 0
    for i, embed in enumerate(embeds):
        if not isinstance(embed, dict):
            continue
        texts = [("title", embed.get("title"), 256), ("description", embed.get("description"), 4096)]
        texts.append(("footer.text", (embed.get("footer") or {}).get("text"), 2048))
        texts.append(("author.name", (embed.get("author") or {}).get("name"), 256))
        fields = embed.get("fields") or []
        if len(fields) > 25:
            out.refuse(f"{where}: embeds[{i}] has {len(fields)} fields; Discord allows 25")
        for j, item in enumerate(fields if isinstance(fields, list) else []):
            if isinstance(item, dict):
                texts.append((f"fields[{j}].name", item.get("name"), 256))
                texts.append((f"fields[{j}].value", item.get("value"), 1024))
        for name, text, limit in texts:
            if isinstance(text, str):
                total += len(text.strip())
                if len(text.strip()) > limit:
                    out.refuse(f"{where}: embeds[{i}].{name} is {len(text)} characters; Discord allows {limit}")
    if total > EMBED_TOTAL_CHARS:
        out.refuse(f"{where}: embeds hold {total} characters together; Discord allows {EMBED_TOTAL_CHARS}")


def _walk_components(components: Any) -> Iterator[dict[str, Any]]:
    for component in components if isinstance(components, list) else []:
        if isinstance(component, dict):
            yield component
            yield from _walk_components(component.get("components"))
            for key in ("component", "accessory"):
                if isinstance(component.get(key), dict):
                    yield from _walk_components([component[key]])


def _button_limits(button: dict[str, Any], where: str, out: _Findings) -> None:
    style = button.get("style")
    label = button.get("label")
    if isinstance(label, str) and len(label) > BUTTON_LABEL_CHARS:
        out.refuse(f"{where}: button label is {len(label)} characters; Discord allows {BUTTON_LABEL_CHARS}")
    if style == 5:
        if not button.get("url") or "custom_id" in button:
            out.refuse(f"{where}: a link button (style 5) needs a url and no custom_id")
    elif style == 6:
        if not button.get("sku_id") or {"custom_id", "label", "url", "emoji"} & set(button):
            out.refuse(f"{where}: a premium button (style 6) has an sku_id and nothing else")
    else:
        _custom_id(button.get("custom_id"), where, out)
        if "url" in button:
            out.refuse(f"{where}: only link buttons (style 5) have a url")
    if style != 6 and not label and not button.get("emoji"):
        out.refuse(f"{where}: a button needs a label or an emoji")


def _select_limits(select: dict[str, Any], where: str, out: _Findings) -> None:
    _custom_id(select.get("custom_id"), where, out)
    _length(select.get("placeholder"), 0, 150, f"{where}: placeholder", out)
    low, high = select.get("min_values", 1), select.get("max_values", 1)
    if isinstance(low, int) and isinstance(high, int) and not 0 <= low <= high <= 25:
        out.refuse(f"{where}: min_values {low} and max_values {high} must satisfy 0 <= min <= max <= 25")
    if select.get("type") == 3:
        options = select.get("options") or []
        if not 1 <= len(options) <= 25:
            out.refuse(f"{where}: a string select has {len(options)} options; Discord allows 1-25")
        for j, option in enumerate(options):
            if isinstance(option, dict):
                for key in ("label", "value", "description"):
                    _length(option.get(key), 1 if key != "description" else 0, 100, f"{where}: options[{j}].{key}", out)


def _component_limits(components: Any, out: _Findings, where: str, *, v2: bool) -> None:
    if not isinstance(components, list):
        return
    ids = [c.get("custom_id") for c in _walk_components(components) if isinstance(c.get("custom_id"), str)]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        out.refuse(f"{where}: custom_id(s) {repeated} used twice in one message")
    if v2:
        total = sum(1 for _ in _walk_components(components))
        if total > V2_COMPONENTS:
            out.refuse(f"{where}: {total} components; an IS_COMPONENTS_V2 message allows {V2_COMPONENTS}")
        for component in _walk_components(components):
            if component.get("type") == 2:
                _button_limits(component, f"{where}: button", out)
        return
    if len(components) > ACTION_ROWS:
        out.refuse(f"{where}: {len(components)} action rows; Discord allows {ACTION_ROWS}")
    for i, row in enumerate(components):
        if not isinstance(row, dict):
            continue
        if row.get("type") != 1:
            out.refuse(f"{where}: components[{i}] is type {row.get('type')}; without IS_COMPONENTS_V2 only action rows")
            continue
        children = [c for c in row.get("components") or [] if isinstance(c, dict)]
        buttons = [c for c in children if c.get("type") == 2]
        selects = [c for c in children if c.get("type") in (3, 5, 6, 7, 8)]
        if not children:
            out.refuse(f"{where}: action row {i} is empty")
        if len(buttons) > BUTTONS_PER_ROW:
            out.refuse(f"{where}: action row {i} holds {len(buttons)} buttons; Discord allows {BUTTONS_PER_ROW}")
        if selects and len(children) > 1:
            out.refuse(f"{where}: action row {i}: a select menu fills its row alone")
        for j, child in enumerate(children):
            place = f"{where}: components[{i}].components[{j}]"
            if child.get("type") == 2:
                _button_limits(child, place, out)
            elif child in selects:
                _select_limits(child, place, out)
            else:
                out.refuse(f"{place} is type {child.get('type')}: not allowed in a message's action row")


def _message_limits(
    body: Mapping[str, Any], out: _Findings, where: str, *, create: bool, flags_allowed: int, has_files: bool = False
) -> None:
    """Documented limits of a message body (create or edit, channel or interaction) and the mentions policy."""
    flags = body.get("flags") or 0
    if isinstance(flags, int) and flags & ~flags_allowed:
        bits = [f"1<<{b}" for b in range(32) if flags & ~flags_allowed & (1 << b)]
        out.refuse(f"{where}: flags {flags} sets {', '.join(bits)}, which cannot be set here")
    v2 = isinstance(flags, int) and bool(flags & IS_COMPONENTS_V2)
    content = body.get("content")
    if isinstance(content, str) and len(content) > CONTENT_CHARS:
        out.refuse(f"{where}: content is {len(content)} characters; Discord allows {CONTENT_CHARS}")
    if v2 and any(body.get(k) for k in ("content", "embeds", "poll", "sticker_ids")):
        out.refuse(f"{where}: an IS_COMPONENTS_V2 message carries only components")
    _embed_limits(body.get("embeds"), out, where)
    _component_limits(body.get("components"), out, where, v2=v2)
    keys = ("embeds", "components", "sticker_ids", "poll")
    if create and not (isinstance(content, str) and content.strip()) and not has_files and not any(map(body.get, keys)):
        out.refuse(f"{where}: an empty message (no content, embeds, components or files)", code=50006)
    _mentions_policy(body, out, where)


def _modal_limits(data: Any, out: _Findings, where: str) -> None:
    if not isinstance(data, dict):
        return
    _length(data.get("title"), 1, MODAL_TITLE_CHARS, f"{where}: modal title", out)
    _custom_id(data.get("custom_id"), f"{where}: modal", out)
    components = [c for c in data.get("components") or [] if isinstance(c, dict)]
    if not 1 <= len(components) <= MODAL_COMPONENTS:
        out.refuse(f"{where}: a modal holds 1-{MODAL_COMPONENTS} components; this one {len(components)}")
    inputs: list[tuple[str, dict[str, Any], bool]] = []  # (where, text input, in an action row)
    for i, component in enumerate(components):
        place = f"{where}: components[{i}]"
        kind = component.get("type")
        if kind == 1:
            children = [c for c in component.get("components") or [] if isinstance(c, dict)]
            if len(children) != 1 or children[0].get("type") != 4:
                out.refuse(f"{place}: an action row in a modal holds exactly one text input")
            inputs.extend((place, c, True) for c in children if c.get("type") == 4)
        elif kind == 18:
            _length(component.get("label"), 1, 45, f"{place}: label", out)
            _length(component.get("description"), 1, 100, f"{place}: description", out)
            inner = component.get("component")
            if isinstance(inner, dict) and inner.get("type") == 4:
                inputs.append((place, inner, False))
        elif kind != 10:
            out.refuse(f"{place} is type {kind}: a modal holds labels, text displays or action rows of text inputs")
    ids = [c.get("custom_id") for _, c, _ in inputs]
    if len(set(ids)) != len(ids):
        out.refuse(f"{where}: text inputs share a custom_id: {ids}")
    for place, text_input, in_row in inputs:
        _custom_id(text_input.get("custom_id"), place, out)
        if text_input.get("style") not in (1, 2):
            out.refuse(f"{place}: text input style must be 1 (short) or 2 (paragraph)")
        if in_row and not text_input.get("label"):
            out.refuse(f"{place}: a text input in an action row needs a label")
        _length(text_input.get("label"), 1, 45, f"{place}: text input label", out)
        _length(text_input.get("placeholder"), 0, 100, f"{place}: placeholder", out)
        low, high = text_input.get("min_length", 0), text_input.get("max_length", 4000)
        if isinstance(low, int) and isinstance(high, int):
            if not 0 <= low <= 4000 or not 1 <= high <= 4000 or low > high:
                out.refuse(f"{place}: min_length {low} / max_length {high} out of 0-4000 or crossed")
            _length(text_input.get("value"), 0, high, f"{place}: value", out)


def interaction_response_problems(body: Any, *, interaction_type: int | None = None) -> list[str]:
    """What is wrong with an answer to an interaction (the bot's HTTP answer, or a callback it posted): Discord's
    schema for its callback type, the documented limits, unknown keys, and the mentions policy. With
    `interaction_type`, also whether that answer is allowed for that kind of interaction."""
    return _interaction_findings(body, interaction_type).all()


def _interaction_findings(body: Any, interaction_type: int | None) -> _Findings:
    out = _Findings()
    if not isinstance(body, dict):
        out.refuse(f"an interaction answer must be a JSON object, not {type(body).__name__}")
        return out
    kind = body.get("type")
    if kind not in _CALLBACK_SCHEMAS:
        out.refuse(f"interaction answer type {kind!r} is not one of 1, 4, 5, 6, 7, 8, 9")
        return out
    spec = _spec()
    where = f"interaction answer type {kind}"
    spec.check(("callback", kind), body, out, where=where)
    data = body.get("data")
    if isinstance(data, dict):
        keys = spec.data_keys[kind]
        unknown = sorted(set(data) - keys) if keys is not None else []
        if unknown:
            out.warn(f"{where}: unknown key(s) in data {unknown}: not in Discord's schema, Discord ignores them")
    if kind == 4:
        if not isinstance(data, dict):
            out.refuse(f"{where}: a message answer without data is an empty message", code=50006)
        else:
            _message_limits(data, out, where, create=True, flags_allowed=RESPONSE_FLAGS)
    elif kind == 7 and isinstance(data, dict):
        _message_limits(data, out, where, create=False, flags_allowed=RESPONSE_FLAGS)
    elif kind == 5 and isinstance(data, dict):
        flags = data.get("flags") or 0
        if flags not in (0, EPHEMERAL):
            out.refuse(f"{where}: a deferred answer may only carry the EPHEMERAL flag (64), not {flags}")
        ignored = sorted(set(data) - {"flags"})
        if ignored:
            out.warn(f"{where}: a deferred answer shows nothing of {ignored}; send it with the edit of @original")
    elif kind == 6 and data:
        out.warn(f"{where}: a deferred update shows nothing of its data")
    elif kind == 8 and isinstance(data, dict):
        for i, choice in enumerate(data.get("choices") or []):
            if isinstance(choice, dict):
                _length(choice.get("name"), 1, 100, f"{where}: choices[{i}].name", out)
                _length(choice.get("value"), 0, CHOICE_VALUE_CHARS, f"{where}: choices[{i}].value", out)
    elif kind == 9:
        _modal_limits(data, out, where)
    if interaction_type is not None and kind not in _ANSWERS_FOR.get(interaction_type, set()):
        allowed = sorted(_ANSWERS_FOR.get(interaction_type, set()))
        out.refuse(f"{where} answers an interaction of type {interaction_type}, which takes only {allowed}")
    return out


_COMMAND_NAME = re.compile(r"^[-_'\w]{1,32}$")


def _option_limits(options: Any, out: _Findings, where: str, budget: list[int]) -> None:
    if not isinstance(options, list):
        return
    if len(options) > 25:
        out.refuse(f"{where}: {len(options)} options; Discord allows 25")
    names = [o.get("name") for o in options if isinstance(o, dict)]
    if len(set(names)) != len(names):
        out.refuse(f"{where}: option names repeat: {names}")
    kinds = {o.get("type") for o in options if isinstance(o, dict)}
    if kinds & {SUB_COMMAND, SUB_COMMAND_GROUP} and kinds - {SUB_COMMAND, SUB_COMMAND_GROUP}:
        out.refuse(f"{where}: subcommands and plain options cannot share a level")
    seen_optional = False
    for option in options:
        if not isinstance(option, dict):
            continue
        name, kind = option.get("name"), option.get("type")
        place = f"{where} {name}"
        if isinstance(name, str) and (not _COMMAND_NAME.match(name) or name != name.lower()):
            out.refuse(f"{place}: option names are 1-32 lowercase letters, digits, - _ '")
        _length(option.get("description"), 1, 100, f"{place}: description", out)
        budget[0] += len(str(name or "")) + len(str(option.get("description") or ""))
        if kind not in (SUB_COMMAND, SUB_COMMAND_GROUP):
            if option.get("required"):
                if seen_optional:
                    out.refuse(f"{place}: required options must come before optional ones")
            else:
                seen_optional = True
        choices = option.get("choices")
        if choices and option.get("autocomplete"):
            out.refuse(f"{place}: autocomplete cannot be set with choices")
        if option.get("autocomplete") and kind not in (STRING, INTEGER, NUMBER):
            out.refuse(f"{place}: only string, integer and number options autocomplete")
        for choice in choices or []:
            if isinstance(choice, dict):
                _length(choice.get("value"), 0, CHOICE_VALUE_CHARS, f"{place}: choice value", out)
                budget[0] += len(str(choice.get("name") or "")) + len(str(choice.get("value") or ""))
        low, high = option.get("min_length"), option.get("max_length")
        if isinstance(low, int) and isinstance(high, int) and low > high:
            out.refuse(f"{place}: min_length {low} > max_length {high}")
        if kind == SUB_COMMAND_GROUP and any(
            isinstance(o, dict) and o.get("type") != SUB_COMMAND for o in option.get("options") or []
        ):
            out.refuse(f"{place}: a subcommand group holds only subcommands")
        if kind == SUB_COMMAND and any(
            isinstance(o, dict) and o.get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP)
            for o in option.get("options") or []
        ):
            out.refuse(f"{place}: a subcommand cannot hold subcommands")
        _option_limits(option.get("options"), out, place, budget)


def _commands_limits(commands: Any, out: _Findings, where: str) -> None:
    if not isinstance(commands, list):
        return
    by_type: dict[int, list[str]] = {}
    for command in commands:
        if not isinstance(command, dict):
            continue
        kind, name = command.get("type") or 1, command.get("name")
        by_type.setdefault(kind, []).append(name)
        place = f"{where}: /{name}"
        if kind == 1:
            if isinstance(name, str) and (not _COMMAND_NAME.match(name) or name != name.lower()):
                out.refuse(f"{place}: slash command names are 1-32 lowercase letters, digits, - _ '")
            _length(command.get("description"), 1, 100, f"{place}: description", out)
            budget = [len(str(name or "")) + len(str(command.get("description") or ""))]
            _option_limits(command.get("options"), out, place, budget)
            if budget[0] > 8000:
                out.refuse(f"{place}: {budget[0]} characters of names, descriptions and values; Discord allows 8,000")
    for kind, names in by_type.items():
        if len(set(names)) != len(names):
            out.refuse(f"{where}: command names of type {kind} repeat: {names}")
        if len(names) > (100 if kind == 1 else 15):
            out.refuse(f"{where}: {len(names)} commands of type {kind}; Discord allows {100 if kind == 1 else 15}")


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _event_limits(body: Any, out: _Findings, where: str, *, current: Mapping[str, Any] | None = None) -> None:
    """An external scheduled event's documented rules; `current` is the event a PATCH changes."""
    if not isinstance(body, dict):
        return
    merged = {**(current or {}), **body}
    _length(body.get("name"), 1, 100, f"{where}: name", out)
    for key in ("scheduled_start_time", "scheduled_end_time"):
        if body.get(key) is not None and _instant(body[key]) is None:
            out.refuse(f"{where}: {key} {body[key]!r} is not an ISO8601 timestamp with an offset")
    if merged.get("entity_type") == 3:
        location = (merged.get("entity_metadata") or {}).get("location")
        if not isinstance(location, str) or not 1 <= len(location) <= 100:
            out.refuse(f"{where}: an EXTERNAL event needs entity_metadata.location of 1-100 characters")
        if merged.get("scheduled_end_time") is None:
            out.refuse(f"{where}: an EXTERNAL event needs scheduled_end_time")
        if merged.get("channel_id") is not None:
            out.refuse(f"{where}: an EXTERNAL event has channel_id null")
    start, end = _instant(merged.get("scheduled_start_time")), _instant(merged.get("scheduled_end_time"))
    if start and end and end <= start:
        out.refuse(f"{where}: scheduled_end_time is not after scheduled_start_time")
    if current is not None and "status" in body:
        before, after = current.get("status"), body["status"]
        allowed = {1: {1, 2, 4}, 2: {2, 3}}.get(before, set())
        if after not in allowed:
            out.refuse(f"{where}: status {before} cannot become {after}")
    elif current is not None and current.get("status") in (3, 4):
        out.refuse(f"{where}: a completed or canceled event cannot be changed")


# --- routes ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Route:
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

ROUTES: tuple[_Route, ...] = (
    _Route("POST", "/users/@me/channels", "/users/@me/channels", "open_dm"),
    _Route("GET", _CHANNEL, _CHANNEL, "get_channel", major=("channel_id",)),
    _Route("GET", f"{_CHANNEL}/messages", f"{_CHANNEL}/messages", "list_messages", major=("channel_id",)),
    _Route("POST", f"{_CHANNEL}/messages", f"{_CHANNEL}/messages", "create_message", major=("channel_id",)),
    _Route("GET", _MESSAGE, _MESSAGE, "get_message", major=("channel_id",)),
    _Route("PATCH", _MESSAGE, _MESSAGE, "edit_message", major=("channel_id",)),
    _Route("DELETE", _MESSAGE, _MESSAGE, "delete_message", major=("channel_id",)),
    _Route("GET", f"{_WEBHOOK}/messages/@original", f"{_SPEC_WEBHOOK}/messages/@original", "get_original", True, _HOOK),
    _Route(
        "PATCH", f"{_WEBHOOK}/messages/@original", f"{_SPEC_WEBHOOK}/messages/@original", "edit_original", True, _HOOK
    ),
    _Route(
        "DELETE",
        f"{_WEBHOOK}/messages/@original",
        f"{_SPEC_WEBHOOK}/messages/@original",
        "delete_original",
        True,
        _HOOK,
    ),
    _Route("POST", _WEBHOOK, _SPEC_WEBHOOK, "followup", True, _HOOK),
    _Route(
        "GET",
        f"{_WEBHOOK}/messages/{{message_id}}",
        f"{_SPEC_WEBHOOK}/messages/{{message_id}}",
        "get_followup",
        True,
        _HOOK,
    ),
    _Route(
        "PATCH",
        f"{_WEBHOOK}/messages/{{message_id}}",
        f"{_SPEC_WEBHOOK}/messages/{{message_id}}",
        "edit_followup",
        True,
        _HOOK,
    ),
    _Route(
        "DELETE",
        f"{_WEBHOOK}/messages/{{message_id}}",
        f"{_SPEC_WEBHOOK}/messages/{{message_id}}",
        "delete_followup",
        True,
        _HOOK,
    ),
    _Route(
        "POST",
        "/interactions/{interaction_id}/{token}/callback",
        "/interactions/{interaction_id}/{interaction_token}/callback",
        "callback",
        True,
        ("interaction_id", "token"),
    ),
    _Route("GET", "/applications/{application_id}/commands", "/applications/{application_id}/commands", "get_commands"),
    _Route("PUT", "/applications/{application_id}/commands", "/applications/{application_id}/commands", "put_commands"),
    _Route(
        "GET",
        "/applications/{application_id}/guilds/{guild_id}/commands",
        "/applications/{application_id}/guilds/{guild_id}/commands",
        "get_commands",
        major=("guild_id",),
    ),
    _Route(
        "PUT",
        "/applications/{application_id}/guilds/{guild_id}/commands",
        "/applications/{application_id}/guilds/{guild_id}/commands",
        "put_commands",
        major=("guild_id",),
    ),
    _Route("GET", _EVENTS, _EVENTS, "list_events", major=("guild_id",)),
    _Route("POST", _EVENTS, _EVENTS, "create_event", major=("guild_id",)),
    _Route("GET", _EVENT, _SPEC_EVENT, "get_event", major=("guild_id",)),
    _Route("PATCH", _EVENT, _SPEC_EVENT, "edit_event", major=("guild_id",)),
    _Route("DELETE", _EVENT, _SPEC_EVENT, "delete_event", major=("guild_id",)),
    _Route("GET", f"{_EVENT}/users", f"{_SPEC_EVENT}/users", "event_users", major=("guild_id",)),
)


def _match(method: str, path: str) -> tuple[_Route | None, dict[str, str]]:
    for route in ROUTES:
        if route.method == method:
            found = route.pattern.match(path)
            if found:
                return route, found.groupdict()
    return None, {}


def _key_matches(key: str, method: str, template: str, path: str) -> bool:
    """`key` names calls: "POST /channels/{channel_id}/messages", "POST /channels/123/messages", or either
    without the method (any method)."""
    wanted_method, _, wanted_path = key.partition(" ") if " " in key else ("", "", key)
    if wanted_method and wanted_method.upper() != method:
        return False
    wanted_path = wanted_path.removeprefix(API_PREFIX)
    return wanted_path in (template, path)


# --- rate limits -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DiscordLimits:
    """Discord's rate limits, for `FakeDiscord(rate_limits=DiscordLimits())`.

    Each route has buckets of (requests, seconds), one per top-level resource in its path (channel, guild,
    webhook + token), each with its own `X-RateLimit-Bucket` hash; a bucket's window opens at its first request
    and resets `seconds` later. Discord publishes no per-route numbers ("should not be hard coded"): these are the
    usual ones, and `routes` overrides any route by its key ("POST /channels/{channel_id}/messages"). The global
    limit counts every request but the interaction endpoints (callbacks and webhooks with an interaction token)
    in a sliding second. `invalid_per_10_minutes` is the ban threshold on 401, 403 and 429 answers.
    """

    messages: tuple[int, float] = (5, 5.0)  # POST /channels/{channel_id}/messages, per channel
    webhooks: tuple[int, float] = (5, 2.0)  # interaction webhooks and callbacks, per token
    other: tuple[int, float] = (10, 1.0)  # every other route, per top-level resource
    global_per_second: int = 50
    routes: Mapping[str, tuple[int, float]] = field(default_factory=dict)
    invalid_per_10_minutes: int = 10_000


@dataclass
class _Window:
    limit: int
    seconds: float
    remaining: int
    resets: float  # monotonic


@dataclass(frozen=True)
class _Verdict:
    wait: float  # 0 when the request may go
    headers: dict[str, str]
    global_: bool = False


def _retry(seconds: float) -> float:
    """Seconds rounded up to the millisecond (never 0), as Discord's retry_after and Reset-After."""
    return max(0.001, math.ceil(round(seconds * 1000, 6)) / 1000)


class _Limiter:
    def __init__(self, limits: DiscordLimits) -> None:
        self.limits = limits
        self._windows: dict[tuple[str, tuple[str, ...]], _Window] = {}
        self._global: deque[float] = deque()

    def _size(self, route: _Route) -> tuple[int, float]:
        if route.key in self.limits.routes:
            return self.limits.routes[route.key]
        if route.action == "create_message":
            return self.limits.messages
        return self.limits.webhooks if route.webhook else self.limits.other

    def take(self, route: _Route, params: Mapping[str, str], now: float) -> _Verdict:
        if not route.webhook:
            while self._global and self._global[0] <= now - 1.0:
                self._global.popleft()
            if len(self._global) >= self.limits.global_per_second:
                return _Verdict(_retry(self._global[0] + 1.0 - now), {}, global_=True)
        limit, seconds = self._size(route)
        key = (route.key, tuple(params.get(p, "") for p in route.major))
        window = self._windows.get(key)
        if window is None or now >= window.resets:
            window = self._windows[key] = _Window(limit, seconds, limit, now + seconds)
        wait = 0.0
        if window.remaining <= 0:
            wait = _retry(window.resets - now)
        else:
            window.remaining -= 1
            if not route.webhook:
                self._global.append(now)
        reset_after = max(0.0, window.resets - now)
        headers = {
            "X-RateLimit-Limit": str(window.limit),
            "X-RateLimit-Remaining": str(window.remaining),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{_retry(reset_after) if reset_after else 0.0:.3f}",
            "X-RateLimit-Bucket": route.bucket,
        }
        return _Verdict(wait, headers)


# --- the fake ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    """One `files[n]` part of a multipart request."""

    field: str
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Call:
    """One request the fake received. `route` is "POST /channels/{channel_id}/messages" ("" if unexpected)."""

    method: str
    path: str  # without /api/v10 and the query
    route: str
    params: dict[str, str]
    query: dict[str, str]
    body: Any  # the JSON body (payload_json of a multipart request), None if there was none
    files: tuple[Upload, ...]
    headers: dict[str, str]
    status: int
    answer: Any
    at: float  # monotonic
    wall: float = field(default_factory=time.time)
    deduped: bool = False  # a repeated nonce: Discord answered the first message and posted nothing

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class _Failure:
    status: int
    retry_after: float
    global_: bool
    code: int | None
    message: str | None
    scope: str | None
    times: int


class _Hold:
    """A call kept waiting for its answer (see FakeDiscord.hold_next)."""

    def __init__(self, accept: bool) -> None:
        self.accept = accept
        self.reached = threading.Event()
        self._released = threading.Event()

    def wait(self) -> None:
        self.reached.set()
        self._released.wait(timeout=300)

    def release(self) -> None:
        self._released.set()


@dataclass
class _Channel:
    id: str
    type: int  # 0 guild text, 1 DM
    guild_id: str | None = None
    name: str | None = None
    recipient: str | None = None


@dataclass
class _Interaction:
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


_Params = dict[str, str]
_Files = list[Upload]
_Outcome = tuple[int, Any, bool]  # (status, answer, deduped)

_ERRORS = {
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
_STATUS_TEXT = {401: "401: Unauthorized", 404: "404: Not Found", 405: "405: Method Not Allowed"}


def _error(code: int, message: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"message": message or _ERRORS.get(code, "General error"), "code": code, **extra}


_NOT_EDITED = frozenset({"id", "timestamp", "webhook_id", "application_id"})  # kept when a component edits its message


class FakeDiscord:
    """`with FakeDiscord() as discord:` … `discord.wait_for(lambda: discord.dms_to(user))`.

    `token` is the bot token it accepts (any `Bot <token>` when None). The guild GUILD_ID has one text channel,
    GENERAL_CHANNEL_ID; `add_channel` adds more. Without `rate_limits` no X-RateLimit headers are sent (Discord
    calls them optional) and nothing is refused for speed.
    """

    def __init__(
        self,
        *,
        rate_limits: DiscordLimits | None = None,
        token: str | None = None,
        application_id: str = APPLICATION_ID,
        nonce_window: float = 120.0,
    ) -> None:
        _spec()  # fail at once, not in a request thread, if the schema is missing
        self.rate_limits = rate_limits
        self.token = token
        self.application_id = application_id
        self.nonce_window = nonce_window  # docs: "checked for uniqueness in the past few minutes"
        self._limiter = _Limiter(rate_limits) if rate_limits is not None else None
        self.rate_limited = 0  # 429s answered because a bucket or the global limit was spent (not fail_next's)
        self.invalid_requests = 0  # 401, 403 and 429 answers (not 429s of scope "shared"), as Discord counts them
        self._invalid_at: deque[float] = deque()
        self._banned = False
        self._changed = threading.Condition()
        self._calls: list[Call] = []
        self.problems: list[str] = []
        self._failures: list[tuple[str, _Failure]] = []
        self._holds: list[tuple[str, _Hold]] = []
        self._ids = itertools.count(1)
        self._last_id = 0
        self._channels: dict[str, _Channel] = {}
        self._dms: dict[str, str] = {}  # user id -> DM channel id
        self._closed_dms: dict[str, int] = {}  # user id -> error code
        self._messages: dict[str, list[dict[str, Any]]] = {}  # channel id -> message objects, oldest first
        self._nonces: dict[str, tuple[float, str, str]] = {}  # nonce -> (at, channel id, message id)
        self._interactions: dict[str, _Interaction] = {}  # token -> interaction
        self._commands: dict[str | None, list[dict[str, Any]]] = {}  # guild id (None: global) -> commands
        self._command_ids: dict[tuple[str | None, int, str], str] = {}
        self._events: dict[str, dict[str, dict[str, Any]]] = {}  # guild id -> event id -> event
        self._event_users: dict[tuple[str, str], list[str]] = {}
        self._denied: dict[str, set[str | None]] = {}  # permission -> guild ids (None: everywhere)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.add_channel(GENERAL_CHANNEL_ID, GUILD_ID, name="general")

    # --- life cycle ---------------------------------------------------------------------------------------

    def start(self) -> FakeDiscord:
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = _Server(("127.0.0.1", 0), Handler)
        server = self._server
        self._thread = threading.Thread(
            target=lambda: server.serve_forever(poll_interval=0.05), name="fake-discord", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._changed:
            holds = [hold for _, hold in self._holds]
        for hold in holds:
            hold.release()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeDiscord:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        """The bot's DISCORD_API_URL."""
        return f"{self.url}{API_PREFIX}"

    # --- set-up -------------------------------------------------------------------------------------------

    def new_id(self) -> str:
        """A fresh snowflake (increasing, dated now)."""
        with self._changed:
            stamp = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
            self._last_id = max(stamp | (next(self._ids) & 0xFFF), self._last_id + 1)
            return str(self._last_id)

    def add_channel(self, channel_id: str, guild_id: str = GUILD_ID, *, name: str | None = None) -> None:
        with self._changed:
            self._channels[channel_id] = _Channel(channel_id, 0, guild_id, name or f"channel-{channel_id[-4:]}")

    def dm_channel(self, user_id: str) -> str:
        """The DM channel between the bot and `user_id` (the id POST /users/@me/channels answers, always the same)."""
        with self._changed:
            channel = self._dms.get(user_id)
            if channel is None:
                channel = self._dms[user_id] = self.new_id()
                self._channels[channel] = _Channel(channel, 1, recipient=user_id)
            return channel

    def is_dm_channel(self, channel_id: str) -> bool:
        with self._changed:
            channel = self._channels.get(channel_id)
            return channel is not None and channel.type == 1

    def close_dms(self, user_id: str, code: int = 50007) -> None:
        """Posts into `user_id`'s DM answer 403 `code` (50007 DMs closed, 50278 no mutual guild)."""
        with self._changed:
            self._closed_dms[user_id] = code

    def open_dms(self, user_id: str) -> None:
        with self._changed:
            self._closed_dms.pop(user_id, None)

    def deny_permission(self, permission: str, guild_id: str | None = None) -> None:
        """The bot lacks `permission` (in `guild_id`, or everywhere): CREATE_EVENTS or MANAGE_EVENTS make the
        scheduled-event writes answer 403 50013; SEND_MESSAGES channel posts, ATTACH_FILES posts with files;
        VIEW_CHANNEL answers 403 50001 for the guild's channels."""
        with self._changed:
            self._denied.setdefault(permission.upper(), set()).add(guild_id)

    def grant_permission(self, permission: str) -> None:
        with self._changed:
            self._denied.pop(permission.upper(), None)

    def set_event_users(self, guild_id: str, event_id: str, user_ids: Sequence[str]) -> None:
        """The members "interested" in an event (GET …/scheduled-events/{id}/users)."""
        with self._changed:
            self._event_users[(guild_id, event_id)] = list(user_ids)

    def fail_next(
        self,
        route: str,
        status: int = 429,
        *,
        retry_after: float = 1.0,
        global_: bool = False,
        code: int | None = None,
        message: str | None = None,
        scope: str | None = None,
        times: int = 1,
    ) -> None:
        """The next `times` calls matching `route` ("POST /channels/{channel_id}/messages", a concrete path, either
        without the method) answer `status` and do nothing: 429 with Discord's body and headers (`global_`,
        `scope` user/global/shared), a 5xx, or any 4xx with Discord's JSON error `code`."""
        with self._changed:
            self._failures.append((route, _Failure(status, retry_after, global_, code, message, scope, times)))

    def hold_next(self, route: str, *, accept: bool = True) -> _Hold:
        """Hold the next call matching `route` without answering until `release()`: with `accept` Discord has
        acted on it (the message is posted) when the hold begins, as when an answer is lost; without, it never
        gets through (answered 503 on release, nothing done)."""
        hold = _Hold(accept)
        with self._changed:
            self._holds.append((route, hold))
        return hold

    def register_interaction(self, payload: dict[str, Any]) -> None:
        """An interaction Discord is about to send (DiscordInteractions calls this): its token's webhooks open."""
        with self._changed:
            self._interactions[str(payload["token"])] = _Interaction(payload, time.monotonic())

    # --- what happened ------------------------------------------------------------------------------------

    def calls(self, route: str | None = None) -> list[Call]:
        """Every call, or those matching `route` (as in fail_next)."""
        with self._changed:
            return [
                c
                for c in self._calls
                if route is None or _key_matches(route, c.method, c.route.partition(" ")[2], c.path)
            ]

    def messages_in(self, channel_id: str | None) -> list[dict[str, Any]]:
        """Messages posted in `channel_id` (as GET would answer them, oldest first), each with the
        `allowed_mentions` it was sent with."""
        with self._changed:
            return [dict(m) for m in self._messages.get(channel_id or "", [])]

    def dms_to(self, user_id: str) -> list[dict[str, Any]]:
        with self._changed:
            channel = self._dms.get(user_id)
        return self.messages_in(channel) if channel else []

    def files_in(self, channel_id: str | None) -> list[tuple[str, bytes]]:
        """(filename, bytes) of every file posted into `channel_id`."""
        found = []
        for call in self.calls("POST /channels/{channel_id}/messages"):
            if call.ok and not call.deduped and call.params.get("channel_id") == channel_id:
                found.extend((f.filename, f.data) for f in call.files)
        return found

    def original(self, token: str) -> dict[str, Any] | None:
        """The interaction's original response as it stands (a message object), or None if it has none yet:
        a type-4 answer, edits of @original, the first follow-up after a deferred answer (Discord makes it the
        original), or for a component's type 6/7 answer the component's message as updated."""
        with self._changed:
            state = self._interactions.get(token)
            return self._original(state)[0] if state else None

    def followups(self, token: str) -> list[dict[str, Any]]:
        """Follow-up messages of the interaction (as they stand after edits), oldest first."""
        with self._changed:
            state = self._interactions.get(token)
            return self._original(state)[1] if state else []

    def answer(self, token: str) -> dict[str, Any] | None:
        """The bot's first answer to the interaction (its HTTP answer or its callback), as sent."""
        with self._changed:
            state = self._interactions.get(token)
            return state.answer if state else None

    def interaction_files(self, token: str) -> list[tuple[str, bytes]]:
        """(filename, bytes) of every file sent with the interaction's callback, edits and follow-ups."""
        found = []
        for call in self.calls():
            if call.ok and call.params.get("token") == token:
                found.extend((f.filename, f.data) for f in call.files)
        return found

    def commands(self, guild_id: str | None = None) -> list[dict[str, Any]]:
        """The application's current commands: global, or `guild_id`'s."""
        with self._changed:
            return [dict(c) for c in self._commands.get(guild_id, [])]

    def scheduled_events(self, guild_id: str = GUILD_ID) -> list[dict[str, Any]]:
        """The guild's scheduled events (deleted ones gone; canceled ones kept with status 4)."""
        with self._changed:
            return [dict(e) for e in self._events.get(guild_id, {}).values()]

    def wait_for(self, predicate: Callable[[], Any], *, timeout: float = 5.0, what: str = "a condition") -> Any:
        """Wait until `predicate()` is truthy (re-checked on every request received); returns its value."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                value = predicate()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    routes = [f"{c.method} {c.path} {c.status}" for c in self._calls]
                    raise AssertionError(f"timed out after {timeout}s waiting for {what}; calls so far: {routes}")
                self._changed.wait(left)

    def wait_for_calls(
        self, route: str, count: int = 1, *, where: Callable[[Call], bool] = lambda _c: True, timeout: float = 5.0
    ) -> list[Call]:
        def found() -> list[Call]:
            matching = [c for c in self.calls(route) if where(c)]
            return matching if len(matching) >= count else []

        return self.wait_for(found, timeout=timeout, what=f"{count} x {route}")

    def wait_for_dm(self, user_id: str, count: int = 1, *, timeout: float = 5.0) -> list[dict[str, Any]]:
        def found() -> list[dict[str, Any]]:
            dms = self.dms_to(user_id)
            return dms if len(dms) >= count else []

        return self.wait_for(found, timeout=timeout, what=f"{count} DM(s) to {user_id}")

    def wait_for_original(self, token: str, *, timeout: float = 5.0, loaded: bool = True) -> dict[str, Any]:
        """The original response, once it exists (and, with `loaded`, once a deferred one has been edited)."""

        def found() -> dict[str, Any] | None:
            message = self.original(token)
            return message if message and not (loaded and message.get("flags", 0) & LOADING) else None

        return self.wait_for(found, timeout=timeout, what=f"the original response of {token}")

    # --- serving ------------------------------------------------------------------------------------------

    def _serve(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, str], Any]:
        url = urlsplit(target)
        now = time.monotonic()
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        if not url.path.startswith(API_PREFIX + "/"):
            self._note([f"unexpected call {method} {url.path}: not under {API_PREFIX}"])
            return 404, {}, {"message": "404: Not Found", "code": 0}
        path = url.path[len(API_PREFIX) :]
        route, params = _match(method, path)
        body, files, parse_problem = _parse_body(raw, headers.get("content-type", ""))

        def record(
            status: int, answer: Any, problems: Sequence[str] = (), *, deduped: bool = False, shared: bool = False
        ) -> None:
            call = Call(
                method,
                path,
                route.key if route else "",
                params,
                query,
                body,
                tuple(files),
                headers,
                status,
                answer,
                now,
                deduped=deduped,
            )
            where = route.key if route else f"{method} {path}"
            with self._changed:
                self._calls.append(call)
                self.problems.extend(f"{where}: {p}" for p in problems)
                if status in (401, 403) or (status == 429 and not shared):
                    self._count_invalid(now)
                self._changed.notify_all()

        if route is None:
            known = any(r.pattern.match(path) for r in ROUTES)
            status = 405 if known else 404
            record(status, None, [f"unexpected call {method} {path}"])
            return status, {}, {"message": _STATUS_TEXT[status], "code": 0}
        problems: list[str] = []
        agent = headers.get("user-agent", "")
        if not agent.startswith("DiscordBot ("):
            problems.append(f"User-Agent {agent!r}: Discord wants 'DiscordBot ($url, $versionNumber)'")
        if not route.webhook:
            authorization = headers.get("authorization", "")
            wanted = f"Bot {self.token}" if self.token else None
            if (
                not authorization.startswith("Bot ")
                or not authorization[4:].strip()
                or (wanted and authorization != wanted)
            ):
                record(401, None, problems)
                return 401, {}, {"message": "401: Unauthorized", "code": 0}
        if parse_problem:
            code = 50109 if "JSON" in parse_problem else 50035
            record(400, None, [*problems, parse_problem])
            return 400, {}, _error(code)
        with self._changed:
            failure = self._take_failure(method, route, path)
            verdict = None
            if failure is None and self._limiter is not None:
                verdict = self._limiter.take(route, params, now)
                if verdict.wait > 0:
                    self.rate_limited += 1
        if failure is not None:
            status, extra, answer = self._failure_answer(failure)
            record(status, answer, problems, shared=failure.scope == "shared")
            return status, extra, answer
        limit_headers = verdict.headers if verdict else {}
        if verdict is not None and verdict.wait > 0:
            extra = {"Retry-After": str(math.ceil(verdict.wait))}
            if verdict.global_:
                extra |= {"X-RateLimit-Global": "true", "X-RateLimit-Scope": "global"}
            else:
                extra |= {**limit_headers, "X-RateLimit-Scope": "user"}
            answer = {"message": "You are being rate limited.", "retry_after": verdict.wait, "global": verdict.global_}
            record(429, answer, problems)
            return 429, extra, answer
        with self._changed:
            hold = self._take_hold(method, route, path)
        if hold is not None and not hold.accept:
            hold.wait()
            record(503, None, problems)
            return 503, limit_headers, {"message": "503: Service Unavailable", "code": 0}
        with self._changed:
            status, answer, more, deduped = self._execute(route, params, query, body, files)
        record(status, answer, [*problems, *more], deduped=deduped)
        if hold is not None:
            hold.wait()
        return status, limit_headers, answer

    def _count_invalid(self, now: float) -> None:
        self.invalid_requests += 1
        self._invalid_at.append(now)
        while self._invalid_at and self._invalid_at[0] <= now - 600:
            self._invalid_at.popleft()
        limit = self.rate_limits.invalid_per_10_minutes if self.rate_limits else None
        if limit is not None and len(self._invalid_at) > limit and not self._banned:
            self._banned = True
            self.problems.append(f"more than {limit} invalid requests (401/403/429) in 10 minutes: Discord bans the IP")

    def _take_failure(self, method: str, route: _Route, path: str) -> _Failure | None:
        for i, (key, failure) in enumerate(self._failures):
            if _key_matches(key, method, route.template, path):
                failure.times -= 1
                if failure.times <= 0:
                    del self._failures[i]
                return failure
        return None

    def _take_hold(self, method: str, route: _Route, path: str) -> _Hold | None:
        for i, (key, hold) in enumerate(self._holds):
            if _key_matches(key, method, route.template, path):
                del self._holds[i]
                return hold
        return None

    @staticmethod
    def _failure_answer(failure: _Failure) -> tuple[int, dict[str, str], dict[str, Any]]:
        if failure.status == 429:
            retry = _retry(failure.retry_after)
            answer: dict[str, Any] = {
                "message": failure.message
                or (
                    "The resource is being rate limited."
                    if failure.scope == "shared"
                    else "You are being rate limited."
                ),
                "retry_after": retry,
                "global": failure.global_,
            }
            if failure.code is not None:
                answer["code"] = failure.code
            extra = {"Retry-After": str(math.ceil(retry))}
            if failure.global_:
                extra |= {"X-RateLimit-Global": "true", "X-RateLimit-Scope": "global"}
            else:
                extra |= {
                    "X-RateLimit-Limit": "5",
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": f"{time.time() + retry:.3f}",
                    "X-RateLimit-Reset-After": f"{retry:.3f}",
                    "X-RateLimit-Bucket": "f" * 32,
                    "X-RateLimit-Scope": failure.scope or "user",
                }
            return 429, extra, answer
        if failure.code is not None:
            return failure.status, {}, _error(failure.code, failure.message)
        text = {500: "500: Internal Server Error", 502: "502: Bad Gateway", 503: "503: Service Unavailable"}
        return (
            failure.status,
            {},
            {"message": failure.message or text.get(failure.status, str(failure.status)), "code": 0},
        )

    def _note(self, problems: Sequence[str]) -> None:
        with self._changed:
            self.problems.extend(problems)
            self._changed.notify_all()

    # --- the routes (called with the lock held) -------------------------------------------------------------

    def _execute(
        self,
        route: _Route,
        params: dict[str, str],
        query: dict[str, str],
        body: Any,
        files: list[Upload],
    ) -> tuple[int, Any, list[str], bool]:
        """(status, answer, problems, deduped) for a request that got past authorization and limits."""
        out = _Findings()
        if route.method in ("POST", "PUT", "PATCH") and body is None and route.action != "callback" and not files:
            if _spec().request_schema(route) is not None:
                out.refuse("no body")
        elif body is not None and route.action != "callback":
            _spec().check(route.key, body, out)
        if route.action == "followup" and isinstance(body, dict):
            unsupported = sorted({"username", "avatar_url", "thread_name", "applied_tags"} & set(body))
            if unsupported:
                out.warn(f"{unsupported} are not supported for interaction follow-ups")
        _check_uploads(body, files, out)
        handler = getattr(self, f"_do_{route.action}")
        status, answer, deduped = handler(out, params, query, body if body is not None else {}, files)
        if out.refused and (status < 300 or answer is None):
            status, answer = 400, _error(out.code, errors={"_errors": [{"message": m} for m in out.refused]})
        return status, answer, out.all(), deduped

    def _guild_denied(self, guild_id: str | None, *permissions: str) -> bool:
        return any(None in self._denied.get(p, set()) or guild_id in self._denied.get(p, set()) for p in permissions)

    def _user(self, user_id: str) -> dict[str, Any]:
        return {
            "id": user_id,
            "username": f"user{user_id[-4:]}",
            "global_name": None,
            "discriminator": "0",
            "avatar": None,
            "public_flags": 0,
        }

    def _bot_user(self) -> dict[str, Any]:
        user = self._user(BOT_USER_ID)
        return {**user, "username": BOT_USERNAME, "bot": True}

    def _message(
        self,
        channel_id: str,
        body: Mapping[str, Any],
        files: Sequence[Upload],
        *,
        default_parse: Sequence[str],
        message_id: str | None = None,
        webhook: bool = False,
    ) -> dict[str, Any]:
        message_id = message_id or self.new_id()
        attachments = []
        for upload in files:
            meta = next(
                (
                    a
                    for a in body.get("attachments") or []
                    if isinstance(a, dict) and str(a.get("id")) == _index(upload)
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
            "author": self._bot_user(),
            "attachments": attachments,
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "timestamp": datetime.now(UTC).isoformat(),
            "edited_timestamp": None,
            "tts": bool(body.get("tts")),
            "pinned": False,
            "flags": body.get("flags") or 0,
        }
        message |= _pings(body, default_parse)
        if body.get("nonce") is not None:
            message["nonce"] = body["nonce"]
        if webhook:
            message["webhook_id"] = self.application_id
            message["application_id"] = self.application_id
        message["allowed_mentions"] = body.get("allowed_mentions")
        return message

    def _edit(
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
            fresh = self._message(message["channel_id"], body, files, default_parse=[])["attachments"]
            edited["attachments"] = [a for a in message.get("attachments", []) if a["id"] in kept] + fresh
        if "content" in body or "components" in body:
            edited |= _pings(edited, default_parse)
        edited["edited_timestamp"] = datetime.now(UTC).isoformat()
        return edited

    @staticmethod
    def _public(message: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in message.items() if k != "allowed_mentions"}

    def _find_channel(self, channel_id: str) -> tuple[_Channel | None, tuple[int, Any] | None]:
        channel = self._channels.get(channel_id)
        if channel is None:
            return None, (404, _error(10003))
        if channel.type == 0 and self._guild_denied(channel.guild_id, "VIEW_CHANNEL"):
            return None, (403, _error(50001))
        return channel, None

    def _do_get_channel(self, out: _Findings, params: _Params, query: _Params, body: Any, files: _Files) -> _Outcome:
        channel, refusal = self._find_channel(params["channel_id"])
        if refusal:
            return (*refusal, False)
        assert channel is not None
        if channel.type == 1:
            recipient = self._user(channel.recipient or "")
            return 200, {"id": channel.id, "type": 1, "last_message_id": None, "recipients": [recipient]}, False
        answer = {
            "id": channel.id,
            "type": channel.type,
            "guild_id": channel.guild_id,
            "name": channel.name,
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "topic": None,
            "last_message_id": None,
            "parent_id": None,
            "rate_limit_per_user": 0,
            "flags": 0,
        }
        return 200, answer, False

    def _do_open_dm(self, out: _Findings, params: _Params, query: _Params, body: Any, files: _Files) -> _Outcome:
        recipient = str(body.get("recipient_id") or "")
        if out.refused or not recipient:
            return 400, _error(50035), False
        channel = self.dm_channel(recipient)
        return (
            200,
            {"id": channel, "type": 1, "last_message_id": None, "flags": 0, "recipients": [self._user(recipient)]},
            False,
        )

    def _do_create_message(self, out: _Findings, params: _Params, query: _Params, body: Any, files: _Files) -> _Outcome:
        channel, refusal = self._find_channel(params["channel_id"])
        if refusal:
            return (*refusal, False)
        assert channel is not None
        where = "message"
        _message_limits(body, out, where, create=True, flags_allowed=MESSAGE_FLAGS, has_files=bool(files))
        if out.refused:
            return 400, None, False
        if channel.type == 1 and channel.recipient in self._closed_dms:
            return 403, _error(self._closed_dms[channel.recipient]), False
        if channel.type == 0 and self._guild_denied(channel.guild_id, "SEND_MESSAGES"):
            return 403, _error(50013), False
        if channel.type == 0 and files and self._guild_denied(channel.guild_id, "ATTACH_FILES"):
            return 403, _error(50013), False
        nonce = body.get("nonce")
        now = time.monotonic()
        if nonce is not None and body.get("enforce_nonce"):
            seen = self._nonces.get(str(nonce))
            if seen and now - seen[0] <= self.nonce_window:
                _, first_channel, first_id = seen
                if first_channel != channel.id:
                    out.warn(
                        f"nonce {nonce!r} was used in channel {first_channel} too: Discord dedupes by author and "
                        "nonce, so it answered that message and posted nothing here"
                    )
                first = next(m for m in self._messages[first_channel] if m["id"] == first_id)
                return 200, self._public(first), True
        message = self._message(channel.id, body, files, default_parse=["users", "roles", "everyone"])
        self._messages.setdefault(channel.id, []).append(message)
        if nonce is not None:
            self._nonces[str(nonce)] = (now, channel.id, message["id"])
        return 200, self._public(message), False

    def _do_list_messages(self, out: _Findings, params: _Params, query: _Params, body: Any, files: _Files) -> _Outcome:
        channel, refusal = self._find_channel(params["channel_id"])
        if refusal:
            return (*refusal, False)
        assert channel is not None
        try:
            limit = int(query.get("limit", 50))
        except ValueError:
            limit = 0
        if not 1 <= limit <= 100:
            out.refuse(f"limit {query.get('limit')!r}: Discord allows 1-100")
            return 400, None, False
        if channel.type == 0 and self._guild_denied(channel.guild_id, "READ_MESSAGE_HISTORY"):
            return 200, [], False
        messages = self._messages.get(channel.id, [])
        if "after" in query:
            picked = [m for m in messages if int(m["id"]) > int(query["after"])][:limit]
        elif "before" in query:
            picked = [m for m in messages if int(m["id"]) < int(query["before"])][-limit:]
        else:
            picked = messages[-limit:]
        return 200, [self._public(m) for m in reversed(picked)], False

    def _channel_message(self, params: Mapping[str, str]) -> tuple[dict[str, Any] | None, tuple[int, Any] | None]:
        channel, refusal = self._find_channel(params["channel_id"])
        if refusal:
            return None, refusal
        assert channel is not None
        for message in self._messages.get(channel.id, []):
            if message["id"] == params["message_id"]:
                return message, None
        return None, (404, _error(10008))

    def _do_get_message(self, out: _Findings, params: _Params, query: _Params, body: Any, files: _Files) -> _Outcome:
        message, refusal = self._channel_message(params)
        return (*refusal, False) if refusal else (200, self._public(message or {}), False)

    def _do_edit_message(self, out: _Findings, params: _Params, query: _Params, body: Any, files: _Files) -> _Outcome:
        message, refusal = self._channel_message(params)
        if refusal:
            return (*refusal, False)
        assert message is not None
        _message_limits(body, out, "message edit", create=False, flags_allowed=MESSAGE_FLAGS)
        if out.refused:
            return 400, None, False
        edited = self._edit(message, body, files, default_parse=["users", "roles", "everyone"])
        stored = self._messages[message["channel_id"]]
        stored[stored.index(message)] = edited
        return 200, self._public(edited), False

    def _do_delete_message(self, out: _Findings, params: _Params, query: _Params, body: Any, files: _Files) -> _Outcome:
        message, refusal = self._channel_message(params)
        if refusal:
            return (*refusal, False)
        self._messages[params["channel_id"]].remove(message)
        return 204, None, False

    # interactions: callbacks and webhooks

    def _interaction(self, out: _Findings, params: Mapping[str, str]) -> tuple[_Interaction | None, Any]:
        if "application_id" in params and params["application_id"] != self.application_id:
            out.warn(f"webhook of application {params['application_id']}, not {self.application_id}")
            return None, (404, _error(10015))
        state = self._interactions.get(params["token"])
        if state is None:
            out.warn(f"unknown interaction token {params['token'][:16]}…")
            return None, (404, _error(10015))
        if time.monotonic() - state.created > TOKEN_LIFETIME:
            out.warn("interaction token used after its 15 minutes")
            return None, (401, _error(50027))
        return state, None

    def _original(self, state: _Interaction) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """(original response, follow-ups) as they stand, from the answer and the webhook calls in order."""
        payload = state.payload
        channel_id = str(payload.get("channel_id") or (payload.get("channel") or {}).get("id") or "")
        answer = state.answer or {}
        kind = answer.get("type")
        data = answer.get("data") or {}
        original: dict[str, Any] | None = None
        if kind == 4:
            original = self._message(
                channel_id, data, [], default_parse=["users"], message_id=state.original_id, webhook=True
            )
        elif kind == 5:
            loading = {"flags": (data.get("flags") or 0) | LOADING}
            original = self._message(
                channel_id, loading, [], default_parse=[], message_id=state.original_id, webhook=True
            )
        elif kind in (6, 7) and isinstance(payload.get("message"), dict):
            original = dict(payload["message"])
            if kind == 7:
                original = self._edit(original, data, [], default_parse=["users"])
        followups: dict[str, dict[str, Any]] = {}
        for event, message_id, message in state.events:
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

    def _do_callback(self, out: _Findings, params: _Params, query: _Params, body: Any, files: _Files) -> _Outcome:
        state = self._interactions.get(params["token"])
        if state is None or str(state.payload.get("id")) != params["interaction_id"]:
            out.warn("callback for an unknown interaction")
            return 404, _error(10062), False
        if state.answer is not None:
            out.warn(f"interaction answered twice (first by {state.answered_by})")
            return 400, _error(40060), False
        if time.monotonic() - state.created > INTERACTION_DEADLINE:
            out.warn(f"callback after Discord's {INTERACTION_DEADLINE:.0f} s: the interaction is gone")
            return 404, _error(10062), False
        findings = _interaction_findings(body, state.type)
        for problem in findings.refused:
            out.refuse(problem, findings.code)
        for problem in findings.policy:
            out.warn(problem)
        if out.refused:
            return 400, None, False
        state.answer, state.answered_by = body, "callback"
        state.original_id = state.original_id or self.new_id()
        if files:
            data = body.get("data") or {}
            state.events.append(
                ("original", state.original_id, self._webhook_message(state, data, files, state.original_id))
            )
        self._sync_component_message(state)
        if query.get("with_response") in ("true", "True", "1"):
            return 200, {"interaction": {"id": state.payload["id"], "type": state.type}}, False
        return 204, None, False

    def _sync_component_message(self, state: _Interaction) -> None:
        """A component interaction answered with type 6 or 7 edits the message the component is on, for everyone
        who sees it: the channel's stored copy changes with it (an ephemeral message is stored nowhere)."""
        if (state.answer or {}).get("type") not in (6, 7) or not isinstance(state.payload.get("message"), dict):
            return
        source = state.payload["message"]
        stored = self._messages.get(str(source.get("channel_id") or state.payload.get("channel_id") or ""), [])
        original, _ = self._original(state)
        for index, message in enumerate(stored):
            if message["id"] == source.get("id") and original is not None:
                kept = {"allowed_mentions": message.get("allowed_mentions")}
                edited = {k: v for k, v in original.items() if k not in _NOT_EDITED}
                stored[index] = {**message, **edited, **kept}
                stored[index]["edited_timestamp"] = datetime.now(UTC).isoformat()

    def record_answer(self, token: str, body: Any) -> None:
        """The bot answered the interaction in its HTTP response (DiscordInteractions calls this)."""
        with self._changed:
            state = self._interactions.get(token)
            if state is None:
                return
            if state.answer is not None:
                self.problems.append(f"interaction {token[:16]}… answered by a callback and in the HTTP answer")
                return
            state.answer, state.answered_by = body, "http"
            state.original_id = state.original_id or self.new_id()
            self._sync_component_message(state)
            self._changed.notify_all()

    def _webhook_message(
        self, state: _Interaction, body: Mapping[str, Any], files: Sequence[Upload], message_id: str
    ) -> dict[str, Any]:
        channel_id = str(state.payload.get("channel_id") or "")
        return self._message(channel_id, body, files, default_parse=["users"], message_id=message_id, webhook=True)

    def _do_get_original(self, out: _Findings, params: _Params, query: _Params, body: Any, files: _Files) -> _Outcome:
        state, refusal = self._interaction(out, params)
        if refusal:
            return (*refusal, False)
        assert state is not None
        original, _ = self._original(state)
        return (200, self._public(original), False) if original else (404, _error(10008), False)

    def _do_edit_original(self, out: _Findings, params: _Params, query: _Params, body: Any, files: _Files) -> _Outcome:
        state, refusal = self._interaction(out, params)
        if refusal:
            return (*refusal, False)
        assert state is not None
        _message_limits(body, out, "edit of @original", create=False, flags_allowed=RESPONSE_FLAGS)
        if out.refused:
            return 400, None, False
        state.original_id = state.original_id or self.new_id()
        state.events.append(
            ("original", state.original_id, self._webhook_message(state, body, files, state.original_id))
        )
        self._sync_component_message(state)
        original, _ = self._original(state)
        return 200, self._public(original or {}), False

    def _do_delete_original(
        self, out: _Findings, params: _Params, query: _Params, body: Any, files: _Files
    ) -> _Outcome:
        state, refusal = self._interaction(out, params)
        if refusal:
            return (*refusal, False)
        assert state is not None
        state.events.append(("delete-original", state.original_id, {}))
        return 204, None, False

    def _do_followup(self, out: _Findings, params: _Params, query: _Params, body: Any, files: _Files) -> _Outcome:
        state, refusal = self._interaction(out, params)
        if refusal:
            return (*refusal, False)
        assert state is not None
        _message_limits(body, out, "follow-up", create=True, flags_allowed=RESPONSE_FLAGS, has_files=bool(files))
        if out.refused:
            return 400, None, False
        message = self._webhook_message(state, body, files, self.new_id())
        state.events.append(("followup", message["id"], message))
        return 200, self._public(message), False

    def _followup(self, state: _Interaction, message_id: str) -> dict[str, Any] | None:
        _, followups = self._original(state)
        return next((m for m in followups if m["id"] == message_id), None)

    def _do_get_followup(self, out: _Findings, params: _Params, query: _Params, body: Any, files: _Files) -> _Outcome:
        state, refusal = self._interaction(out, params)
        if refusal:
            return (*refusal, False)
        assert state is not None
        message = self._followup(state, params["message_id"])
        return (200, self._public(message), False) if message else (404, _error(10008), False)

    def _do_edit_followup(self, out: _Findings, params: _Params, query: _Params, body: Any, files: _Files) -> _Outcome:
        state, refusal = self._interaction(out, params)
        if refusal:
            return (*refusal, False)
        assert state is not None
        message = self._followup(state, params["message_id"])
        if message is None:
            return 404, _error(10008), False
        _message_limits(body, out, "follow-up edit", create=False, flags_allowed=RESPONSE_FLAGS)
        if out.refused:
            return 400, None, False
        edited = self._edit(message, body, files, default_parse=["users"])
        state.events.append(("edit-followup", message["id"], edited))
        return 200, self._public(edited), False

    def _do_delete_followup(
        self, out: _Findings, params: _Params, query: _Params, body: Any, files: _Files
    ) -> _Outcome:
        state, refusal = self._interaction(out, params)
        if refusal:
            return (*refusal, False)
        assert state is not None
        state.events.append(("delete-followup", params["message_id"], {}))
        return 204, None, False

    # commands

    def _do_get_commands(self, out: _Findings, params: _Params, query: _Params, body: Any, files: _Files) -> _Outcome:
        if params["application_id"] != self.application_id:
            return 403, _error(50001), False
        return 200, [dict(c) for c in self._commands.get(params.get("guild_id"), [])], False

    def _do_put_commands(self, out: _Findings, params: _Params, query: _Params, body: Any, files: _Files) -> _Outcome:
        if params["application_id"] != self.application_id:
            out.warn(f"commands of application {params['application_id']}, not {self.application_id}")
            return 403, _error(50001), False
        guild_id = params.get("guild_id")
        _commands_limits(body, out, "commands")
        if out.refused:
            return 400, None, False
        registered = []
        for command in body or []:
            kind = command.get("type") or 1
            key = (guild_id, kind, command["name"])
            command_id = self._command_ids.setdefault(key, self.new_id())
            full = {
                "id": command_id,
                "application_id": self.application_id,
                "version": self.new_id(),
                "type": kind,
                "name": command["name"],
                "description": command.get("description") or "",
                "default_member_permissions": command.get("default_member_permissions"),
                "nsfw": False,
                **{k: v for k, v in command.items() if k not in ("type", "name", "description")},
            }
            if guild_id:
                full["guild_id"] = guild_id
            registered.append(full)
        self._commands[guild_id] = registered
        return 200, [dict(c) for c in registered], False

    # scheduled events

    def _events_of(self, guild_id: str) -> dict[str, dict[str, Any]]:
        return self._events.setdefault(guild_id, {})

    def _do_list_events(self, out: _Findings, params: _Params, query: _Params, body: Any, files: _Files) -> _Outcome:
        return 200, [dict(e) for e in self._events_of(params["guild_id"]).values()], False

    def _do_get_event(self, out: _Findings, params: _Params, query: _Params, body: Any, files: _Files) -> _Outcome:
        event = self._events_of(params["guild_id"]).get(params["event_id"])
        return (200, dict(event), False) if event else (404, _error(10070), False)

    def _event_denied(self, guild_id: str) -> bool:
        return self._guild_denied(guild_id, "CREATE_EVENTS", "MANAGE_EVENTS")

    def _do_create_event(self, out: _Findings, params: _Params, query: _Params, body: Any, files: _Files) -> _Outcome:
        guild_id = params["guild_id"]
        if self._event_denied(guild_id):
            return 403, _error(50013), False
        _event_limits(body, out, "scheduled event")
        if out.refused:
            return 400, None, False
        events = self._events_of(guild_id)
        if sum(1 for e in events.values() if e["status"] in (1, 2)) >= ACTIVE_EVENTS:
            return 400, _error(30038), False
        event_id = self.new_id()
        event = {
            "id": event_id,
            "guild_id": guild_id,
            "channel_id": None,
            "creator_id": BOT_USER_ID,
            "creator": self._bot_user(),
            "description": None,
            "scheduled_end_time": None,
            "entity_id": None,
            "image": None,
            "recurrence_rule": None,
            **body,
            "status": 1,
            "user_count": 0,
        }
        events[event_id] = event
        return 200, dict(event), False

    def _do_edit_event(self, out: _Findings, params: _Params, query: _Params, body: Any, files: _Files) -> _Outcome:
        guild_id = params["guild_id"]
        if self._event_denied(guild_id):
            return 403, _error(50013), False
        event = self._events_of(guild_id).get(params["event_id"])
        if event is None:
            return 404, _error(10070), False
        _event_limits(body, out, "scheduled event edit", current=event)
        if out.refused:
            return 400, None, False
        event.update(body)
        return 200, dict(event), False

    def _do_delete_event(self, out: _Findings, params: _Params, query: _Params, body: Any, files: _Files) -> _Outcome:
        guild_id = params["guild_id"]
        if self._event_denied(guild_id):
            return 403, _error(50013), False
        if self._events_of(guild_id).pop(params["event_id"], None) is None:
            return 404, _error(10070), False
        return 204, None, False

    def _do_event_users(self, out: _Findings, params: _Params, query: _Params, body: Any, files: _Files) -> _Outcome:
        guild_id, event_id = params["guild_id"], params["event_id"]
        if event_id not in self._events_of(guild_id):
            return 404, _error(10070), False
        users = sorted(self._event_users.get((guild_id, event_id), []), key=int)
        if "after" in query:
            users = [u for u in users if int(u) > int(query["after"])]
        if "before" in query:
            users = [u for u in users if int(u) < int(query["before"])]
        limit = min(100, int(query.get("limit", 100)))
        return 200, [{"guild_scheduled_event_id": event_id, "user": self._user(u)} for u in users[:limit]], False


def _index(upload: Upload) -> str:
    found = re.fullmatch(r"files\[(\d+)\]", upload.field)
    return found.group(1) if found else upload.field


def _check_uploads(body: Any, files: Sequence[Upload], out: _Findings) -> None:
    names = [f.field for f in files]
    for upload in files:
        if not re.fullmatch(r"files\[\d+\]", upload.field):
            out.refuse(f"file part named {upload.field!r}: Discord wants files[n]")
        if not upload.filename:
            out.refuse(f"file part {upload.field} has no filename in its Content-Disposition")
    if len(set(names)) != len(names):
        out.refuse(f"file parts repeat a name: {names}")
    indexes = {_index(f) for f in files}
    attachments = body.get("attachments") if isinstance(body, dict) else None
    for attachment in attachments if isinstance(attachments, list) else []:
        if not isinstance(attachment, dict):
            continue
        ident = attachment.get("id")
        if (isinstance(ident, int) or (isinstance(ident, str) and len(ident) < 5)) and str(ident) not in indexes:
            out.refuse(f"attachments id {ident!r} matches no files[n] part")


def _pings(body: Mapping[str, Any], default_parse: Sequence[str]) -> dict[str, Any]:
    """Who Discord would notify for `body`'s content: `mentions` (user ids), `mention_roles`, `mention_everyone`."""
    content = str(body.get("content") or "")
    for component in _walk_components(body.get("components")):  # a V2 text display can mention too
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


def _parse_body(raw: bytes, content_type: str) -> tuple[Any, list[Upload], str]:
    """(JSON body, uploaded files, a problem) of a request."""
    if not raw:
        return None, [], ""
    kind = content_type.split(";")[0].strip().lower()
    if kind == "application/json":
        try:
            return json.loads(raw), [], ""
        except ValueError:
            return None, [], "a body that is not valid JSON"
    if kind == "multipart/form-data":
        boundary = re.search(r'boundary="?([^";]+)"?', content_type)
        if not boundary:
            return None, [], "multipart/form-data without a boundary"
        body: Any = None
        files: list[Upload] = []
        for name, filename, part_type, data in _multipart(raw, boundary.group(1).encode()):
            if name == "payload_json":
                try:
                    body = json.loads(data)
                except ValueError:
                    return None, [], "payload_json is not valid JSON"
            elif filename is not None or name.startswith("files["):
                files.append(Upload(name, filename or "", part_type, data))
            else:
                body = body if isinstance(body, dict) else {}
                body[name] = data.decode("utf-8", "replace")
        return body, files, ""
    return None, [], f"Content-Type {content_type!r}: Discord takes application/json or multipart/form-data"


def _multipart(raw: bytes, boundary: bytes) -> Iterator[tuple[str, str | None, str, bytes]]:
    """(name, filename, content type, data) of each part."""
    for chunk in raw.split(b"--" + boundary)[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, data = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        data = data.removesuffix(b"\r\n")
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        disposition = headers.get("content-disposition", "")
        name = re.search(r'\bname="([^"]*)"', disposition)
        filename = re.search(r'\bfilename="([^"]*)"', disposition)
        yield (
            name.group(1) if name else "",
            filename.group(1) if filename else None,
            headers.get("content-type", "application/octet-stream"),
            data,
        )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default backlog of 5 drops bursts; a dropped SYN costs a 1 s retransmit


class _Handler(BaseHTTPRequestHandler):
    owner: FakeDiscord
    protocol_version = "HTTP/1.1"  # keep-alive, as Discord; every answer carries Content-Length

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._serve()

    def do_POST(self) -> None:  # noqa: N802
        self._serve()

    def do_PUT(self) -> None:  # noqa: N802
        self._serve()

    def do_PATCH(self) -> None:  # noqa: N802
        self._serve()

    def do_DELETE(self) -> None:  # noqa: N802
        self._serve()

    def _serve(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, extra, answer = self.owner._serve(self.command, self.path, headers, raw)
        body = b"" if answer is None or status == 204 else json.dumps(answer).encode()
        self.send_response(status)
        if body:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep test output quiet
        pass


# --- interactions sent to the bot, signed as Discord signs them ------------------------------------------------


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
            "user": self.discord._user("1310000000000009999"),
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
        components = list(_walk_components(message.get("components")))
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
            "author": message.get("author") or self.discord._bot_user(),
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
        self.discord._note(problems)
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
        user = discord._user(user_id)
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
            self.discord._note([f"interaction: /{name} is not among the registered commands"])
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
                self.discord._note([f"interaction: /{name} has no registered subcommand {part!r}"])
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
                self.discord._note([f"interaction: /{name} {subcommand or ''} has no registered options {unknown}"])
        resolved: dict[str, dict[str, Any]] = {}
        typed = []
        for option_name, kind, value in triples:
            option: dict[str, Any] = {"name": option_name, "type": kind, "value": value}
            if focused is not None and option_name == focused[0]:
                option["focused"] = True
            typed.append(option)
            if kind == USER:
                resolved.setdefault("users", {})[str(value)] = self.discord._user(str(value))
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
                    "name": f"channel-{str(value)[-4:]}",
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
