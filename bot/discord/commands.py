"""Discord's slash commands, generated from the parameters each command declares (`Command.params`), and back.

Each family (`/city`, `/match`, `/goal`, `/event`) is one Discord command whose subcommands are the family's
commands, and another form of a command (`/event broadcast list`) is a subcommand of its own (`broadcast-list`).
Each declared parameter is a typed option with its description: a person a USER option, a channel a CHANNEL, a
number an INTEGER, a yes/no or a word that is there or not a BOOLEAN, a choice a STRING with choices, city names,
cohorts and tracks STRINGs with autocomplete. An interaction reaches the same command as a typed line does, its
values as Discord typed them (`typed_invocation`: integers, booleans, people and channels as values, never a line
read again), so one handler serves Slack, Discord and the console; `/citypeers line:<command>` runs any canonical
line, the escape hatch for scripts; `/home` shows what Slack's Home tab shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import locales
from core.grammar import ChannelRef, UserRef
from core.i18n import N_, template_text
from handlers.types import Command, Kind, Param, Variant

SUB_COMMAND, STRING, INTEGER, BOOLEAN, USER, CHANNEL = 1, 3, 4, 5, 6, 7
ESCAPE_HATCH = "citypeers"
HOME = "home"
HELP = "help"
MAX_CHOICES = 25
OPTION_TYPES: Mapping[Kind, int] = {
    Kind.NUMBER: INTEGER,
    Kind.EVENT: INTEGER,
    Kind.GOAL: INTEGER,
    Kind.YESNO: BOOLEAN,
    Kind.FLAG: BOOLEAN,
    Kind.USER: USER,
    Kind.CHANNEL: CHANNEL,
}  # every other kind is a STRING


# Discord's locales and the language each reads (Discord has no pt-PT: Brazilian Portuguese reads Portuguese).
DISCORD_LOCALES: Mapping[str, str] = {
    "de": "de",
    "es-ES": "es",
    "fr": "fr",
    "it": "it",
    "pl": "pl",
    "pt-BR": "pt",
    "el": "el",
}
MAX_DESCRIPTION = 100  # Discord's limit on a command's or an option's description


class Strings:
    HELP = N_("How to use /{family}")
    LINE = N_("A whole command as you would type it in Slack, e.g. /city show Brno")
    ESCAPE_HATCH = N_("Run a CityPeers command typed in full, e.g. /city show Brno")
    HOME = N_("Your city, its goals, the next events, matches")


def localized(body: dict[str, Any], **values: object) -> dict[str, Any]:
    """A command's or option's definition with its description in each of Discord's locales we have (from the
    one catalogue; the English where a message is not translated yet) and its name the same English name in
    every locale: names are what people type, the same on every platform."""
    description = body["description"]
    english = _description(description, values, "en")
    descriptions = {locale: _description(description, values, code) for locale, code in DISCORD_LOCALES.items()}
    return {
        **body,
        "description": english,
        "name_localizations": {locale: body["name"] for locale in DISCORD_LOCALES},
        "description_localizations": descriptions,
    }


def _description(template: str, values: Mapping[str, object], code: str) -> str:
    language = locales.language(locales.find(code) or "en")
    text = template_text(template, values, language)
    return (text.format(**values) if values else text)[:MAX_DESCRIPTION]


@dataclass(frozen=True)
class Subcommand:
    """One Discord subcommand: a command, or another form of it (its fixed words come first in the line)."""

    name: str
    summary: str
    command: Command
    params: tuple[Param, ...]
    words: str = ""
    variant: Variant | None = None


def subcommands_of(commands: Mapping[str, Command]) -> list[Subcommand]:
    found: list[Subcommand] = []
    for name, command in commands.items():
        found.append(Subcommand(name, command.summary, command, command.params))
        found += [Subcommand(v.name, v.summary, command, v.params, v.words, v) for v in command.variants]
    return found


def find_subcommand(commands: Mapping[str, Command], name: str) -> Subcommand | None:
    return next((sub for sub in subcommands_of(commands) if sub.name == name), None)


def option_definition(param: Param) -> dict[str, Any]:
    body: dict[str, Any] = localized(
        {
            "type": OPTION_TYPES.get(param.kind, STRING),
            "name": param.name,
            "description": param.description,
            "required": param.required,
        }
    )
    if param.choices:
        body["choices"] = [{"name": choice, "value": choice} for choice in param.choices]
    elif param.autocomplete:
        body["autocomplete"] = True
    if param.kind is Kind.NUMBER:
        body["min_value"] = 0
    elif param.kind in (Kind.EVENT, Kind.GOAL):
        body["min_value"] = 1
    return body


# --- the command set ------------------------------------------------------------------------------------


def command_set(families: Mapping[str, Mapping[str, Command]], summaries: Mapping[str, str]) -> list[dict[str, Any]]:
    """The body of PUT /applications/{app}/commands: one command per family, its commands as subcommands."""
    definitions: list[dict[str, Any]] = []
    for family, commands in families.items():
        subcommands = [
            localized(
                {
                    "type": SUB_COMMAND,
                    "name": sub.name,
                    "description": sub.summary,
                    # Discord wants the required options first; the canonical line keeps the declared order.
                    "options": [
                        option_definition(p)
                        for p in sorted(sub.params, key=lambda p: not p.required)
                        if not p.line_only  # a button's word (confirm), never an option
                    ],
                }
            )
            for sub in subcommands_of(commands)
        ]
        subcommands.append(localized({"type": SUB_COMMAND, "name": HELP, "description": Strings.HELP}, family=family))
        definitions.append(
            localized({"name": family, "type": 1, "description": summaries[family], "options": subcommands})
        )
    line = localized({"type": STRING, "name": "line", "description": Strings.LINE, "required": True})
    definitions.append(
        localized({"name": ESCAPE_HATCH, "type": 1, "description": Strings.ESCAPE_HATCH, "options": [line]})
    )
    definitions.append(localized({"name": HOME, "type": 1, "description": Strings.HOME}))
    return definitions


def canonical_line(data: dict[str, Any], families: Mapping[str, Mapping[str, Command]]) -> str:
    """The line an interaction that carries no typed values stands for: the escape hatch's own line, `/home`, or a
    family's help (every other subcommand reaches its command as typed values: `typed_invocation`)."""
    family = str(data.get("name", ""))
    if family == ESCAPE_HATCH:
        given = {o.get("name"): o.get("value") for o in data.get("options") or []}
        return str(given.get("line") or "")
    if family == HOME:
        return "/home"
    [chosen] = data.get("options") or [{"name": HELP}]
    return f"/{family} {chosen.get('name', HELP)}"


