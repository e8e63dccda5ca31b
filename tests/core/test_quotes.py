"""A quoted value is its content, whichever quote marks a phone or Slack typed; an apostrophe in a word is text;
an option value with spaces typed without quotes is refused with the line as it should be."""

import pytest

from core.grammar import GrammarError, NeedsQuotes, parse_args, read_text

EVENT = frozenset({"start", "end", "tz", "where", "remind", "about"})
GOAL = frozenset({"learned", "due", "track"})


@pytest.mark.parametrize(
    "typed",
    [
        '"Welcome to the cohort"',
        "\u201cWelcome to the cohort\u201d",  # English, iOS and macOS smart quotes
        "\u201eWelcome to the cohort\u201c",  # German
        "\u201eWelcome to the cohort\u201d",  # Polish, Hungarian, Romanian
        "\u00abWelcome to the cohort\u00bb",  # French, Swiss
        "\u00ab\u00a0Welcome to the cohort\u00a0\u00bb",  # French with its no-break spaces
        "\u00bbWelcome to the cohort\u00ab",  # Danish
        "\u201dWelcome to the cohort\u201d",  # Swedish, Finnish
        '\u201cWelcome to the cohort"',  # mixed: a phone's opening, a keyboard's closing
        '"Welcome to the cohort\u201d',
        "\u201cWelcome to the cohort\u201c",
        "'Welcome to the cohort'",
        "\u2018Welcome to the cohort\u2019",
        "  \u201cWelcome to the cohort\u201d  ",
    ],
)
def test_a_wholly_quoted_text_is_its_content(typed):
    assert read_text(typed) == "Welcome to the cohort"


@pytest.mark.parametrize(
    "typed, meant",
    [
        ("'Working with Miskolc's office'", "Working with Miskolc's office"),
        ("\u201cPlan \u00abVerde\u00bb for Bilbao\u201d", "Plan \u00abVerde\u00bb for Bilbao"),
        ("\u00abLe plan \u201cvert\u201d\u00bb", "Le plan \u201cvert\u201d"),
    ],
)
def test_quotes_of_another_kind_inside_stay(typed, meant):
    assert read_text(typed) == meant


@pytest.mark.parametrize(
    "typed",
    [
        "Miskolc's office",
        "L'Aquila",
        "'s-Hertogenbosch",
        "Val d'Or",
        '"Riga" and "Tallinn"',  # quoted in part: as typed
        "\u201cRiga\u201d and \u201cTallinn\u201d",
        "'Riga' and 'Tallinn'",
        'a 12" pipe',
        '"',
        "\u201c",
        "",
    ],
)
def test_apostrophes_and_text_quoted_in_part_stay_as_typed(typed):
    assert read_text(typed) == typed


@pytest.mark.parametrize(
    "raw, text, options",
    [
        ("\u201cRiga call\u201d start=2027-03-01", "Riga call", {"start": "2027-03-01"}),
        ("\u201eRiga call\u201c start=2027-03-01", "Riga call", {"start": "2027-03-01"}),
        ("\u00abRiga call\u00bb where=\u00abSalle B\u00bb", "Riga call", {"where": "Salle B"}),
        ('Lab where=\u201cHall B" tz=EET', "Lab", {"where": "Hall B", "tz": "EET"}),
        ("Lab where=\u201eHall B\u201d tz=EET", "Lab", {"where": "Hall B", "tz": "EET"}),
        ('Lab where="Hall "B"" tz=EET', "Lab", {"where": 'Hall "B"', "tz": "EET"}),
        ("Lab about='Miskolc's office' tz=EET", "Lab", {"about": "Miskolc's office", "tz": "EET"}),
        ("Lab where='s-Hertogenbosch", "Lab", {"where": "'s-Hertogenbosch"}),
        ("L'Aquila lab where=L'Aquila", "L'Aquila lab", {"where": "L'Aquila"}),
    ],
)
def test_quoted_text_and_values_read_as_their_content(raw, text, options):
    args = parse_args(raw, EVENT)
    assert (args.text, args.options) == (text, options)


@pytest.mark.parametrize(
    "raw, allowed, fixed",
    [
        ("Riga call start=2027-03-15 10:00", EVENT, 'start="2027-03-15 10:00"'),
        ("Riga call start=15/03/2027 10:00 tz=Europe/Riga", EVENT, 'start="15/03/2027 10:00"'),
        ("1 done learned=Working with Miskolc's office", GOAL, 'learned="Working with Miskolc\'s office"'),
        ("Lab where=Hall B remind=1d", EVENT, 'where="Hall B"'),
        ('Lab where=Salle "B" du centre', EVENT, 'where=\u00abSalle "B" du centre\u00bb'),
    ],
)
def test_an_unquoted_value_with_spaces_is_shown_quoted(raw, allowed, fixed):
    with pytest.raises(NeedsQuotes) as caught:
        parse_args(raw, allowed)
    assert str(caught.value) == f"Quote values with spaces: {fixed}"
    # What the error shows reads back as the value meant.
    head, _, _ = raw.partition(fixed.split("=", 1)[0] + "=")
    key = fixed.split("=", 1)[0]
    again = parse_args(f"{head}{fixed}", allowed)
    assert " " in again.options[key]


def test_every_unquoted_value_is_shown_in_one_line():
    with pytest.raises(NeedsQuotes) as caught:
        parse_args("Lab start=2027-03-15 10:00 where=Town hall", EVENT)
    assert str(caught.value) == 'Quote values with spaces: start="2027-03-15 10:00" where="Town hall"'
    assert "\n" not in str(caught.value)


def test_words_after_a_quoted_value_are_text_in_the_wrong_place():
    with pytest.raises(GrammarError, match="`on-track` comes after the options"):
        parse_args('1 learned="Two districts" on-track', GOAL)
