"""The kinds of value a command takes, and how the text of a command line is shared out among them.

A command declares its parameters once (`handlers.types.Param`): a kind from `Kind`, a `key=` for an option or
none for a value in place in the free text. `core.grammar.parse_args` splits a line into that free text and the
options; `split_in_place` shares the free text out among the in-place parameters, in the order declared; and
`read_value` reads each piece as its kind. Each kind has one parser, here or in `core.dates` / `core.grammar`, and
names (cities, cohorts, tracks, events, goals) are looked up by one resolver each in `handlers.binding`.

Everything here is pure and linear in the length of what it reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from core import dates
from core.grammar import (
    MAX_COUNT,
    QUOTES,
    ChannelRef,
    GrammarError,
    UserRef,
    choice_list,
    parse_channel_ref,
    parse_count,
    parse_user_ref,
    parse_yes_no,
    read_text,
    shown,
    split_list,
)
from core.i18n import N_


class Kind(StrEnum):
    """What a parameter's value is: how it is read, how help writes it and what each platform asks for."""

    TEXT = "text"  # free text, kept as typed (its enclosing quotes are not part of it)
    CITY = "city"  # a registered city's name
    CITIES = "cities"  # several city names in one value
    COHORT = "cohort"
    TRACK = "track"
    TRACKS = "tracks"  # several tracks in one value
    USER = "user"
    CHANNEL = "channel"
    WHEN = "when"  # a date and time
    DATE = "date"
    DURATION = "duration"  # 2w, 30d
    OFFSETS = "offsets"  # reminder offsets: 7d,1d,1h
    NUMBER = "number"  # a whole number: a count or an id
    EVENT = "event"  # an event's number
    GOAL = "goal"  # a goal's number
    CHOICE = "choice"  # one of `choices`
    YESNO = "yesno"  # key=yes|no
    FLAG = "flag"  # a word that is there or not (`overdue`, `all`)
    ZONE = "zone"  # an IANA time zone
    RRULE = "rrule"  # an iCalendar recurrence rule


# Kinds whose value in place is one word: the next parameter starts after it.
ONE_WORD = frozenset({Kind.USER, Kind.CHANNEL, Kind.NUMBER, Kind.EVENT, Kind.GOAL, Kind.CHOICE})
NUMBERED = frozenset({Kind.NUMBER, Kind.EVENT, Kind.GOAL})


@dataclass(frozen=True)
class Slot:
    """An in-place parameter as the splitter sees it: its name, kind, whether it must be there, and for a
    choice its choices and their spellings in the line (`met site-visit` for `site-visit`)."""

    name: str
    kind: Kind
    required: bool = False
    choices: tuple[str, ...] = ()
    spelled: tuple[tuple[str, str], ...] = ()
    word: str = ""  # a flag's word
    also: tuple[str, ...] = ()  # a flag's other words


@dataclass(frozen=True)
class Token:
    start: int
    end: int
    quoted: bool


def tokens(text: str) -> list[Token]:
    """The words of `text`; a run in double quotes (straight or typographic) is one word. Linear: each quote
    is searched for its closing mark once, and an unclosed one is a plain character."""
    found: list[Token] = []
    pos, size = 0, len(text)
    unclosed: set[str] = set()
    while pos < size:
        if text[pos].isspace():
            pos += 1
            continue
        char = text[pos]
        if char in QUOTES and char != "'" and char != "\u2018" and QUOTES[char] not in unclosed:
            end = text.find(QUOTES[char], pos + 1)
            if end >= 0:
                found.append(Token(pos, end + 1, True))
                pos = end + 1
                continue
            unclosed.add(QUOTES[char])
        end = pos
        while end < size and not text[end].isspace():
            end += 1
        found.append(Token(pos, end, False))
        pos = end
    return found


def _word(text: str, token: Token) -> str:
    return text[token.start : token.end]


def _choice_at(text: str, words: Sequence[Token], at: int, slot: Slot) -> tuple[str, int] | None:
    """The choice the words from `at` spell, and how many words it takes: a choice as declared, a spelling of
    it (`met site-visit`), or a hyphenated choice said as two words (`on track`)."""
    first = _word(text, words[at]).casefold() if at < len(words) else ""
    if not first:
        return None
    second = _word(text, words[at + 1]).casefold() if at + 1 < len(words) else ""
    for choice in slot.choices:
        if first == choice.casefold():
            return choice, 1
    for choice, spelling in slot.spelled:
        parts = spelling.casefold().split()
        if parts == [first]:
            return choice, 1
        if len(parts) == 2 and (first, second) == (parts[0], parts[1]):
            return choice, 2
    for choice in slot.choices:
        if second and f"{first}-{second}" == choice.casefold():
            return choice, 2
    return None


