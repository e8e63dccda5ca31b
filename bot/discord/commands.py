"""Discord's slash commands, generated from the command registry the handlers use, and back again.

Each family (`/city`, `/match`, `/goal`, `/event`) is one Discord command whose subcommands are the family's
commands, with typed options read from each command's usage line: `<@user>` is a USER option, `<#channel>` a
CHANNEL, `<n>`/`<id>` an INTEGER, `[key=yes]` and `[word]` BOOLEANs, `a|b|c` a STRING with choices, city names
and tracks STRINGs with autocomplete. An interaction is turned back into the canonical line (`/city show Brno`),
so one handler serves Slack, Discord and the console; `/citypeers line:<command>` runs any canonical line, the
escape hatch for scripts; `/home` shows what Slack's Home tab shows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.grammar import QUOTES, Args, GrammarError, parse_args, shown
from handlers.types import Command

SUB_COMMAND, STRING, INTEGER, BOOLEAN, USER, CHANNEL = 1, 3, 4, 5, 6, 7
ESCAPE_HATCH = "citypeers"
HOME = "home"
MAX_CHOICES = 25
_PLACEHOLDER = re.compile(r"<([^<>]+)>")
_NAME_CHARS = re.compile(r"[^a-z0-9_-]+")
_TEXT_QUOTES = ('"', "\u00ab", "\u201c")  # quote marks that quote a whole free text (a single one is an apostrophe)
_KEY_WORD = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,31}=")  # a word the grammar may read as a `key=` option
CITY_WORDS = frozenset({"name", "city", "other"})
TRACK_WORDS = frozenset({"track"})
RENAMED = {"n": "count"}
DESCRIPTIONS = {
    "count": "How many",
    "name": "City name",
    "city": "City name",
    "user": "The person",
    "channel": "The channel",
    "track": "Thematic track",
    "tracks": "Thematic tracks, separated by commas",
    "text": "Text",
    "n": "How many",
    "id": "Its number",
    "when": "Date and time, e.g. 2026-09-28 10:00 or 28/09/2026",
    "date": "Date, e.g. 2027-02-28",
    "duration": "How long, e.g. 2w or 30d",
    "offsets": "Offsets before it, e.g. 7d,1d,1h",
}


@dataclass
class Option:
    """One typed option of a subcommand and how it goes back into the canonical line."""

    name: str
    type: int
    description: str
    required: bool
    key: str | None = None  # `key=` of a key=value option; None for text in place
    flag: str | None = None  # a word put in the line when a boolean is true (`overdue`, `all`, `no`)
    literal: str | None = None  # a fixed word the line needs here (`met`)
    choices: list[str] = field(default_factory=list)
    autocomplete: str | None = None  # "city" or "track"

    def definition(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type,
            "name": self.name,
            "description": self.description[:100],
            "required": self.required,
        }
        if self.choices:
            body["choices"] = [{"name": choice, "value": choice} for choice in self.choices[:MAX_CHOICES]]
        elif self.autocomplete:
            body["autocomplete"] = True
        if self.type == INTEGER:
            body["min_value"] = 0
        return body


def options_of(command: Command) -> list[Option]:
    """The options a command's usage line names, plus any option key it takes that the line leaves out."""
    usage = command.usage.split(None, 1)[1] if " " in command.usage else ""
    words = _words(usage)
    if words and words[0] == command.name:
        words = words[1:]
    elif words and not words[0].startswith(("<", "[")):
        words = words[1:]  # another spelling of the command name
    found: list[Option] = []
    taken: set[str] = set()
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if word == "|":
            break  # an alternative form (`… | not-met`): reached through buttons
        if word.endswith(",") and index < len(words) and words[-1] == "...":
            word, index = word.rstrip(","), len(words)  # `<track>, <track>, ...`: one list
            option = _positional(word, required=True, plural=True)
        else:
            optional = word.startswith("[") and word.endswith("]")
            option = _parse(word[1:-1] if optional else word, required=not optional)
        if option is None or option.name in taken:
            continue
        taken.add(option.name)
        found.append(option)
    for key in sorted(command.options):
        if key not in taken:
            found.append(Option(key, STRING, key.capitalize(), required=False, key=key))
    # Discord wants the required options first; the canonical line keeps the usage's order.
    return sorted(found, key=lambda option: not option.required)


def _words(usage: str) -> list[str]:
    """Split a usage line at spaces, except inside `<…>` (`[learned=<key learnings>]` is one word)."""
    words: list[str] = []
    for piece in usage.split():
        if words and words[-1].count("<") > words[-1].count(">"):
            words[-1] += " " + piece
        else:
            words.append(piece)
    return words


def _parse(word: str, *, required: bool) -> Option | None:
    if "=" in word:
        key, _, value = word.partition("=")
        kind, extra = _kind_of(value, key)
        if value in ("yes", "no"):
            kind = BOOLEAN
        return Option(_name(key), kind, _describe(key, value), required, key=key, **extra)
    if not word.startswith("<") and "|" not in word:
        if required:
            return Option(_name(word), STRING, word, required=True, literal=word)
        return Option(_name(word), BOOLEAN, f"Add “{word}”", required=False, flag=word)
    return _positional(word, required=required)


