"""`/city timezone`: a person chooses the zone times are shown in; Slack's zone stops replacing it; `auto` gives
it back. Discord reports no zone, so until a person chooses one the programme's default applies."""

from __future__ import annotations

from handlers.dispatch import handle
from handlers.types import Request
from storage import queries
from storage.db import unit_of_work
from tests.support.snapshot import snapshot


def line(services, user: str, text: str, *, tz: str | None = None, locale: str | None = None) -> str:
    command, _, rest = text.lstrip("/").partition(" ")
    return handle(services, Request(user, user, command, rest, tz=tz, locale=locale)).plain()


def stored_zone(services, user: str) -> tuple[str | None, bool, str | None]:
    with unit_of_work(services.engine) as session:
        member = queries.get_member(session=session, external_id=user)
        return member.tz, member.tz_chosen, member.locale


def test_choose_keep_and_give_back_a_time_zone(services):
    assert line(services, "discord:42", "/city timezone", locale="en-GB") == (
        "Times are shown to you in Europe/Brussels (it is Sun 22 Nov 2026, 10:00 CET there). "
        "It is the programme's default; `/city timezone <Area/City>` chooses yours."
    )
    assert stored_zone(services, "discord:42") == (None, False, "en-GB")  # the platform's language is kept
    assert line(services, "slack:U1", "/city timezone", tz="Europe/Prague").endswith(
        "It comes from your platform; `/city timezone <Area/City>` chooses another."
    )
    assert line(services, "slack:U1", "/city timezone Europe/Lisbon", tz="Europe/Prague") == (
        "Times are now shown to you in Europe/Lisbon: it is Sun 22 Nov 2026, 09:00 WET there."
    )
    # Slack keeps reporting Prague; the choice stands.
    assert line(services, "slack:U1", "/city timezone", tz="Europe/Prague").startswith(
        "Times are shown to you in Europe/Lisbon"
    )
    assert stored_zone(services, "slack:U1") == ("Europe/Lisbon", True, None)
    assert line(services, "slack:U1", "/city timezone auto", tz="Europe/Prague").startswith(
        "Times now follow the time zone your platform reports"
    )
    assert line(services, "slack:U1", "/city timezone", tz="Europe/Prague").startswith(
        "Times are shown to you in Europe/Prague"
    )


def test_a_zone_that_does_not_exist_changes_nothing(services):
    line(services, "discord:42", "/city timezone Europe/Lisbon")
    before = snapshot(services.engine)
    assert line(services, "discord:42", "/city timezone Mars/Olympus_Mons") == (
        "`Mars/Olympus_Mons` is not a time zone; expected an Area/City name like Europe/Brussels."
    )
    assert snapshot(services.engine) == before


def test_a_zone_written_as_an_abbreviation_says_what_it_was_read_as(services):
    """As tz= and a time's own zone do: `CEST` is the Central European zone, its clocks on CET in November."""
    assert line(services, "discord:42", "/city timezone CEST").splitlines() == [
        "Times are now shown to you in CET: it is Sun 22 Nov 2026, 10:00 CET there.",
        "`CET` read as Central European time (Brussels, Paris, Berlin, Rome, Warsaw …): CET, UTC+01:00 on "
        "Sun 22 Nov 2026.",
    ]
    # a zone named in full needs no note
    assert line(services, "discord:42", "/city timezone Europe/Tallinn").count("\n") == 0
