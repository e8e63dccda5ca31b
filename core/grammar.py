"""The command grammar of the contract: free text, then `key=value` options in any order.

`/city register Den Haag country=NL cohort="ICC 2020"` gives text `Den Haag` and two options.
Values with spaces are quoted: straight or typographic double quotes in any pair phones and Slack produce
(`"…"`, `“…”`, `„…“`, `«…»`, `”…”`, `“…"` …), or single quotes (`'…'`, `‘…’`) whose closing mark ends a word, so an
apostrophe inside a word (`Miskolc's`, `L'Aquila`, `'s-Hertogenbosch`) stays text. A quoted value is its content
(`read_text`). User and channel references come as Slack sends them (`<@U123|ana>`, `<#C123|general>`) or as typed
in a terminal (`@ana`, `#general`).

Bad input is cheap: a line over MAX_LINE characters, or holding a control character, is refused before any
parsing (`check_line`), and parsing walks the words once, so its work is linear in the line, whatever it holds.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from types import ModuleType

from core.i18n import ENGLISH, N_, Msg, Plural, Template, current, render

PSEUDO = "xx"  # the pseudo-language (locales/): English's forms

# The pair each opening quote mark is written with (how we quote a value); reading takes more (_CLOSERS).
QUOTES = {'"': '"', "'": "'", "\u201c": "\u201d", "\u201e": "\u201c", "\u2018": "\u2019", "\u00ab": "\u00bb"}
_DOUBLE_MARKS = '"\u201c\u201d\u201e\u201f'  # " “ ” „ ‟
_GUILLEMETS = "\u00ab\u00bb"  # « »
_SINGLE_MARKS = "'\u2018\u2019\u201a\u201b"  # ' ‘ ’ ‚ ‛
_SINGLE_GUILLEMETS = "\u2039\u203a"  # ‹ ›
# What each opening mark may be closed by: English, German, Polish, Swedish, French and Danish pairs, and the
# mixed ones a phone's autocorrect or an edit leaves (`“…"`, `"…”`, `„…”`). `„` and `‚` only ever open.
_CLOSERS: dict[str, str] = {
    **{mark: _DOUBLE_MARKS.replace("\u201e", "") for mark in _DOUBLE_MARKS},
    **{mark: _GUILLEMETS for mark in _GUILLEMETS},
    **{mark: _SINGLE_MARKS.replace("\u201a", "") for mark in _SINGLE_MARKS if mark != "\u201b"},
    **{mark: _SINGLE_GUILLEMETS for mark in _SINGLE_GUILLEMETS},
}
# Quotes that only ever quote: one opening a word must be closed. A single quote may be an apostrophe
# (`'s-Hertogenbosch`, `'90s`), so it quotes only where its closing mark ends a word, and the text only as a whole.
_DOUBLE_QUOTES = frozenset(_DOUBLE_MARKS + _GUILLEMETS)
_SINGLE_QUOTES = frozenset(_CLOSERS) - _DOUBLE_QUOTES
# A closing mark that ends a word (followed by a space or the end); one inside a word is an apostrophe or a mark
# quoted in the value (`"Hall "B""`). Character classes, no nesting: each search is linear.
_ENDING_CLOSER = {closers: re.compile(f"[{re.escape(closers)}](?=\\s|$)") for closers in set(_CLOSERS.values())}
_ANY_CLOSER = {closers: re.compile(f"[{re.escape(closers)}]") for closers in set(_CLOSERS.values())}
_LOOSE_APOSTROPHE = re.compile(f"(?<!\\w)[{_SINGLE_MARKS}]|[{_SINGLE_MARKS}](?!\\w)")
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

LINE_TOO_LONG = N_("Commands are at most {limit:,} characters; this one has {length:,}.")
BAD_CHARACTER = N_("Character {position:,} is {code}, a control character or broken text; remove it and try again.")


class Strings:
    """The grammar's refusals: whole messages of the catalogue, their values named (core returns these with their
    values; the line is written in the reader's language when it is shown)."""

    UNCLOSED = N_('A quote opened at `{opened}` is never closed; expected a closing {closing}, as in "Den Haag".')
    AFTER_OPTIONS = N_("`{word}` comes after the options: put the text first, then key=value options.")
    TWICE = N_("`{key}=` is given twice.")
    NEEDS_QUOTES = N_("Quote values with spaces: {fixes}")
    UNKNOWN_OPTION = N_("Unknown option `{key}=`. Options here: {choices}")
    UNKNOWN_OPTION_CLOSE = N_("Unknown option `{key}=`. Did you mean `{close}=`? Options here: {choices}")
    NO_OPTIONS = N_("Unknown option `{key}=`. Options here: none")
    YES_NO = N_("`{key}=` expects yes or no, not `{value}`.")
    AT_LEAST = N_("`{key}=` expects a whole number of at least {minimum}, not `{value}`.")
    AT_MOST = N_("`{key}=` expects a whole number of at most {maximum:,}, not `{value}`.")