def _positional(word: str, *, required: bool, plural: bool = False) -> Option:
    placeholders = _PLACEHOLDER.findall(word)
    if "|" in word and not all(part.startswith("<") for part in word.split("|")):
        choices = [part for part in word.split("|") if not part.startswith("<")]
        if not placeholders:
            return Option("choice", STRING, "One of: " + ", ".join(choices), required, choices=choices)
    inner = placeholders[0] if placeholders else word
    kind, extra = _kind_of(f"<{inner}>", inner)
    name = RENAMED.get(inner, _name(inner.lstrip("@#"))) + ("s" if plural else "")
    if "|" in word:
        kind, extra = STRING, {}
        name = _name(word.replace("<", "").replace(">", "").replace("|", "_or_"))
    description = DESCRIPTIONS.get(name) or DESCRIPTIONS.get(inner.lstrip("@#").lower()) or inner
    return Option(name, kind, description, required, **extra)


def _kind_of(value: str, key: str) -> tuple[int, dict[str, Any]]:
    """The option type of a placeholder; for `key=<…>` options the key decides what is autocompleted."""
    inner = value.strip("<>").lower()
    subject = key.lower() if key != inner else inner
    if value.startswith("<@"):
        return USER, {}
    if value.startswith("<#"):
        return CHANNEL, {}
    if inner in ("n", "id", "introduction"):
        return INTEGER, {}
    if "|" in value and not value.startswith("<"):
        return STRING, {"choices": value.split("|")}
    if subject in TRACK_WORDS:
        return STRING, {"autocomplete": "track"}
    if subject in CITY_WORDS:
        return STRING, {"autocomplete": "city"}
    return STRING, {}


def _describe(key: str, value: str) -> str:
    inner = value.strip("<>")
    return DESCRIPTIONS.get(inner.lower()) or (f"{key.capitalize()}: {inner}" if inner else key.capitalize())


def _name(text: str) -> str:
    return _NAME_CHARS.sub("_", text.lower()).strip("_")[:32] or "value"


# --- the command set ------------------------------------------------------------------------------------


def command_set(families: Mapping[str, Mapping[str, Command]], summaries: Mapping[str, str]) -> list[dict[str, Any]]:
    """The body of PUT /applications/{app}/commands: one command per family, its commands as subcommands."""
    definitions: list[dict[str, Any]] = []
    for family, commands in families.items():
        subcommands = [
            {
                "type": SUB_COMMAND,
                "name": name,
                "description": command.summary[:100],
                "options": [option.definition() for option in options_of(command)],
            }
            for name, command in commands.items()
        ]
        subcommands.append({"type": SUB_COMMAND, "name": "help", "description": f"How to use /{family}"[:100]})
        definitions.append({"name": family, "type": 1, "description": summaries[family][:100], "options": subcommands})
    definitions.append(
        {
            "name": ESCAPE_HATCH,
            "type": 1,
            "description": "Run a CityPeers command typed in full, e.g. /city show Brno",
            "options": [{"type": STRING, "name": "line", "description": "The command", "required": True}],
        }
    )
    definitions.append({"name": HOME, "type": 1, "description": "Your city, its goals, the next events, matches"})
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
    [sub] = data.get("options") or [{"name": "help", "options": []}]
    name = str(sub.get("name", "help"))
    values = {str(o.get("name")): o.get("value") for o in sub.get("options") or []}
    command = families.get(family, {}).get(name)
    if command is None:
        return f"/{family} {name}"
    in_place: list[str] = []
    options: dict[str, str] = {}
    for option in _in_line_order(command):
        if option.literal is not None:
            in_place.append(option.literal)
            continue
        if option.name not in values:
            continue
        value = values[option.name]
        if option.flag is not None:
            if value is True:
                in_place.append(option.flag)
            continue
        text = _as_text(option, value, resolved_channel_names)
        if option.key is None:
            in_place.append(text)
        else:
            options[option.key] = text
    text = " ".join(part for part in in_place if part != "")
    rest = _literal_rest(text, options, command.options)
    return f"/{family} {name} {rest}".rstrip()


class TextNotLiteral(ValueError):
    """What was typed into an option cannot reach the handler as typed: the grammar would read part of it as a
    `key=` option (or cut a value at a quote). The message is one line for the person."""


class Strings:
    NOT_LITERAL = (
        "The text “{shown}” holds `{word}`, which would be read as an option, not as your text: use the "
        "command's own options for that, or write it without the `=`."
    )
    NOT_LITERAL_VALUE = "The {key} “{shown}” cannot be passed on as typed; leave out some of its quote marks."


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


def _in_line_order(command: Command) -> list[Option]:
    """The options in the order the usage line writes them (Discord's order puts the required ones first)."""
    options = options_of(command)
    positions = {option.name: index for index, option in enumerate(options)}
    usage = command.usage
    return sorted(
        options, key=lambda option: (option.key is not None, _first_mention(usage, option), positions[option.name])
    )


def _first_mention(usage: str, option: Option) -> int:
    probe = option.literal or option.flag or option.key or (option.choices or [option.name.rstrip("s")])[0]
    at = usage.find(probe)
    return at if at >= 0 else len(usage)


def _as_text(option: Option, value: object, channel_names: Mapping[str, str]) -> str:
    if option.type == USER:
        return f"<@discord:{value}>"
    if option.type == CHANNEL:
        name = channel_names.get(str(value))
        return f"<#discord:{value}|{name}>" if name else f"<#discord:{value}>"
    if option.type == BOOLEAN:
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
