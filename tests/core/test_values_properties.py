"""Every kind of value reads the same whether it was typed in a line (console, Slack) or given as a typed option
(Discord): core.values.read_value is the one parser, and split_in_place gives each in-place parameter its words."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.grammar import ChannelRef, GrammarError, UserRef, parse_args
from core.values import Kind, Slot, read_value, split_in_place

WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzáéíóúäöüßłńšžčœ", min_size=1, max_size=12)
TEXT = st.lists(WORD, min_size=1, max_size=6).map(" ".join)
# How people and phones quote a value: straight, curly, German and French quotes.
QUOTED = [('"', '"'), ("\u201c", "\u201d"), ("\u201e", "\u201c"), ("\u00ab", "\u00bb")]


@given(number=st.integers(min_value=0, max_value=10**9))
def test_a_number_reads_the_same_typed_or_given(number: int) -> None:
    typed = read_value(Kind.NUMBER, str(number), what="n")
    assert typed == read_value(Kind.NUMBER, number, what="n") == number
    assert read_value(Kind.NUMBER, f"{number:,}", what="n") == number  # 1,000 as people write it


@given(number=st.integers(min_value=1, max_value=10**9), kind=st.sampled_from([Kind.EVENT, Kind.GOAL]))
def test_an_event_or_goal_number_reads_the_same_typed_or_given(number: int, kind: Kind) -> None:
    assert read_value(kind, str(number), what="id") == read_value(kind, number, what="id")
    assert read_value(kind, f"#{number}", what="id") == str(number)


@given(flag=st.booleans(), kind=st.sampled_from([Kind.YESNO, Kind.FLAG]))
def test_yes_and_no_read_the_same_typed_or_given(flag: bool, kind: Kind) -> None:
    for typed in ("yes", "y", "true", "on") if flag else ("no", "n", "false", "off"):
        assert read_value(kind, typed, what="dry") is flag
        assert read_value(kind, typed.upper(), what="dry") is flag
    assert read_value(kind, flag, what="dry") is flag


@given(user=st.from_regex(r"[A-Z0-9]{9}", fullmatch=True), name=WORD)
def test_a_person_reads_the_same_as_written_by_an_adapter_or_given(user: str, name: str) -> None:
    given_ref = UserRef(f"slack:{user}", name)
    assert read_value(Kind.USER, f"<@slack:{user}|{name}>", what="user") == given_ref
    assert read_value(Kind.USER, given_ref, what="user") == given_ref


@given(channel=st.from_regex(r"[A-Z0-9]{9}", fullmatch=True), name=WORD)
def test_a_channel_reads_the_same_as_written_by_an_adapter_or_given(channel: str, name: str) -> None:
    given_ref = ChannelRef(f"discord:{channel}", name)
    assert read_value(Kind.CHANNEL, f"<#discord:{channel}|{name}>", what="channel") == given_ref
    assert read_value(Kind.CHANNEL, given_ref, what="channel") == given_ref


@given(text=TEXT, quotes=st.sampled_from(QUOTED))
def test_quoted_text_is_its_content_in_any_quote_marks(text: str, quotes: tuple[str, str]) -> None:
    opening, closing = quotes
    assert read_value(Kind.TEXT, f"{opening}{text}{closing}", what="text") == text
    assert read_value(Kind.TEXT, text, what="text") == text


@pytest.mark.parametrize("typed", ["Miskolc's office", "L'Aquila", "'s-Hertogenbosch", "the '90s"])
def test_an_apostrophe_inside_a_word_stays_text(typed: str) -> None:
    assert read_value(Kind.TEXT, typed, what="text") == typed


@given(day=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)))
def test_a_date_reads_the_same_iso_or_day_first(day: date) -> None:
    assert read_value(Kind.DATE, day.isoformat(), what="due") == day
    assert read_value(Kind.DATE, f"{day:%d/%m/%Y}", what="due") == day
    assert read_value(Kind.DATE, f"{day:%d-%m-%Y}", what="due") == day


@given(amount=st.integers(min_value=1, max_value=999), unit=st.sampled_from("mhdw"))
def test_a_duration_reads_as_typed(amount: int, unit: str) -> None:
    expected = timedelta(**{{"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[unit]: amount})
    assert read_value(Kind.DURATION, f"{amount}{unit}", what="duration") == expected
    assert read_value(Kind.DURATION, f"{amount}{unit.upper()}", what="duration") == expected


@given(choice=st.sampled_from(["on-track", "at-risk", "done", "dropped"]))
def test_a_choice_reads_in_any_case_and_said_in_two_words(choice: str) -> None:
    choices = ("on-track", "at-risk", "done", "dropped")
    assert read_value(Kind.CHOICE, choice.upper(), what="status", choices=choices) == choice
    assert read_value(Kind.CHOICE, choice.replace("-", " "), what="status", choices=choices) == choice


@given(names=st.lists(TEXT, min_size=1, max_size=5, unique=True))
def test_several_names_read_in_the_order_typed_once_each(names: list[str]) -> None:
    typed = "; ".join([*names, names[0]])
    assert read_value(Kind.CITIES, typed, what="with") == names


GOAL_UPDATE = [
    Slot("id", Kind.GOAL, True),
    Slot("status", Kind.CHOICE, True, ("on-track", "at-risk", "done", "dropped")),
    Slot("note", Kind.TEXT),
]


@given(
    number=st.integers(min_value=1, max_value=10**6),
    status=st.sampled_from(["on-track", "at-risk", "done", "dropped"]),
    note=st.one_of(st.just(""), TEXT),
    quotes=st.sampled_from(QUOTED),
)
def test_a_line_shares_its_words_among_the_parameters_in_order(
    number: int, status: str, note: str, quotes: tuple[str, str]
) -> None:
    quoted = f"{quotes[0]}{note}{quotes[1]}" if note else ""
    shared = split_in_place(f"{number} {status} {quoted}".strip(), GOAL_UPDATE)
    assert shared["id"] == str(number) and shared["status"] == status
    assert read_value(Kind.TEXT, shared.get("note", ""), what="note") == note


def test_words_past_what_a_command_takes_are_refused() -> None:
    with pytest.raises(GrammarError, match="more than this command takes"):
        split_in_place("12 extra", [Slot("id", Kind.GOAL, True)])


def test_optional_one_word_values_are_taken_only_when_they_can_be_one() -> None:
    slots = [Slot("action", Kind.CHOICE, False, ("export", "forget")), Slot("user", Kind.USER)]
    assert split_in_place("@ana", slots) == {"user": "@ana"}
    assert split_in_place("forget @ana", slots) == {"action": "forget", "user": "@ana"}


def test_flags_are_their_word_anywhere_and_the_rest_stays_whole() -> None:
    slots = [Slot("city", Kind.CITY), Slot("overdue", Kind.FLAG, word="overdue")]
    assert split_in_place("Den Haag overdue", slots) == {"city": "Den Haag", "overdue": True}
    assert split_in_place("overdue  Den   Haag", slots) == {"city": "Den   Haag", "overdue": True}


def test_options_and_in_place_values_come_from_one_line() -> None:
    args = parse_args('"Two districts signed" due=2027-03-01', {"due"})
    assert args.text == "Two districts signed" and args.options == {"due": "2027-03-01"}


def test_an_optional_one_word_value_last_in_line_takes_a_word_of_another_kind_so_its_parser_can_refuse_it() -> None:
    count = [Slot("count", Kind.NUMBER)]
    assert split_in_place("3", count) == {"count": "3"}
    assert split_in_place("many", count) == {"count": "many"}  # refused by the number's parser, not as "too much"
    with pytest.raises(GrammarError, match="`words` is more than this command takes"):
        split_in_place("many words", count)
    # Not last: a word that cannot be it is left for what comes after.
    slots = [Slot("user", Kind.USER), Slot("note", Kind.TEXT)]
    assert split_in_place("hello there", slots) == {"note": "hello there"}


OUTCOME = Slot(
    "outcome",
    Kind.CHOICE,
    True,
    ("site-visit", "nothing-yet", "not-met"),
    (("site-visit", "met site-visit"), ("nothing-yet", "met nothing-yet")),
)


def test_a_choice_said_in_two_words_that_is_none_is_quoted_as_typed() -> None:
    slots = [Slot("introduction", Kind.NUMBER, True), OUTCOME]
    assert split_in_place("3 met site-visit", slots) == {"introduction": "3", "outcome": "site-visit"}
    assert split_in_place("3 met lunch", slots) == {"introduction": "3", "outcome": "met lunch"}
    assert split_in_place("3 lunch", slots) == {"introduction": "3", "outcome": "lunch"}
    with pytest.raises(GrammarError, match="not `met lunch`"):
        read_value(Kind.CHOICE, "met lunch", what="outcome", choices=OUTCOME.choices, spelled=OUTCOME.spelled)


def test_a_number_in_place_is_refused_without_naming_an_option_it_does_not_have() -> None:
    with pytest.raises(GrammarError) as in_place:
        read_value(Kind.NUMBER, "many", what="count")
    assert str(in_place.value) == "The count is a whole number up to 2,147,483,647, not `many`."
    with pytest.raises(GrammarError, match="^`page=` expects a whole number"):
        read_value(Kind.NUMBER, "many", what="page", keyed=True)


@given(number=st.one_of(st.integers(max_value=-1), st.integers(min_value=2**31)))
def test_a_number_out_of_bounds_is_refused_alike_typed_or_given(number: int) -> None:
    with pytest.raises(GrammarError) as typed:
        read_value(Kind.NUMBER, str(number), what="count")
    with pytest.raises(GrammarError) as given_value:
        read_value(Kind.NUMBER, number, what="count")
    assert str(typed.value) == str(given_value.value)