class GrammarError(ValueError):
    """A command that does not follow the grammar: a message and its values, not English. It is one line for the
    user, written in the language of whoever reads now when it is shown (`str`); `template` and `values` let a
    handler pass it on as it is (`CommandError(error.template, **error.values)`)."""

    def __init__(self, message: Template = "", **values: object) -> None:
        super().__init__(message)
        self.template = message
        self.values = values

    def __str__(self) -> str:
        if not self.values and not isinstance(self.template, (Msg, Plural)):
            return str(self.template)
        return render(self.template, **self.values)


class UnknownOption(GrammarError):
    """A `key=` where the options are that the command does not take: the dispatcher names the command."""

    def __init__(self, key: str, allowed: Collection[str]) -> None:
        close = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.6)
        choices = ", ".join(f"{k}=" for k in sorted(allowed))
        if not choices:
            super().__init__(Strings.NO_OPTIONS, key=key)
        elif close:
            super().__init__(Strings.UNKNOWN_OPTION_CLOSE, key=key, close=close[0], choices=choices)
        else:
            super().__init__(Strings.UNKNOWN_OPTION, key=key, choices=choices)
        self.key = key
        self.allowed = frozenset(allowed)
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
        raise GrammarError(LINE_TOO_LONG, limit=limit, length=len(text))
    check_characters(text)


def check_characters(text: str) -> None:
    """Refuse control characters (but tab and line breaks) and lone surrogates: they cannot be stored."""
    bad = bad_character(text)
    if bad is not None:
        raise GrammarError(BAD_CHARACTER, position=bad + 1, code=f"U+{ord(text[bad]):04X}")


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


class _Quotes:
    """Where the quote opened at a position closes, in one line: searches that found nothing are remembered, so
    however many quotes a line opens, each part of it is searched at most twice (linear)."""

    def __init__(self, raw: str) -> None:
        self.raw = raw
        self.failed: set[tuple[str, bool]] = set()

    def closing(self, pos: int) -> int | None:
        """The index of the mark closing the quote opened at `pos`: preferably one that ends a word; for a double
        quote, else the first closing mark at all; for a single one (maybe an apostrophe), None."""
        closers = _CLOSERS[self.raw[pos]]
        for ending in (True, False) if self.raw[pos] in _DOUBLE_QUOTES else (True,):
            if (closers, ending) in self.failed:
                continue
            found = (_ENDING_CLOSER if ending else _ANY_CLOSER)[closers].search(self.raw, pos + 1)
            if found is not None:
                return found.start()
            self.failed.add((closers, ending))
        return None


def _read_value(raw: str, pos: int, quotes: _Quotes) -> tuple[str, int, bool]:
    """Read an option value at `pos`: a quoted string or everything up to the next space; and whether quoted."""
    if pos < len(raw) and raw[pos] in _CLOSERS:
        end = quotes.closing(pos)
        if end is not None:
            return raw[pos + 1 : end], end + 1, True
        if raw[pos] in _DOUBLE_QUOTES:
            raise _unclosed(raw, pos)
    end = _word_end(raw, pos)
    return raw[pos:end], end, False


