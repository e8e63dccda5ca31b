"""Organisers keep cities: with `city=<name>` an organiser or an admin sets a city's interests and adds and removes
its offers and needs — also once its only representative has gone — and the audit trail says for which city they
acted; a representative naming another city is refused in one line and nothing changes. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from handlers.types import Services
from tests.handlers.conversation import ask, say
from tests.support.snapshot import snapshot


@pytest.fixture
def tartu_left_alone(services: Services) -> Services:
    """ana is the admin, olga an organiser; Brno has bob; Tartu's only representative, rita, erased herself."""
    for user, line in (
        ("ana", "/city register Brno country=CZ"),
        ("ana", "/city register Tartu country=EE"),
        ("ana", "/city role @olga organiser"),
        ("bob", "/city join Brno"),
        ("ana", "/city approve @bob Brno"),
        ("rita", "/city join Tartu"),
        ("ana", "/city approve @rita Tartu"),
        ("rita", "/city offer old harbour tours"),
        ("rita", "/city privacy forget confirm"),
    ):
        reply = ask(services, user, line)
        assert not reply.error, (line, reply.plain())
    assert "Representatives: none yet" in say(services, "ana", "/city show Tartu")
    return services


def test_an_organiser_keeps_a_city_whose_representative_left(tartu_left_alone: Services) -> None:
    services = tartu_left_alone
    conversation = [
        ("olga", "/city interests tourism, upskilling city=Tartu", "Tartu works on: "),
        ("olga", '/city offer "Open data on tourism flows" city=tartu', "Added to what Tartu offers: Open data on"),
        ("olga", "/city need heat maps city=Tartu", "Added to what Tartu needs: heat maps"),
        ("olga", "/city need smart parking city=Tartu", "Added to what Tartu needs: smart parking"),
        ("olga", "/city offer remove 1 city=Tartu", "Removed from what Tartu offers: old harbour tours"),
        ("ana", "/city need remove 2 city=Tartu", "Removed from what Tartu needs: smart parking"),
    ]
    for user, line, expected in conversation:
        reply = ask(services, user, line)
        assert not reply.error and reply.plain().startswith(expected), (line, reply.plain())
    card = say(services, "carla", "/city show Tartu").splitlines()
    assert card[1].startswith("Tracks: ") and "tourism" in card[1].lower() and "upskilling" in card[1].lower()
    assert card[2:] == [
        "Offers:",
        "1. Open data on tourism flows",
        "Needs:",
        "1. heat maps",
        "Representatives: none yet",
    ]
    # Without a number, the one line lists the city's own items to choose from.
    which = ask(services, "olga", "/city need remove city=Tartu")
    assert which.error and which.plain() == "Say which to remove by its number, as in /city need remove 1: 1. heat maps"


def test_the_audit_trail_says_for_which_city_an_organiser_acted(tartu_left_alone: Services) -> None:
    services = tartu_left_alone
    say(services, "olga", "/city interests tourism city=Tartu")
    say(services, "olga", "/city need heat maps city=Tartu")
    say(services, "ana", "/city offer remove 1 city=Tartu")
    say(services, "bob", "/city offer bike sharing data")  # a rep's own edit is no privileged act
    lines = say(services, "ana", "/city audit what=city-edit").splitlines()
    assert lines[0] == "Audit trail of kind city-edit, newest first: 1–3 of 3"
    assert lines[1].endswith("· @ana · city-edit · city Tartu (#2) · offer: old harbour tours → none; for: Tartu")
    assert lines[2].endswith("· @olga · city-edit · city Tartu (#2) · need: heat maps; for: Tartu")
    assert lines[3].endswith("· @olga · city-edit · city Tartu (#2) · interests: none → tourism; for: Tartu")


@pytest.mark.parametrize(
    "line",
    [
        "/city interests tourism city=Tartu",
        "/city offer study visits city=Tartu",
        "/city need heat maps city=Tartu",
        "/city offer remove 1 city=Tartu",
        "/city need remove city=Tartu",
    ],
)
def test_a_representative_is_refused_for_another_city(tartu_left_alone: Services, line: str) -> None:
    services = tartu_left_alone
    before = snapshot(services.engine)
    reply = ask(services, "bob", line)
    assert reply.error and len(reply.plain().splitlines()) == 1
    assert reply.plain().startswith("Only organisers and admins act for another city with city=; you can ")
    assert reply.plain().endswith(" for your own city.")
    assert snapshot(services.engine) == before


def test_a_representative_may_name_their_own_city_and_is_not_audited(tartu_left_alone: Services) -> None:
    services = tartu_left_alone
    assert say(services, "bob", "/city offer bike sharing data city=brno") == (
        "Added to what Brno offers: bike sharing data"
    )
    assert say(services, "ana", "/city audit what=city-edit") == "No audit entries of kind city-edit."


def test_someone_without_a_role_cannot_act_for_a_city(tartu_left_alone: Services) -> None:
    services = tartu_left_alone
    before = snapshot(services.engine)
    reply = ask(services, "carla", "/city interests tourism city=Tartu")
    assert reply.error and reply.plain() == (
        "Only organisers and admins act for another city with city=; you can set interests for your own city."
    )
    assert snapshot(services.engine) == before
