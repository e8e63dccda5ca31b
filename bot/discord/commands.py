"""Discord's slash commands, generated from the parameters each command declares (`Command.params`), and back.

Each family (`/city`, `/match`, `/goal`, `/event`) is one Discord command whose subcommands are the family's
commands, and another form of a command (`/event broadcast list`) is a subcommand of its own (`broadcast-list`).
Each declared parameter is a typed option with its description: a person a USER option, a channel a CHANNEL, a
number an INTEGER, a yes/no or a word that is there or not a BOOLEAN, a choice a STRING with choices, city names,
cohorts and tracks STRINGs with autocomplete. An interaction is turned back into the canonical line (`/city show
Brno`), so one handler serves Slack, Discord and the console; `/citypeers line:<command>` runs any canonical line,
the escape hatch for scripts; `/home` shows what Slack's Home tab shows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.grammar import QUOTES, Args, ChannelRef, GrammarError, UserRef, parse_args, shown
from handlers.types import Command, Kind, Param, Variant

SUB_COMMAND, STRING, INTEGER, BOOLEAN, USER, CHANNEL = 1, 3, 4, 5, 6, 7
ESCAPE_HATCH = "citypeers"
HOME = "home"
HELP = "help"
MAX_CHOICES = 25
_TEXT_QUOTES = ('"', "\u00ab", "\u201c")  # quote marks that quote a whole free text (a single one is an apostrophe)
_KEY_WORD = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,31}=")  # a word the grammar may read as a `key=` option
OPTION_TYPES: Mapping[Kind, int] = {
    Kind.NUMBER: INTEGER,
    Kind.EVENT: INTEGER,
    Kind.GOAL: INTEGER,
    Kind.YESNO: BOOLEAN,
    Kind.FLAG: BOOLEAN,
    Kind.USER: USER,
    Kind.CHANNEL: CHANNEL,
}  # every other kind is a STRING


class Strings:
    HELP = "How to use /{family}"
    LINE = "A whole command as you would type it in Slack, e.g. /city show Brno"
    ESCAPE_HATCH = "Run a CityPeers command typed in full, e.g. /city show Brno"
    HOME = "Your city, its goals, the next events, matches"
    NOT_LITERAL = (
        "The text “{shown}” holds `{word}`, which would be read as an option, not as your text: use the "
        "command's own options for that, or write it without the `=`."
    )
    NOT_LITERAL_VALUE = "The {key} “{shown}” cannot be passed on as typed; leave out some of its quote marks."


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
    body: dict[str, Any] = {
        "type": OPTION_TYPES.get(param.kind, STRING),
        "name": param.name,
        "description": param.description,
        "required": param.required,
    }
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
            {
                "type": SUB_COMMAND,
                "name": sub.name,
                "description": sub.summary,
                # Discord wants the required options first; the canonical line keeps the declared order.
                "options": [option_definition(p) for p in sorted(sub.params, key=lambda p: not p.required)],
            }
            for sub in subcommands_of(commands)
        ]
        subcommands.append({"type": SUB_COMMAND, "name": HELP, "description": Strings.HELP.format(family=family)})
        definitions.append({"name": family, "type": 1, "description": summaries[family], "options": subcommands})
    definitions.append(
        {
            "name": ESCAPE_HATCH,
            "type": 1,
            "description": Strings.ESCAPE_HATCH,
            "options": [{"type": STRING, "name": "line", "description": Strings.LINE, "required": True}],
        }
    )
    definitions.append({"name": HOME, "type": 1, "description": Strings.HOME})
    return definitions


def canonical_line(
    data: dict[str, Any], families: Mapping[str, Mapping[str, Command]], resolved_channel_names: Mapping[str, str]
) -> str:
    """The canonical command line an APPLICATION_COMMAND interaction stands for."""
    family = str(data.get("name", ""))
    if family == ESCAPE_HATCH:
        given = {o.get("name"): o.get("value") for o in data.get("options") or []}
        return str(given.get("line") or "")
    if family == HOME:
        return "/home"
    [chosen] = data.get("options") or [{"name": HELP, "options": []}]
    name = str(chosen.get("name", HELP))
    values = {str(o.get("name")): o.get("value") for o in chosen.get("options") or []}
    sub = find_subcommand(families[family], name) if family in families else None
    if sub is None:
        return f"/{family} {name}"
    in_place: list[str] = [sub.words] if sub.words else []
    options: dict[str, str] = {}
    for param in sub.params:  # in the declared order, which is the line's
        if param.name not in values:
            continue
        value = values[param.name]
        if param.kind is Kind.FLAG:
            if value is True:
                in_place.append(param.flag_word)
            continue
        text = param.in_line(_as_text(param, value, resolved_channel_names))
        if param.key is None:
            in_place.append(text)
        else:
            options[param.key] = text
    text = " ".join(part for part in in_place if part != "")
    rest = _literal_rest(text, options, sub.command.options)
    return f"/{family} {sub.command.name} {rest}".rstrip()


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
    kinds = {param.name: param.kind for param in sub.params}
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
        for option in (chosen.get("options") or []) if sub is not None else []:
            if option.get("focused"):
                param = next((p for p in sub.params if p.name == option.get("name")), None)
                return (param, str(option.get("value") or "")) if param is not None else None
    return None


class TextNotLiteral(ValueError):
    """What was typed into an option cannot reach the handler as typed: the grammar would read part of it as a
    `key=` option (or cut a value at a quote). The message is one line for the person."""


def _literal_rest(text: str, options: Mapping[str, str], allowed: frozenset[str]) -> str:
    """The line after the command name, checked to read back through the grammar as exactly `text` and
    `options`, so what is typed into a free-text option stays text whatever `key=` words it holds. When the text
    as it is would not, it is quoted whole, in quote marks it does not hold (the grammar keeps quoted text whole);
    when the grammar reads none of these back as typed, TextNotLiteral: refused, never misread."""
    keyed = " ".join(f"{key}={_quoted(value)}" for key, value in options.items())
    wanted = Args(text=text, options=dict(options))
    plain = f"{text} {keyed}".strip()
    candidates = [plain]
    if text:
        candidates += [f"{o}{text}{QUOTES[o]} {keyed}".strip() for o in _TEXT_QUOTES if QUOTES[o] not in text]
    fallback = None
    for rest in candidates:
        try:
            parsed = parse_args(rest, allowed)
        except GrammarError:
            continue
        if parsed == wanted:
            return rest
        if rest is plain and parsed.options == wanted.options:
            fallback = rest  # only the text's outer quotes went, as the grammar takes them off any typed line
    if fallback is not None:
        return fallback
    word = next((w for w in text.split() if _KEY_WORD.match(w)), None)
    if word is not None:
        raise TextNotLiteral(Strings.NOT_LITERAL.format(shown=shown(text), word=shown(word, 40)))
    key, value = next(((k, v) for k, v in options.items() if _quoted(v) == v and " " in v), ("text", text))
    raise TextNotLiteral(Strings.NOT_LITERAL_VALUE.format(key=key, shown=shown(value)))


def _as_text(param: Param, value: object, channel_names: Mapping[str, str]) -> str:
    if param.kind is Kind.USER:
        return f"<@discord:{value}>"
    if param.kind is Kind.CHANNEL:
        name = channel_names.get(str(value))
        return f"<#discord:{value}|{name}>" if name else f"<#discord:{value}>"
    if param.kind is Kind.YESNO:
        return "yes" if value else "no"
    return " ".join(str(value).split())


def _quoted(value: str) -> str:
    """A key=value value: quoted when it has spaces (or starts with a quote mark), with a pair of quote marks
    whose closing one it does not contain (the grammar reads a quoted value up to its closing mark)."""
    if value and " " not in value and value[0] not in QUOTES:
        return value
    for opening in ('"', "'", "\u00ab", "\u201c", "\u2018"):
        if QUOTES[opening] not in value:
            return f"{opening}{value}{QUOTES[opening]}"
    return value  # every kind of quote mark in it: the caller finds it does not read back