def _not_a_choice(text: str, words: Sequence[Token], slot: Slot) -> tuple[str, int]:
    """What was typed where a required choice goes and is none: its first word, or its first two when they start
    as a two-word spelling does (`met lunch`), so the refusal quotes the answer as typed."""
    first = _word(text, words[0])
    starts = {spelling.casefold().split()[0] for _, spelling in slot.spelled if len(spelling.split()) == 2}
    if len(words) > 1 and first.casefold() in starts:
        return text[words[0].start : words[1].end], 2
    return first, 1


def _looks_like(kind: Kind, word: str) -> bool:
    """Whether a word can be an optional one-word parameter of `kind` (else that parameter is not given)."""
    if kind in NUMBERED:
        return word.lstrip("#").isdecimal()
    if kind is Kind.USER:
        return parse_user_ref(word) is not None
    if kind is Kind.CHANNEL:
        return parse_channel_ref(word) is not None
    return False


class Strings:
    """How a value is refused: whole messages of the catalogue with their values (the reader's language is chosen
    when the refusal is shown). `{what}` is a parameter's name or key as commands write it (English everywhere)."""

    TOO_MUCH = N_("`{extra}` is more than this command takes.")
    NUMBER = N_("The {what} is a whole number up to {max:,}, not `{typed}`.")
    NOT_AN_EVENT = N_("`{typed}` is not an event number; see the list for the numbers.")
    NOT_A_GOAL = N_("`{typed}` is not a goal number; see the list for the numbers.")
    NOT_A_NUMBER = N_("`{typed}` is not a {what} number; see the list for the numbers.")
    CHOICE_KEYED = N_("`{what}=` takes {choices}, not `{typed}`.")
    CHOICE = N_("The {what} is one of {choices}, not `{typed}`.")
    NOT_A_PERSON = N_("`{typed}` is not a person: expected @name.")
    NOT_A_CHANNEL = N_("`{typed}` is not a channel: expected #channel.")


TOO_MUCH = Strings.TOO_MUCH


def split_in_place(text: str, slots: Sequence[Slot]) -> dict[str, str | bool]:
    """Share the free text of a line out among the in-place parameters, in the order declared.

    Flags are their word anywhere; a one-word parameter takes one word (two for a choice said in two), an optional
    one only when the word can be one of its kind or nothing after it could take the word; the last other parameter
    takes the rest of the text. Returns each given parameter's text as typed (a flag's True); what is left over is
    refused.
    """
    words = tokens(text)
    flags = {word.casefold(): slot for slot in slots if slot.kind is Kind.FLAG for word in (slot.word, *slot.also)}
    found: dict[str, str | bool] = {}
    kept: list[int] = []  # indices in `words` of the words that are not flags
    for index, token in enumerate(words):
        slot = flags.get(_word(text, token).casefold()) if not token.quoted else None
        if slot is not None and slot.name not in found:
            found[slot.name] = True
        else:
            kept.append(index)
    others = [slot for slot in slots if slot.kind is not Kind.FLAG]
    at = 0
    for position, slot in enumerate(others):
        if at >= len(kept):
            break
        word = _word(text, words[kept[at]])
        if slot.kind is Kind.CHOICE:
            chosen = _choice_at(text, [words[i] for i in kept[at : at + 2]], 0, slot)
            if chosen is None and not slot.required:
                continue
            value, width = (
                chosen if chosen is not None else _not_a_choice(text, [words[i] for i in kept[at : at + 2]], slot)
            )
            found[slot.name] = value
            at += width
        elif slot.kind in ONE_WORD:
            # An optional one is taken when the word can be one, or when no later parameter could take the word:
            # then its kind's parser says what was expected, not that the word is too much.
            last = position == len(others) - 1
            if not slot.required and not last and not _looks_like(slot.kind, word):
                continue
            found[slot.name] = word
            at += 1
        elif position == len(others) - 1:
            # The rest of the text as typed; when a flag stood among its words, its words joined without it.
            first, final = kept[at], kept[-1]
            whole = final - first == len(kept) - 1 - at
            rest = [words[i] for i in kept[at:]]
            found[slot.name] = (
                text[rest[0].start : rest[-1].end] if whole else " ".join(_word(text, token) for token in rest)
            )
            at = len(kept)
        else:
            found[slot.name] = word
            at += 1
    if at < len(kept):
        extra = text[words[kept[at]].start : words[kept[-1]].end]
        raise GrammarError(Strings.TOO_MUCH, extra=shown(extra))
    return found


