"""An option the command does not take is named, with the options that exist, never taken for free text."""

import pytest

from tests.handlers.conversation import ask, say
from tests.support.snapshot import snapshot


@pytest.fixture
def lab(services):
    say(services, "ana", '/event add City Lab start="2026-12-01 10:00"')
    return services


def test_typed_event_edit_repeat_rule_is_read_as_an_option(lab):
    reply = ask(lab, "ana", "/event edit 1 repeat=FREQ=WEEKLY")
    assert not reply.error, reply.plain()


@pytest.mark.parametrize(
    "line, key",
    [
        ("/event edit 1 foo=bar", "foo"),
        ("/event edit 1 where=Brussels foo=bar", "foo"),
        ("/event edit 1 foo=bar where=Brussels", "foo"),
    ],
)
def test_typed_an_option_the_command_does_not_take_is_named(lab, line, key):
    before = snapshot(lab.engine)
    reply = ask(lab, "ana", line)
    assert reply.error
    assert reply.plain() == (
        f"Unknown option `{key}=`. Options of /event edit: channel=, end=, on=, repeat=, start=, title=, tz=, where=; "
        "text that holds = goes in quotes."
    )
    assert snapshot(lab.engine) == before


@pytest.mark.parametrize(
    "line, text",
    [
        ("/city offer open data, see https://example.org/?a=b", "open data, see https://example.org/?a=b"),
        ("/city offer 10%=x of budget", "10%=x of budget"),
        ("/city need a=b testing", "a=b testing"),
    ],
)
def test_typed_free_text_may_hold_an_equals_sign(services, line, text):
    say(services, "ana", "/city register Brno country=CZ")
    say(services, "bob", "/city join Brno")
    say(services, "ana", "/city approve @bob Brno")
    assert say(services, "bob", line).endswith(f": {text}")


def test_typed_an_option_typo_is_named_with_the_one_meant(lab):
    assert say(lab, "ana", "/event edit 1 wher=Brussels") == (
        "Unknown option `wher=`. Did you mean `where=`? "
        "Options of /event edit: channel=, end=, on=, repeat=, start=, title=, tz=, where="
    )


def test_typed_a_command_without_options_says_so(services):
    say(services, "ana", "/city register Brno country=CZ")
    say(services, "bob", "/city join Brno")
    say(services, "ana", "/city approve @bob Brno")
    before = snapshot(services.engine)
    assert say(services, "carla", "/city join Brno licence=CC-BY") == (
        "Unknown option `licence=`: /city join takes none; text that holds = goes in quotes."
    )
    # /city offer takes city= (organisers act for a city): its one option is named.
    assert say(services, "bob", "/city offer open data licence=CC-BY") == (
        "Unknown option `licence=`. Options of /city offer: city=; text that holds = goes in quotes."
    )
    assert snapshot(services.engine) == before
    assert say(services, "bob", '/city offer "open data licence=CC-BY"') == (
        "Added to what Brno offers: open data licence=CC-BY"
    )