@dataclass(frozen=True)
class Invocation:
    """A subcommand as Discord sends it, its options as typed values (`handlers.types.Request.values`)."""

    family: str
    subcommand: str
    values: dict[str, object]


def typed_invocation(data: dict[str, Any], families: Mapping[str, Mapping[str, Command]]) -> Invocation | None:
    """The subcommand and its values, each as Discord typed it: an INTEGER an int, a BOOLEAN a bool, a USER or a
    CHANNEL a neutral reference (with the name Discord resolved), text as text. None when the subcommand reads a
    line instead (help, and commands that declare no typed arguments)."""
    family = str(data.get("name", ""))
    if family not in families:
        return None
    [chosen] = data.get("options") or [{"name": HELP}]
    sub = find_subcommand(families[family], str(chosen.get("name", HELP)))
    if sub is None or (sub.variant.arguments if sub.variant is not None else sub.command.arguments) is None:
        return None
    resolved = data.get("resolved") or {}
    users, channels = resolved.get("users") or {}, resolved.get("channels") or {}
    kinds = {param.name: param.kind for param in sub.params if not param.line_only}
    values: dict[str, object] = {}
    for option in chosen.get("options") or []:
        name, value = str(option.get("name")), option.get("value")
        if kinds.get(name) is Kind.USER:
            person = users.get(str(value)) or {}
            values[name] = UserRef(
                f"discord:{value}", str(person.get("global_name") or person.get("username") or value)
            )
        elif kinds.get(name) is Kind.CHANNEL:
            values[name] = ChannelRef(f"discord:{value}", str((channels.get(str(value)) or {}).get("name") or value))
        elif name in kinds:
            values[name] = value
    return Invocation(family, sub.name, values)


def focused_option(data: dict[str, Any], families: Mapping[str, Mapping[str, Command]]) -> tuple[Param, str] | None:
    """The declared parameter an AUTOCOMPLETE interaction is typing into, and what is typed so far."""
    family = str(data.get("name", ""))
    if family not in families:
        return None
    for chosen in data.get("options") or []:
        sub = find_subcommand(families[family], str(chosen.get("name")))
        if sub is None:
            continue
        for option in chosen.get("options") or []:
            if option.get("focused"):
                param = next((p for p in sub.params if p.name == option.get("name")), None)
                return (param, str(option.get("value") or "")) if param is not None else None
    return None
