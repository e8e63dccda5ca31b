"""Bad input is cheap: every parser does work linear in what it is given, whatever it is given.

Work is counted, not timed: `work_done` counts the Python lines executed (sys.settrace), so the bound holds
on any machine. The parsers walk their input in Python, so a quadratic scan would show in the count.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from types import FrameType
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.dates import parse_day, parse_duration, parse_durations, parse_when, parse_zone, read_when
from core.grammar import (
    MAX_KEY,
    MAX_LINE,
    GrammarError,
    check_line,
    parse_args,
    parse_channel_ref,
    parse_count,
    parse_user_ref,
    parse_yes_no,
    read_text,
    split_first,
    split_list,
)
from core.text import strip_markup
from core.tracks import ICC_TRACKS, parse_track_list, resolve_track, slugify
from core.values import Kind, Slot, read_value, split_in_place

# How much more work ten times the input may cost: linear plus slack for fixed costs.
GROWTH = 12
FIXED = 200
_DATABASE_LIBRARIES = ("sqlalchemy", "sqlmodel", "psycopg", "sqlite3", "pydantic")


def work_done(run: Callable[[], Any], *, skip: tuple[str, ...] = ()) -> int:
    """Python lines executed by `run()`, not counting code in files whose path contains any of `skip`."""
    count = 0

    def count_lines(frame: FrameType, event: str, arg: object) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return count_lines

    def enter(frame: FrameType, event: str, arg: object) -> Any:
        filename = frame.f_code.co_filename
        return None if any(part in filename for part in skip) else count_lines

    previous = sys.gettrace()
    sys.settrace(enter)
    try:
        run()
    finally:
        sys.settrace(previous)
    return count


def outside_database(run: Callable[[], Any]) -> int:
    """`work_done` of our code and every library but the database layer, whose work does not grow with input."""
    return work_done(run, skip=_DATABASE_LIBRARIES)


def hostile(n: int) -> Iterator[tuple[str, str]]:
    """(kind, text of about n characters): long, nested, unbalanced and binary input."""
    noise = random.Random(n)
    yield "one long word", "x" * n
    yield "many words", "ab " * (n // 3)
    yield "key=key=key", "a=" * (n // 2)
    yield "option chain", "=".join(["country"] * (n // 8))
    yield "long key", "k" * n + "=v"
    yield "many unknown keys", " ".join(f"z{i:05d}=" for i in range(n // 8))
    yield "many known keys", "country=CZ " * (n // 11)
    yield "quotes", "\"'" * (n // 2)
    yield "curly quotes", "\u201c\u2018\u00ab" * (n // 3)
    yield "unclosed quote", 'where="' + "y " * (n // 2)
    yield "angles", "<<<@@@###" * (n // 9)
    yield "slack mention, no close", "<@" * (n // 2)
    yield "slack mention with bar", "<@U1|" * (n // 5)
    yield "channel, no close", "<#C" * (n // 3)
    yield "digits", "9" * n
    yield "separators", ",;" * (n // 2)
    yield "markup", "*_(" * (n // 3)
    yield "line breaks", "a\nb\r\n\t" * (n // 6)
    yield "NULs", "\x00" * n
    yield "controls", "".join(chr(c) for c in range(32)) * (n // 32)
    yield "surrogates", "\udcff" * n
    yield "random bytes", bytes(noise.randrange(256) for _ in range(n)).decode("utf-8", errors="surrogateescape")


REGISTER = ("cohort", "country", "mentor", "population")
EVENT_ADD = ("about", "channel", "cohort", "end", "remind", "repeat", "start", "tz", "where")
ZONE = ZoneInfo("Europe/Brussels")
NOW = datetime(2026, 11, 22, 9, tzinfo=UTC)
TRACKS = parse_track_list(ICC_TRACKS)
GOAL_UPDATE = [
    Slot("id", Kind.GOAL, True),
    Slot("status", Kind.CHOICE, True, ("on-track", "at-risk", "done", "dropped"), (("on-track", "ontrack"),)),
    Slot("note", Kind.TEXT),
]
NAME_AND_FLAGS = [Slot("city", Kind.CITY), Slot("all", Kind.FLAG, word="all"), Slot("no", Kind.FLAG, word="no")]


def _quietly(parse: Callable[[str], object]) -> Callable[[str], None]:
    """A parser's answer to hostile input is a value or a one-line GrammarError, never anything else."""

    def run(text: str) -> None:
        try:
            parse(text)
        except GrammarError as error:
            assert "\n" not in str(error)

    return run


PARSERS: dict[str, Callable[[str], None]] = {
    name: _quietly(parse)
    for name, parse in {
        "parse_args, register": lambda t: parse_args(t, REGISTER),
        "parse_args, text then a value": lambda t: parse_args(f"Brno country={t} mentor=yes", REGISTER),
        "parse_args, quoted value": lambda t: parse_args(f'Summit where="{t}" start=tomorrow', EVENT_ADD),
        "parse_args, no options": lambda t: parse_args(t),
        "split_first": split_first,
        "split_list": split_list,
        "parse_user_ref": parse_user_ref,
        "parse_channel_ref": parse_channel_ref,
        "parse_count": lambda t: parse_count(t, "population"),
        "parse_yes_no": lambda t: parse_yes_no(t, "mentor"),
        "parse_duration": parse_duration,
        "parse_durations": parse_durations,
        "parse_when": lambda t: parse_when(t, zone=ZONE, now=NOW),
        "read_when": lambda t: read_when(t).resolve(zone=ZONE, now=NOW),
        "read_text": read_text,
        "parse_args, unquoted value with spaces": lambda t: parse_args(f"Summit start=2027-03-01 {t}", EVENT_ADD),
        "parse_day": parse_day,
        "parse_zone": parse_zone,
        "strip_markup": strip_markup,
        "slugify": slugify,
        "resolve_track": lambda t: resolve_track(t, TRACKS),
        "check_line": lambda t: check_line(t, limit=10 * MAX_LINE),
        "split_in_place, goal update": lambda t: split_in_place(t, GOAL_UPDATE),
        "split_in_place, name and flags": lambda t: split_in_place(t, NAME_AND_FLAGS),
        "read_value, text": lambda t: read_value(Kind.TEXT, t, what="text"),
        "read_value, cities": lambda t: read_value(Kind.CITIES, t, what="with"),
        "read_value, choice": lambda t: read_value(Kind.CHOICE, t, what="status", choices=("on-track", "done")),
        "read_value, goal number": lambda t: read_value(Kind.GOAL, t, what="id"),
    }.items()
}
SMALL = 300


