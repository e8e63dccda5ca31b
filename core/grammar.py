"""The command grammar of the contract: free text, then `key=value` options in any order.

`/city register Den Haag country=NL cohort="ICC 2020"` gives text `Den Haag` and two options.
Values with spaces are quoted ("…", '…' or the curly quotes phones type). User and channel
references come as Slack sends them (`<@U123|ana>`, `<#C123|general>`) or as typed in a terminal
(`@ana`, `#general`).

Bad input is cheap: a line over MAX_LINE characters, or holding a control character, is refused before any
parsing (`check_line`), and parsing walks the words once, so its work is linear in the line, whatever it holds.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection
from dataclasses import dataclass, field

QUOTES = {'"': '"', "'": "'", "\u201c": "\u201d", "\u201e": "\u201c", "\u2018": "\u2019", "\u00ab": "\u00bb"}
# Quotes that only ever quote: one opening a word must be closed. A single quote may be an apostrophe
# (`'s-Hertogenbosch`, `'90s`), so it quotes only the whole text, and only when it is closed.
_DOUBLE_QUOTES = frozenset('"\u201c\u201e\u00ab')
# Linear-time on any input: each anchored at one position, no nested repeats (fullmatch of one token).
# Neutral references, as each adapter writes its platform's mentions before dispatch: `<@slack:U123|ana>`,
# `<@discord:80351110224678912>`, `<#slack:C123|general>`; the console's people and channels are typed bare.
_USER_REF = re.compile(r"<@([^|>\s]+)(?:\|([^>]*))?>")
_CONSOLE_USER = re.compile(r"@([\w][\w.\-]*)")
_CHANNEL_REF = re.compile(r"<#([^|>\s]+)(?:\|([^>]*))?>")
_CONSOLE_CHANNEL = re.compile(r"#([\w][\w.\-]*)")

MAX_LINE = 4000  # characters in one command line, checked before any parsing
MAX_KEY = 32  # a longer `word=` is never an option, so no typo hint ever compares long keys
MAX_COUNT = 2**31 - 1  # the largest number a database integer column holds
MAX_NUMBER_DIGITS = 18  # more digits are no count we store (and int() of a long string is not linear)
SHOWN = 60  # characters of a typed word quoted back in an error
_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_KEY_CHARS = _LETTERS | frozenset("0123456789_-")
# C0 controls but tab and line breaks, and DEL: nothing a person types; PostgreSQL cannot even store NUL.
_CONTROLS = frozenset(chr(c) for c in (*range(0x20), 0x7F)) - frozenset("\t\n\r")

LINE_TOO_LONG = "Commands are at most {limit:,} characters; this one has {length:,}."
BAD_CHARACTER = "Character {position:,} is {code}, a control character or broken text; remove it and try again."


class GrammarError(ValueError):
    """A command that does not follow the grammar; the message is one line for the user."""


class UnknownOption(GrammarError):
    """A `key=` where the options are that the command does not take: the dispatcher names the command."""

    def __init__(self, key: str, allowed: Collection[str]) -> None:
        super().__init__(_unknown_option(key, allowed))
        self.key = key
        self.allowed = frozenset(allowed)
        close = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.6)
        self.close = close[0] if close else None


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


def check_line(text: str, limit: int = MAX_LINE) -> None:
    """Refuse, before any parsing, a line longer than `limit` or holding a character no person types."""
    if len(text) > limit:
        raise GrammarError(LINE_TOO_LONG.format(limit=limit, length=len(text)))
    check_characters(text)


def check_characters(text: str) -> None:
    """Refuse control characters (but tab and line breaks) and lone surrogates: they cannot be stored."""
    bad = bad_character(text)
    if bad is not None:
        raise GrammarError(BAD_CHARACTER.format(position=bad + 1, code=f"U+{ord(text[bad]):04X}"))


def bad_character(text: str) -> int | None:
    """Index of the first control character (but tab and line breaks) or lone surrogate, else None."""
    bad: int | None = None
    if not _CONTROLS.isdisjoint(text):
        bad = next(i for i, char in enumerate(text) if char in _CONTROLS)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        bad = error.start if bad is None else min(bad, error.start)
    return bad


def shown(text: str, limit: int = SHOWN) -> str:
    """Typed text quoted back in an error: on one line, and cut short so the error stays short."""
    flat = " ".join(text[: 4 * limit].split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "\u2026"


def _word_end(raw: str, pos: int) -> int:
    end, size = pos, len(raw)
    while end < size and not raw[end].isspace():
        end += 1
    return end


def _key_end(raw: str, pos: int) -> int | None:
    """Where the `=` is when an option key (a letter, then letters, digits, `_`, `-`) starts at `pos`.

    Looks at most MAX_KEY + 1 characters, so trying it at every word costs no more than reading the line.
    """
    size = len(raw)
    if pos >= size or raw[pos] not in _LETTERS:
        return None
    end, stop = pos + 1, min(size, pos + MAX_KEY + 1)
    while end < stop and raw[end] in _KEY_CHARS:
        end += 1
    return end if end < size and raw[end] == "=" and end - pos <= MAX_KEY else None


def _read_value(raw: str, pos: int) -> tuple[str, int]:
    """Read an option value at `pos`: a quoted string or everything up to the next space."""
    if pos < len(raw) and raw[pos] in QUOTES:
        close = QUOTES[raw[pos]]
        end = raw.find(close, pos + 1)
        if end < 0:
            raise GrammarError(_unclosed(raw, pos))
        return raw[pos + 1 : end], end + 1
    end = _word_end(raw, pos)
    return raw[pos:end], end


def _options_start(raw: str, allowed: Collection[str]) -> int:
    """Index of the first word that is an allowed `key=` (len(raw) if none).

    A `key=` word before it that is close to a real option is a typo, not text, and is refused; so is one that
    stands where the options do — only `key=value` words follow it, or none — for it is an option the command does
    not take (`/event edit 4 foo=bar`). A `key=` inside the text (`a=b testing`) stays text.
    """
    pos, size = 0, len(raw)
    checked: set[str] = set()
    unclosed: set[str] = set()  # quotes a search found no closing for: never searched again (linear)
    run: tuple[int, str] | None = None  # where the run of `key=value` words that ends the text so far starts
    while pos < size:
        if raw[pos].isspace():
            pos += 1
            continue
        if raw[pos] in QUOTES and (raw[pos] in _DOUBLE_QUOTES or pos == 0):
            # Quoted text is text, whatever it holds (`key=` too); jumping past it keeps the walk linear.
            end = raw.find(QUOTES[raw[pos]], pos + 1)
            if end >= 0:
                pos, run = end + 1, None
                continue
            if raw[pos] in _DOUBLE_QUOTES:
                raise GrammarError(_unclosed(raw, pos))
        equals = _key_end(raw, pos)
        if equals is None:
            pos, run = _word_end(raw, pos), None
            continue
        key = raw[pos:equals].lower()
        if key in allowed:
            if run is not None:
                raise UnknownOption(run[1], allowed)
            return pos
        if allowed and key not in checked:
            checked.add(key)
            if difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.75):
                raise UnknownOption(key, allowed)
        if run is None:
            run = (pos, key)
        pos = _value_end(raw, equals + 1, unclosed)
    if run is not None:
        raise UnknownOption(run[1], allowed)
    return size


def _value_end(raw: str, pos: int, unclosed: set[str]) -> int:
    """Where a value at `pos` ends: after its closing quote, else at the next space."""
    if pos < len(raw) and raw[pos] in QUOTES and QUOTES[raw[pos]] not in unclosed:
        end = raw.find(QUOTES[raw[pos]], pos + 1)
        if end >= 0:
            return end + 1
        unclosed.add(QUOTES[raw[pos]])
    return _word_end(raw, pos)


def _unclosed(raw: str, pos: int) -> str:
    return (
        f"A quote opened at `{shown(raw[pos : pos + 20])}` is never closed; "
        f'expected a closing {QUOTES[raw[pos]]}, as in "Den Haag".'
    )


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] in QUOTES and text[-1] == QUOTES[text[0]]:
        return text[1:-1].strip()
    return text


def parse_args(raw: str, allowed: Collection[str] = ()) -> Args:
    """Split `raw` into free text and the options named in `allowed` (lower-case keys).

    One pass over the words and one over the options: linear in the length of `raw`, whatever it holds.
    """
    raw = raw.strip()
    start = _options_start(raw, allowed)
    text = raw[:start].rstrip()
    options: dict[str, str] = {}
    pos, size = start, len(raw)
    while pos < size:
        if raw[pos].isspace():
            pos += 1
            continue
        equals = _key_end(raw, pos)
        if equals is None:
            word = shown(raw[pos : _word_end(raw, pos)])
            raise GrammarError(f"`{word}` comes after the options: put the text first, then key=value options.")
        key = raw[pos:equals].lower()
        if key not in allowed:
            raise UnknownOption(key, allowed)
        if key in options:
            raise GrammarError(f"`{key}=` is given twice.")
        value, pos = _read_value(raw, equals + 1)
        options[key] = value.strip()
    return Args(text=_unquote(text), options=options)


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
    """A user as an adapter writes one (`<@slack:U123|ana>`) or as typed in the console (`@ana`)."""
    token = token.strip()
    if match := _USER_REF.fullmatch(token):
        return UserRef(match.group(1), match.group(2) or match.group(1).rsplit(":", 1)[-1])
    if match := _CONSOLE_USER.fullmatch(token):
        return UserRef(match.group(1), match.group(1))
    return None


def parse_channel_ref(token: str) -> ChannelRef | None:
    """A channel as an adapter writes one (`<#slack:C123|general>`) or as typed in the console (`#general`)."""
    token = token.strip()
    if match := _CHANNEL_REF.fullmatch(token):
        return ChannelRef(match.group(1), match.group(2) or match.group(1).rsplit(":", 1)[-1])
    if match := _CONSOLE_CHANNEL.fullmatch(token):
        return ChannelRef(match.group(1), match.group(1))
    return None


def parse_yes_no(value: str, key: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"yes", "y", "true", "1", "on"}:
        return True
    if lowered in {"no", "n", "false", "0", "off"}:
        return False
    raise GrammarError(f"`{key}=` expects yes or no, not `{shown(value)}`.")


def parse_count(value: str, key: str, *, minimum: int = 0, maximum: int = MAX_COUNT) -> int:
    cleaned = value.replace("_", "").replace(",", "").replace("\u202f", "").strip()
    # isdecimal, not isdigit: int() refuses digits such as `²` that isdigit accepts.
    if not cleaned.isdecimal():
        raise GrammarError(f"`{key}=` expects a whole number of at least {minimum}, not `{shown(value)}`.")
    digits = cleaned.lstrip("0") or "0"
    if len(digits) > MAX_NUMBER_DIGITS or int(digits) > maximum:
        raise GrammarError(f"`{key}=` expects a whole number of at most {maximum:,}, not `{shown(value)}`.")
    if int(digits) < minimum:
        raise GrammarError(f"`{key}=` expects a whole number of at least {minimum}, not `{shown(value)}`.")
    return int(digits)


def split_list(text: str) -> list[str]:
    """`"Green economy, tourism;  upskilling"` -> three items; commas or semicolons separate."""
    return [item.strip() for item in text.replace(";", ",").split(",") if item.strip()]


_OPENING_DOUBLE = frozenset('"\u201c\u201d\u201e\u00ab')
# The closing marks that may end a text opened by each mark: phones and Slack pair them loosely (“…”, „…“, "…”).
_CLOSES = {
    '"': '"\u201d',
    "\u201c": "\u201d\u201c",
    "\u201d": "\u201d",
    "\u201e": "\u201c\u201d",
    "\u00ab": "\u00bb",
}


def read_text(value: str) -> str:
    """Free text as a person means it: a value wholly in double quotes (straight or as phones type them) is its
    content, unless a mark that could close it stands inside (then which quote closes where is not known, and the
    text is kept as typed); an apostrophe inside a word stays text."""
    text = value.strip()
    if len(text) >= 2 and text[0] in _OPENING_DOUBLE and text[-1] in _CLOSES[text[0]]:
        inner = text[1:-1]
        if not any(mark in inner for mark in _CLOSES[text[0]]):
            return inner.strip()
    return text
