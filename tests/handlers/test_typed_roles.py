"""Roles and approvals say the real reason for a refusal, and nobody becomes a rep who did not ask."""

import pytest

from tests.handlers.conversation import ask, say
from tests.support.snapshot import snapshot


@pytest.fixture
def porto(services):
    """ana is the first user (admin); olga an organiser; Porto is registered."""
    say(services, "ana", "/city register Porto country=PT")
    say(services, "ana", "/city role @olga organiser")
    say(services, "zed", "/city tracks")  # zed has spoken to the bot, and asked for nothing
    return services


@pytest.mark.parametrize(
    "user, line",
    [("ana", "/city role @ana organiser"), ("olga", "/city role @olga expert"), ("olga", "/city role @olga none")],
)
def test_typed_nobody_changes_their_own_role(porto, user, line):
    before = snapshot(porto.engine)
    reply = ask(porto, user, line)
    assert reply.error
    assert reply.plain() == "Nobody changes their own role; another admin or organiser can."
    assert snapshot(porto.engine) == before


def test_typed_approving_someone_who_never_asked_is_refused(porto):
    before = snapshot(porto.engine)
    reply = ask(porto, "olga", "/city approve @zed Porto")
    assert reply.error
    assert reply.plain() == (
        "@zed has not asked to represent Porto: they ask with /city join Porto, and you approve it then."
    )
    assert reply.notices == []
    assert snapshot(porto.engine) == before
    say(porto, "zed", "/city join porto")
    assert say(porto, "olga", "/city approve @zed Porto") == "@zed now represents Porto."


def test_typed_a_rep_of_no_city_is_refused(porto):
    before = snapshot(porto.engine)
    reply = ask(porto, "olga", "/city role @nobody rep")
    assert reply.error
    assert reply.plain() == (
        "A rep represents a city: reps are made by approving their request to represent it "
        "(they type /city join <name>, then /city approve <@user> <name>)."
    )
    assert snapshot(porto.engine) == before


def test_typed_a_rep_given_another_role_can_be_made_rep_again(porto):
    say(porto, "bob", "/city join Porto")
    say(porto, "olga", "/city approve @bob Porto")
    assert say(porto, "olga", "/city role @bob expert") == "@bob is now expert."
    assert say(porto, "olga", "/city role @bob rep") == "@bob is now rep."
