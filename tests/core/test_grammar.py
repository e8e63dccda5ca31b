import pytest

from core.grammar import (
    GrammarError,
    parse_args,
    parse_channel_ref,
    parse_count,
    parse_user_ref,
    parse_yes_no,
    split_first,
    split_list,
)

REGISTER = {"country", "population", "mentor", "cohort"}


def test_free_text_then_options_in_any_order():
    args = parse_args('Den Haag cohort="ICC 2020" country=NL population=550000', REGISTER)
    assert args.text == "Den Haag"
    assert args.options == {"cohort": "ICC 2020", "country": "NL", "population": "550000"}


def test_quoted_values_keep_commas_and_curly_quotes_work():
    args = parse_args("Summit where=\u201cHotel Metropole, Brussels\u201d", {"where"})
    assert args.options["where"] == "Hotel Metropole, Brussels"


def test_equals_sign_in_free_text_is_text_when_not_an_option():
    args = parse_args("cut CO2=50% by 2030 due=2027-01-01", {"due", "track"})
    assert args.text == "cut CO2=50% by 2030"
    assert args.options == {"due": "2027-01-01"}


def test_whole_quoted_text_is_unquoted():
    assert parse_args('"Den Haag"', REGISTER).text == "Den Haag"


@pytest.mark.parametrize(
    "raw, message",
    [
        ("Brno contry=CZ", "Did you mean `country=`?"),
        ("Brno country=CZ country=SK", "given twice"),
        ('Brno cohort="ICC 2020" extra words', "comes after the options"),
        ("Brno country=CZ extra words", 'Quote values with spaces: country="CZ extra words"'),
        ('Brno cohort="ICC 2020 country=CZ', "never closed"),
    ],
)
def test_malformed_options_are_one_line_errors(raw, message):
    with pytest.raises(GrammarError) as caught:
        parse_args(raw, REGISTER)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_unknown_option_after_known_ones_lists_choices():
    with pytest.raises(GrammarError, match="Options here: cohort=, country=, mentor=, population="):
        parse_args("Brno country=CZ colour=red", REGISTER)


@pytest.mark.parametrize(
    "token, user_id, name",
    [("<@U123ABC|ana>", "U123ABC", "ana"), ("<@U123ABC>", "U123ABC", "U123ABC"), ("@bob", "bob", "bob")],
)
def test_user_references_from_slack_and_console(token, user_id, name):
    ref = parse_user_ref(token)
    assert ref is not None and (ref.user_id, ref.name) == (user_id, name)


def test_not_a_user_reference():
    assert parse_user_ref("bob") is None
    assert parse_user_ref("<!channel>") is None


def test_channel_references():
    assert parse_channel_ref("<#C42|general>").channel_id == "C42"
    assert parse_channel_ref("#city-labs").name == "city-labs"
    assert parse_channel_ref("general") is None


def test_small_value_parsers():
    assert parse_yes_no("Yes", "mentor") is True and parse_yes_no("no", "mentor") is False
    with pytest.raises(GrammarError):
        parse_yes_no("maybe", "mentor")
    assert parse_count("1,200", "population") == 1200
    with pytest.raises(GrammarError):
        parse_count("-5", "population")
    assert split_first("approve <@U1> Brno") == ("approve", "<@U1> Brno")
    assert split_list("Green economy, tourism; upskilling,,") == ["Green economy", "tourism", "upskilling"]