@pytest.mark.parametrize("parser", PARSERS)
@pytest.mark.parametrize("kind", [kind for kind, _ in hostile(SMALL)])
def test_ten_times_the_input_is_at_most_about_ten_times_the_work(parser: str, kind: str) -> None:
    small = dict(hostile(SMALL))[kind]
    large = dict(hostile(10 * SMALL))[kind]
    run = PARSERS[parser]
    work_small = work_done(lambda: run(small))
    work_large = work_done(lambda: run(large))
    assert work_large <= GROWTH * work_small + FIXED, (parser, kind, work_small, work_large)


def test_the_known_quadratic_case_is_linear() -> None:
    """`/city register <100,000 × x> country=CZ` once retried a key pattern from every letter (over 100 s)."""
    allowed = set(REGISTER)
    small = work_done(lambda: parse_args("x" * 10_000 + " country=CZ", allowed))
    large = work_done(lambda: parse_args("x" * 100_000 + " country=CZ", allowed))
    assert large <= GROWTH * small + FIXED
    assert parse_args("x" * 100_000 + " country=CZ", allowed).options == {"country": "CZ"}


def test_a_line_over_the_limit_is_refused_before_parsing_with_one_line() -> None:
    with pytest.raises(GrammarError) as caught:
        check_line("x" * 100_000)
    assert str(caught.value) == f"Commands are at most {MAX_LINE:,} characters; this one has 100,000."
    assert work_done(lambda: _quietly(check_line)("x" * 100_000)) == work_done(
        lambda: _quietly(check_line)("x" * 1_000_000)
    )
    check_line("x" * MAX_LINE)  # the limit itself is allowed


@pytest.mark.parametrize(
    "text, position, code",
    [("Brno\x00", 5, "U+0000"), ("a\x1bb", 2, "U+001B"), ("\udcffxyz", 1, "U+DCFF"), ("ok \x7f", 4, "U+007F")],
)
def test_control_characters_and_broken_unicode_are_refused_with_their_place(text, position, code) -> None:
    with pytest.raises(GrammarError) as caught:
        check_line(text)
    assert str(caught.value).startswith(f"Character {position} is {code}, a control character or broken text;")


def test_tabs_line_breaks_and_any_alphabet_are_text() -> None:
    check_line("Łódź\tKraków\nΑθήνα\r\n東京 🏙️ \u200d")


def test_long_keys_are_never_options_and_never_typo_hints() -> None:
    long_key = "c" * (MAX_KEY + 1)
    assert parse_args(f"Brno {long_key}=CZ", REGISTER).text == f"Brno {long_key}=CZ"
    with pytest.raises(GrammarError, match=f'Quote values with spaces: country="CZ {long_key}=x"'):
        parse_args(f"Brno country=CZ {long_key}=x", REGISTER)
    key = "c" * MAX_KEY
    with pytest.raises(GrammarError, match=f"Unknown option `{key}=`"):
        parse_args(f"Brno country=CZ {key}=x", REGISTER)


def test_errors_quote_long_input_shortly() -> None:
    with pytest.raises(GrammarError) as caught:
        parse_args("Brno country=CZ " + "y" * 3000, REGISTER)
    assert len(str(caught.value)) < 200
    with pytest.raises(GrammarError) as caught:
        parse_count("9" * 3000, "population")
    assert len(str(caught.value)) < 200


@pytest.mark.parametrize(
    "value, message",
    [
        ("²", "at least 1"),  # isdigit() says yes, int() says no
        ("①", "at least 1"),
        ("9" * 19, "at most 2,147,483,647"),
        ("2147483648", "at most 2,147,483,647"),
        ("0" * 40 + "7", None),
        ("٣", None),  # Arabic-Indic digits are digits
    ],
)
def test_counts_fit_a_database_integer_and_only_decimal_digits_count(value: str, message: str | None) -> None:
    if message is None:
        assert parse_count(value, "population", minimum=1) in (7, 3)
        return
    with pytest.raises(GrammarError, match=message):
        parse_count(value, "population", minimum=1)


@pytest.mark.parametrize("typed", ["9999999d", "1" * 80 + "w", "2020-09-28 " + "1" * 200, "2026-01-01 10:00 +99:00"])
def test_dates_and_durations_out_of_range_or_too_long_are_one_line_errors(typed: str) -> None:
    for parse in (parse_duration, lambda t: parse_when(t, zone=ZONE, now=NOW), parse_day):
        try:
            parse(typed)
        except GrammarError as error:
            assert "\n" not in str(error) and len(str(error)) < 200
