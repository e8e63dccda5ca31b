"""The grammar refuses what people did not mean: an unclosed quote, an option the command does not take."""

import pytest

from core.grammar import GrammarError, parse_args
from tests.core.test_linear_input import work_done

REGISTER = frozenset({"country", "population", "mentor", "cohort"})


@pytest.mark.parametrize(
    "raw",
    ['"Unclosed country=DE', "\u201cUnclosed country=DE", 'Den "Haag country=NL', 'Den Haag cohort="ICC 2020'],
)
def test_typed_an_unclosed_quote_in_the_text_is_refused(raw):
    with pytest.raises(GrammarError, match="is never closed") as caught:
        parse_args(raw, REGISTER)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "raw, text, options",
    [
        ('"Den Haag" country=NL', "Den Haag", {"country": "NL"}),
        ('"Frankfurt am Main cohort=x" country=DE', "Frankfurt am Main cohort=x", {"country": "DE"}),
        ("Val d'Or country=CA", "Val d'Or", {"country": "CA"}),
        ("rock 'n' roll country=GB", "rock 'n' roll", {"country": "GB"}),
        ("our '90s data", "our '90s data", {}),
        ("'s-Hertogenbosch country=NL", "'s-Hertogenbosch", {"country": "NL"}),
        ('a 12" pipe', 'a 12" pipe', {}),
    ],
)
def test_typed_balanced_quotes_and_apostrophes_are_text(raw, text, options):
    args = parse_args(raw, REGISTER)
    assert (args.text, args.options) == (text, options)


def test_typed_quotes_stay_linear():
    small = work_done(lambda: parse_args('"a" ' * 2_500 + "country=CZ", REGISTER))
    large = work_done(lambda: parse_args('"a" ' * 25_000 + "country=CZ", REGISTER))
    assert large <= 12 * small
    unclosed = "x " * 50_000 + '"y'
    small = work_done(lambda: pytest.raises(GrammarError, parse_args, unclosed[-10_000:], REGISTER))
    large = work_done(lambda: pytest.raises(GrammarError, parse_args, unclosed, REGISTER))
    assert large <= 12 * small + 200
