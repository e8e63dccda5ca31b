"""The dispatcher: the contract's bare `/match [<n>] [track=…]` runs the family's main command."""

import pytest

from tests.handlers.conversation import ask, say


@pytest.fixture
def two_cities(services):
    say(services, "ana", "/city register Porto country=PT")
    say(services, "ana", "/city register Gdansk country=PL")
    say(services, "bob", "/city join Gdansk")
    say(services, "ana", "/city approve @bob Gdansk")
    say(services, "carla", "/city join Porto")
    say(services, "ana", "/city approve @carla Porto")
    say(services, "bob", "/city interests tourism")
    say(services, "carla", "/city interests tourism")
    return services


@pytest.mark.parametrize(
    "line", ["/match", "/match 1", "/match track=tourism", "/match 2 track=tourism", "/match top 1"]
)
def test_bare_match_forms_run_the_main_command(two_cities, line):
    reply = ask(two_cities, "bob", line)
    assert not reply.error, reply.plain()
    assert reply.plain().startswith("Cities for Gdansk")
    assert "Porto (PT)" in reply.plain()


def test_help_and_unknown_subcommands_still_answer(two_cities):
    assert say(two_cities, "bob", "/match help").startswith("/match: ")
    assert "`/match [<n>] [track=<track>] [city=<name>]`" in say(two_cities, "bob", "/match help")
    assert say(two_cities, "bob", "/match fly") == "Unknown command `/match fly`. Try /match help."
    assert say(two_cities, "bob", "/city").startswith("/city: ")