def _options_start(raw: str, allowed: Collection[str], quotes: _Quotes) -> int:
    """Index of the first word that is an allowed `key=` (len(raw) if none).

    A `key=` word before it that is close to a real option is a typo, not text, and is refused; so is one that
    stands where the options do — only `key=value` words follow it, or none — for it is an option the command does
    not take (`/event edit 4 foo=bar`). A `key=` inside the text (`a=b testing`) stays text.
    """
    pos, size = 0, len(raw)
    checked: set[str] = set()
    run: tuple[int, str] | None = None  # where the run of `key=value` words that ends the text so far starts
    while pos < size:
        if raw[pos].isspace():
            pos += 1
            continue
        if raw[pos] in _CLOSERS and (raw[pos] in _DOUBLE_QUOTES or pos == 0):
            # Quoted text is text, whatever it holds (`key=` too); jumping past it keeps the walk linear.
            end = quotes.closing(pos)
            if end is not None:
                pos, run = end + 1, None
                continue
            if raw[pos] in _DOUBLE_QUOTES:
                raise _unclosed(raw, pos)
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
        pos = _value_end(raw, equals + 1, quotes)
    if run is not None:
        raise UnknownOption(run[1], allowed)
    return size


def _value_end(raw: str, pos: int, quotes: _Quotes) -> int:
    """Where a value at `pos` ends: after its closing quote, else at the next space."""
    if pos < len(raw) and raw[pos] in _CLOSERS:
        end = quotes.closing(pos)
        if end is not None:
            return end + 1
    return _word_end(raw, pos)


def _unclosed(raw: str, pos: int) -> GrammarError:
    return GrammarError(Strings.UNCLOSED, opened=shown(raw[pos : pos + 20]), closing=QUOTES.get(raw[pos], raw[pos]))


def read_text(value: str) -> str:
    """A text value as meant: one wholly quoted is its content — straight or typographic double quotes in any pair
    (`"…"`, `“…”`, `„…“`, `«…»`, `»…«`, `”…”`, `“…"`), or single quotes around text whose every other single quote
    is an apostrophe inside a word (`'Miskolc's office'`). Text quoted only in part (`"Riga" and "Tallinn"`), and an
    apostrophe (`L'Aquila`, `'s-Hertogenbosch`), stay as typed. Linear in the value."""
    text = value.strip()
    if len(text) < 2 or text[0] not in _CLOSERS or text[-1] not in _CLOSERS[text[0]]:
        return text
    inner = text[1:-1]
    if text[0] in _SINGLE_QUOTES and text[0] not in _SINGLE_GUILLEMETS:
        quoted_whole = _LOOSE_APOSTROPHE.search(inner) is None and not inner[:1].isspace()
    else:
        family = next(marks for marks in (_DOUBLE_MARKS, _GUILLEMETS, _SINGLE_GUILLEMETS) if text[0] in marks)
        quoted_whole = frozenset(family).isdisjoint(inner)
    return inner.strip() if quoted_whole else text


class NeedsQuotes(GrammarError):
    """Option values with spaces typed without quotes: the message shows them rewritten with the quotes they need
    (`fixes`: each `key="value"`), so the line can be typed again as shown."""

    def __init__(self, fixes: list[str]) -> None:
        super().__init__(Strings.NEEDS_QUOTES, fixes=" ".join(fixes))
        self.fixes = tuple(fixes)

    def __str__(self) -> str:
        return shown(super().__str__(), NEEDS_QUOTES_SHOWN)


NEEDS_QUOTES_SHOWN = 190  # characters of that line at most: a value pasted whole is shown cut short


def quote_value(value: str) -> str:
    """A value written to read back whole: in the first pair of quote marks it does not hold."""
    for opening, closing in (('"', '"'), ("\u00ab", "\u00bb"), ("\u2039", "\u203a")):
        marks = _DOUBLE_MARKS if opening == '"' else opening + closing
        if frozenset(marks).isdisjoint(value):
            return f"{opening}{value}{closing}"
    return f"'{value}'"


