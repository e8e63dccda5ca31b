"""The command grammar of the contract: free text, then `key=value` options in any order.

`/city register Den Haag country=NL cohort="ICC 2020"` gives text `Den Haag` and two options.
Values with spaces are quoted ("…", '…' or the curly quotes phones type). User and channel
references come as Slack sends them (`<@U123|ana>`, `<#C123|general>`) or as typed in a terminal
(`@ana`, `#general`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection
from dataclasses import dataclass, field

QUOTES = {'"': '"', "'": "'", "\u201c": "\u201d", "\u201e": "\u201c", "\u2018": "\u2019", "\u00ab": "\u00bb"}
_KEY = re.compile(r"([A-Za-z][A-Za-z0-9_-]*)=")
_SLACK_USER = re.compile(r"<@([^|>\s]+)(?:\|([^>]*))?>")
_CONSOLE_USER = re.compile(r"@([\w][\w.\-]*)")
_SLACK_CHANNEL = re.compile(r"<#([CG][A-Z0-9]+)(?:\|([^>]*))?>")
_CONSOLE_CHANNEL = re.compile(r"#([\w][\w.\-]*)")


class GrammarError(ValueError):
    """A command that does not follow the grammar; the message is one line for the user."""


@dataclass(frozen=True)
class Args:
    text: str
    options: dict[str, str] = field(default_factory=dict)

    def words(self) -> list[str]:
        return self.text.split()


@dataclass(frozen=True)
class UserRef:
    user_id: str
    name: str


@dataclass(frozen=True)
class ChannelRef:
    channel_id: str
    name: str


def _read_value(raw: str, pos: int) -> tuple[str, int]:
    """Read an option value at `pos`: a quoted string or everything up to the next space."""
    if pos < len(raw) and raw[pos] in QUOTES:
        close = QUOTES[raw[pos]]
        end = raw.find(close, pos + 1)
        if end < 0:
            raise GrammarError(f"A quote opened at `{raw[pos : pos + 20]}` is never closed.")
        return raw[pos + 1 : end], end + 1
    end = pos
    while end < len(raw) and not raw[end].isspace():
        end += 1
    return raw[pos:end], end


def _option_starts(raw: str, allowed: Collection[str]) -> int | None:
    """Index where the first allowed `key=` begins as a word, else None."""
    for match in _KEY.finditer(raw):
        start = match.start()
        if (start == 0 or raw[start - 1].isspace()) and match.group(1).lower() in allowed:
            return start
    return None


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] in QUOTES and text[-1] == QUOTES[text[0]]:
        return text[1:-1].strip()
    return text


def parse_args(raw: str, allowed: Collection[str] = ()) -> Args:
    """Split `raw` into free text and the options named in `allowed` (lower-case keys)."""
    raw = raw.strip()
    start = _option_starts(raw, allowed)
    text = raw if start is None else raw[:start].rstrip()
    _reject_unknown_options(text, allowed)
    options: dict[str, str] = {}
    pos = len(raw) if start is None else start
    while pos < len(raw):
        if raw[pos].isspace():
            pos += 1
            continue
        match = _KEY.match(raw, pos)
        if not match:
            word = raw[pos:].split()[0]
            raise GrammarError(f"`{word}` comes after the options: put the text first, then key=value options.")
        key = match.group(1).lower()
        if key not in allowed:
            raise GrammarError(_unknown_option(key, allowed))
        if key in options:
            raise GrammarError(f"`{key}=` is given twice.")
        value, pos = _read_value(raw, match.end())
        options[key] = value.strip()
    return Args(text=_unquote(text), options=options)


def _reject_unknown_options(text: str, allowed: Collection[str]) -> None:
    """A `key=` in the free text that is close to a real option is a typo, not text."""
    if not allowed:
        return
    for match in _KEY.finditer(text):
        if match.start() and not text[match.start() - 1].isspace():
            continue
        key = match.group(1).lower()
        if difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.75):
            raise GrammarError(_unknown_option(key, allowed))


def _unknown_option(key: str, allowed: Collection[str]) -> str:
    close = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.6)
    hint = f" Did you mean `{close[0]}=`?" if close else ""
    choices = ", ".join(f"{k}=" for k in sorted(allowed)) or "none"
    return f"Unknown option `{key}=`.{hint} Options here: {choices}"


def split_first(text: str) -> tuple[str, str]:
    """`"approve <@U1> Brno"` -> (`"approve"`, `"<@U1> Brno"`)."""
    parts = text.strip().split(None, 1)
    if not parts:
        return "", ""
    return parts[0], parts[1] if len(parts) > 1 else ""


def parse_user_ref(token: str) -> UserRef | None:
    """A user as Slack escapes it (`<@U123|ana>`) or as typed in the console (`@ana`)."""
    token = token.strip()
    if match := _SLACK_USER.fullmatch(token):
        return UserRef(match.group(1), match.group(2) or match.group(1))
    if match := _CONSOLE_USER.fullmatch(token):
        return UserRef(match.group(1), match.group(1))
    return None


def parse_channel_ref(token: str) -> ChannelRef | None:
    """A channel as Slack escapes it (`<#C123|general>`) or as typed in the console (`#general`)."""
    token = token.strip()
    if match := _SLACK_CHANNEL.fullmatch(token):
        return ChannelRef(match.group(1), match.group(2) or match.group(1))
    if match := _CONSOLE_CHANNEL.fullmatch(token):
        return ChannelRef(match.group(1), match.group(1))
    return None


def parse_yes_no(value: str, key: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"yes", "y", "true", "1", "on"}:
        return True
    if lowered in {"no", "n", "false", "0", "off"}:
        return False
    raise GrammarError(f"`{key}=` expects yes or no, not `{value}`.")


def parse_count(value: str, key: str, *, minimum: int = 0) -> int:
    cleaned = value.replace("_", "").replace(",", "").replace("\u202f", "").strip()
    if not cleaned.isdigit() or int(cleaned) < minimum:
        raise GrammarError(f"`{key}=` expects a whole number of at least {minimum}, not `{value}`.")
    return int(cleaned)


def split_list(text: str) -> list[str]:
    """`"Green economy, tourism;  upskilling"` -> three items; commas or semicolons separate."""
    return [item.strip() for item in re.split(r"[,;]", text) if item.strip()]