def read_number(typed: str, what: str, *, keyed: bool = True) -> int:
    """A count or an id as typed (`12`, `#12`, `1,000`); `what` names it in the error, as `what=` when keyed."""
    try:
        return parse_count(typed.strip().lstrip("#"), what, minimum=0)
    except GrammarError:
        if keyed:
            raise
        raise GrammarError(Strings.NUMBER, what=what, max=MAX_COUNT, typed=shown(typed)) from None


def read_id(typed: str | int, what: str) -> str:
    """The number of an event or a goal (`12`, `#12`), as digits: whether one has it is the resolver's to say."""
    digits = str(typed).strip().lstrip("#")
    if not digits.isdecimal():  # isdecimal, not isdigit: int() refuses `²`
        message = {"event": Strings.NOT_AN_EVENT, "goal": Strings.NOT_A_GOAL}.get(what, Strings.NOT_A_NUMBER)
        raise GrammarError(message, typed=shown(str(typed)), what=what)
    return digits


one_of = choice_list  # `on-track, at-risk, done or dropped` (core.grammar), in the reader's language


def read_choice(
    typed: str, choices: Sequence[str], spelled: Sequence[tuple[str, str]], what: str, *, keyed: bool = False
) -> str:
    """One of `choices`, in any case, also as spelled in the line or said in two words."""
    wanted = " ".join(typed.split()).casefold()
    for choice in choices:
        if wanted in (choice.casefold(), choice.casefold().replace("-", " ")):
            return choice
    for choice, spelling in spelled:
        if wanted == spelling.casefold():
            return choice
    if keyed:
        raise GrammarError(Strings.CHOICE_KEYED, what=what, choices=one_of(choices), typed=shown(typed))
    raise GrammarError(Strings.CHOICE, what=what, choices=one_of(choices), typed=shown(typed))


def read_user(value: str | UserRef) -> UserRef:
    if isinstance(value, UserRef):
        return value
    ref = parse_user_ref(value)
    if ref is None:
        raise GrammarError(Strings.NOT_A_PERSON, typed=shown(value))
    return ref


def read_channel(value: str | ChannelRef) -> ChannelRef:
    if isinstance(value, ChannelRef):
        return value
    ref = parse_channel_ref(value)
    if ref is None:
        raise GrammarError(Strings.NOT_A_CHANNEL, typed=shown(value))
    return ref


def read_names(typed: str) -> list[str]:
    """Several names in one value (`Porto; Brno`, `tourism, upskilling`), each once, in the order typed."""
    return list(dict.fromkeys(split_list(read_text(typed))))


def read_value(
    kind: Kind,
    value: object,
    *,
    what: str,
    keyed: bool = False,
    choices: Sequence[str] = (),
    spelled: Sequence[tuple[str, str]] = (),
) -> object:
    """The one reading of a value of `kind`, from text (console, Slack, a form) or from a platform's typed value
    (Discord's integers, booleans, people and channels). Names stay text: `handlers.binding` resolves them."""
    if kind in (Kind.FLAG, Kind.YESNO):
        return value if isinstance(value, bool) else parse_yes_no(str(value), what)
    if kind is Kind.NUMBER:  # a platform's integer too: the same bounds as typed
        return read_number(str(value), what, keyed=keyed)
    if kind in (Kind.EVENT, Kind.GOAL):
        return read_id(value if isinstance(value, int) else str(value), kind.value)
    if kind is Kind.USER:
        return read_user(value if isinstance(value, UserRef) else str(value))
    if kind is Kind.CHANNEL:
        return read_channel(value if isinstance(value, ChannelRef) else str(value))
    text = read_text(str(value))
    if kind is Kind.CHOICE:
        return read_choice(text, choices, spelled, what, keyed=keyed)
    if kind is Kind.DATE:
        return dates.parse_day(text)
    if kind is Kind.WHEN:
        return dates.read_when(text)
    if kind is Kind.DURATION:
        return dates.parse_duration(text)
    if kind is Kind.OFFSETS:
        return dates.parse_durations(text)
    if kind is Kind.ZONE:
        return dates.parse_zone(text)
    if kind in (Kind.CITIES, Kind.TRACKS):
        return read_names(text)
    return " ".join(text.split()) if kind is not Kind.TEXT else text.strip()
