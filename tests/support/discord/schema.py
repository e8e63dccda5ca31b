"""Discord's published OpenAPI schema (MIT, discord/discord-api-spec), copied beside this file with its licence, as a
validator for every request body and interaction answer. Schema errors are refusals (Discord answers 400); keys the
schema does not know are policy problems (Discord ignores them). Set DISCORD_OPENAPI to read another copy.

Where the schema and the documentation (discord/discord-api-docs) differ, the documentation wins (rules.py keeps
it): message content is up to 2,000 characters (the schema says 4,000); an attachment's id is a snowflake or the
number n of its files[n] part (the schema: snowflake only; patched below); a modal holds 1 to 5 components (the
schema allows 40); a string choice's value is up to 100 characters (the schema says 6,000); an EXTERNAL event needs
scheduled_end_time and a 1-100 character location (optional in the schema); an event name is 1-100 characters (no
minimum in the schema); the schema's descriptions of AllowedMentionTypes users and roles are swapped (the values are
right); username, avatar_url, thread_name and applied_tags are in the webhook schema but not for follow-ups; a type-5
answer may carry only the EPHEMERAL flag (the schema allows any integer); allowed_mentions parse 'users' with a users
list (or 'roles' with roles) is refused (the schema allows both); enforce_nonce dedupes by author and nonce in the past
few minutes, not by channel (no window given).
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from tests.support.discord.routes import ROUTES, Route

OPENAPI = Path(os.environ.get("DISCORD_OPENAPI") or Path(__file__).resolve().parent / "openapi.json")
_URI = "urn:discord-openapi"


@dataclass
class Findings:
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


class Spec:
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
        for callback_type, name in CALLBACK_SCHEMAS.items():
            schema = {"$ref": f"#/components/schemas/{name}"}
            self._validators[("callback", callback_type)] = (self._compile(schema), frozenset({"type", "data"}))
            self.data_keys[callback_type] = self.top_keys(self.component(name)["properties"].get("data"))

    def request_schema(self, route: Route) -> dict[str, Any] | None:
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

    def check(self, key: Any, body: Any, out: Findings, *, where: str = "") -> None:
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


CALLBACK_SCHEMAS = {
    1: "PongInteractionCallbackRequest",
    4: "CreateMessageInteractionCallbackRequest",
    5: "CreateMessageInteractionCallbackRequest",
    6: "UpdateMessageInteractionCallbackRequest",
    7: "UpdateMessageInteractionCallbackRequest",
    8: "ApplicationCommandAutocompleteCallbackRequest",
    9: "ModalInteractionCallbackRequest",
}
# Which answers each interaction type accepts (docs: "Interaction Callback Type").
ANSWERS_FOR = {1: {1}, 2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}


@functools.cache
def spec() -> Spec:
    return Spec(OPENAPI)


def _short(text: str, limit: int = 240) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