def parse_args(raw: str, allowed: Collection[str] = ()) -> Args:
    """Split `raw` into free text and the options named in `allowed` (lower-case keys).

    Words after an unquoted option value that are no `key=` are that value's, typed without its quotes: refused
    with the line as it should be (NeedsQuotes). One pass over the words and one over the options: linear in the
    length of `raw`, whatever it holds.
    """
    raw = raw.strip()
    quotes = _Quotes(raw)
    start = _options_start(raw, allowed, quotes)
    text = raw[:start].rstrip()
    options: dict[str, str] = {}
    strays: dict[str, list[str]] = {}
    last: tuple[str, bool] | None = None  # the option read last, and whether its value was quoted
    stray_chars = 0
    pos, size = start, len(raw)
    while pos < size:
        if raw[pos].isspace():
            pos += 1
            continue
        equals = _key_end(raw, pos)
        if equals is None:
            end = _word_end(raw, pos)
            if last is None or last[1]:
                word = shown(raw[pos:end])
                raise GrammarError(Strings.AFTER_OPTIONS, word=word)
            strays.setdefault(last[0], []).append(raw[pos:end])
            stray_chars += end - pos + 1
            pos = end
            if stray_chars > NEEDS_QUOTES_SHOWN:
                break  # more than the error line shows: no need to read further
            continue
        key = raw[pos:equals].lower()
        if key not in allowed:
            raise UnknownOption(key, allowed)
        if key in options:
            raise GrammarError(Strings.TWICE, key=key)
        value, pos, quoted = _read_value(raw, equals + 1, quotes)
        options[key] = value.strip()
        last = (key, quoted)
    if strays:
        raise NeedsQuotes(
            [f"{key}={quote_value(shown(' '.join([options[key], *words]), 100))}" for key, words in strays.items()]
        )
    return Args(text=read_text(text), options=options)


def choice_list(choices: Sequence[str]) -> str:
    """`on-track, at-risk, done or dropped`: the choices as the reader's language lists alternatives (CLDR's "or"
    list through Babel: `a, b lub c`); English in its own form, without a comma before "or"."""
    code = current().code
    if len(choices) > 1 and code not in (ENGLISH, PSEUDO):
        babel = _babel()
        try:
            return str(babel.lists.format_list(list(choices), style="or", locale=code.replace("-", "_")))
        except babel.core.UnknownLocaleError:
            pass
    return choices[0] if len(choices) == 1 else f"{', '.join(choices[:-1])} or {choices[-1]}"


@functools.cache
def _babel() -> ModuleType:
    import babel.core
    import babel.lists  # CLDR's list patterns, loaded the first time a list is written in another language

    return babel


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
    raise GrammarError(Strings.YES_NO, key=key, value=shown(value))


def parse_count(value: str, key: str, *, minimum: int = 0, maximum: int = MAX_COUNT) -> int:
    cleaned = value.replace("_", "").replace(",", "").replace("\u202f", "").strip()
    # isdecimal, not isdigit: int() refuses digits such as `²` that isdigit accepts.
    if not cleaned.isdecimal():
        raise GrammarError(Strings.AT_LEAST, key=key, minimum=minimum, value=shown(value))
    digits = cleaned.lstrip("0") or "0"
    if len(digits) > MAX_NUMBER_DIGITS or int(digits) > maximum:
        raise GrammarError(Strings.AT_MOST, key=key, maximum=maximum, value=shown(value))
    if int(digits) < minimum:
        raise GrammarError(Strings.AT_LEAST, key=key, minimum=minimum, value=shown(value))
    return int(digits)


def split_list(text: str) -> list[str]:
    """`"Green economy, tourism;  upskilling"` -> three items; commas or semicolons separate."""
    return [item.strip() for item in text.replace(";", ",").split(",") if item.strip()]
