"""Which language a person reads: their choice (`/city language`), else their platform's, else the programme's
(CITYPEERS_DEFAULT_LANGUAGE), else English; an unknown code is refused with the list of languages there are."""

from __future__ import annotations

import pytest

from bot.app import build_services
from bot.config import ConfigError
from handlers.dispatch import handle
from handlers.types import Request
from storage import queries
from storage.db import unit_of_work
from tests.conftest import make_settings
from tests.support.snapshot import snapshot

LANGUAGES = (
    "en (English), de (Deutsch), el (Ελληνικά), es (Español), fr (Français), it (Italiano), pl (Polski), pt (Português)"
)


def line(services, user: str, text: str, *, locale: str | None = None) -> str:
    command, _, rest = text.lstrip("/").partition(" ")
    return handle(services, Request(user, user, command, rest, locale=locale)).plain()


@pytest.mark.parametrize(
    ("code", "answer"),
    [
        ("pl", "CityPeers pisze teraz w języku: Polski;"),
        ("el", "Το CityPeers σας γράφει τώρα στα Ελληνικά·"),
        ("de", "CityPeers schreibt Ihnen jetzt auf Deutsch;"),
        ("es", "CityPeers ahora te escribe en Español;"),
    ],
)
def test_a_person_who_chooses_a_language_reads_it(services, code: str, answer: str) -> None:
    assert line(services, "ana", f"/city language {code}").startswith(answer)
    # Kept: the next command, and a refusal before any command runs, are in it too.
    assert line(services, "ana", "/city language").startswith(answer.split(" ")[0])
    assert "ana" not in line(services, "ana", f"/city language {code.upper()}")
    with unit_of_work(services.engine) as session:
        member = queries.get_member(session=session, external_id="ana")
        assert (member.locale, member.locale_chosen) == (code, True)


def test_an_unknown_code_is_refused_with_the_languages_there_are_and_changes_nothing(services) -> None:
    line(services, "ana", "/city language")
    before = snapshot(services.engine)
    assert line(services, "ana", "/city language klingon") == (
        f"`klingon` is no language CityPeers is written in; there are {LANGUAGES}."
    )
    assert snapshot(services.engine) == before


def test_a_discord_member_who_chose_nothing_reads_their_clients_language(services) -> None:
    assert line(services, "discord:7", "/city language", locale="de").startswith(
        "CityPeers schreibt Ihnen auf *Deutsch* (`de`), der Sprache, die Ihre Plattform meldet;".replace("*", "")
    )
    assert line(services, "discord:8", "/city language", locale="pt-BR").startswith(
        "O CityPeers escreve-lhe em Português"
    )
    assert line(services, "discord:9", "/city language", locale="en-US").startswith(
        "CityPeers writes to you in English"
    )
    # Their choice wins over the client's; auto gives it back.
    line(services, "discord:7", "/city language el", locale="de")
    assert line(services, "discord:7", "/city language", locale="de").startswith("Το CityPeers")
    assert line(services, "discord:7", "/city language auto", locale="de").startswith("CityPeers schreibt Ihnen jetzt")
    assert line(services, "discord:7", "/city language", locale="de").startswith("CityPeers schreibt Ihnen auf")


def test_the_programme_language_is_for_those_whose_platform_says_nothing(tmp_path, clock) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'p.db'}", citypeers_default_language="es")
    services = build_services(settings, clock=clock, first_user_is_admin=True)
    try:
        assert line(services, "console", "/city language").startswith(
            "CityPeers te escribe en *Español*".replace("*", "")
        )
        assert line(services, "discord:1", "/city language", locale="pl").startswith("CityPeers pisze w języku")
        # A refusal before any command ran (an unknown subcommand) is in their language as well.
        line(services, "ana", "/city language el")
        assert line(services, "ana", "/city language xx").startswith("⟦")
    finally:
        services.engine.dispose()


def test_an_unknown_programme_language_is_refused_at_start(tmp_path) -> None:
    with pytest.raises(ConfigError, match="CITYPEERS_DEFAULT_LANGUAGE: `tlh` is no language CityPeers is written in"):
        make_settings(f"sqlite:///{tmp_path / 'p.db'}", citypeers_default_language="tlh")
