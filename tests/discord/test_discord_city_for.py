"""/city on Discord, its options reaching the handlers as typed values. Organisers keep cities: `/city interests`,
`offer`, `need` and their `-remove` forms take a `city` option (a number is an INTEGER) and are audited as acting
for the city; a representative naming another city is refused. Over real HTTP against the fake Discord."""

from __future__ import annotations

from storage import queries
from storage.db import unit_of_work
from tests.discord.conftest import ADMIN, ANA, Bot
from tests.discord.test_discord_http import run, shown
from tests.support.discord import GUILD_ID
from tests.support.snapshot import snapshot as every_table

INTEGER, STRING = 4, 3


def porto_without_a_rep(bot: Bot) -> None:
    run(bot, ADMIN, "city", "register", name="Brno", country="CZ")
    run(bot, ADMIN, "city", "register", name="Porto", country="PT")
    run(bot, ANA, "city", "join", name="Brno")
    run(bot, ADMIN, "city", "approve", user=ANA, name="Brno")


def snapshot(bot: Bot) -> dict[str, list[tuple]]:
    """Every table but the interactions already seen (kept so that none is run twice)."""
    return {name: rows for name, rows in every_table(bot.services.engine).items() if name != "seen_event"}


def items(bot: Bot, city: str, kind: str) -> list[str]:
    with unit_of_work(bot.services.engine) as session:
        found = queries.get_city_by_name(session=session, name=city)
        return [item.text for item in queries.city_items(session=session, city_id=found.id, kind=kind)]


def test_the_remove_forms_are_subcommands_with_a_number_and_every_profile_command_takes_a_city(bot: Bot) -> None:
    [city] = [c for c in bot.discord.commands(GUILD_ID) if c["name"] == "city"]
    subcommands = {sub["name"]: {o["name"]: o for o in sub.get("options", [])} for sub in city["options"]}
    assert subcommands["offer-remove"]["number"]["type"] == INTEGER
    assert subcommands["need-remove"]["number"]["required"] is True
    for name in ("interests", "offer", "need", "offer-remove", "need-remove"):
        option = subcommands[name]["city"]
        assert option["type"] == STRING and option["autocomplete"] is True and option["required"] is False, name


def test_an_admin_acts_for_a_city_with_no_representative_and_the_audit_says_so(bot: Bot) -> None:
    porto_without_a_rep(bot)
    answer = run(bot, ADMIN, "city", "interests", tracks="tourism, upskilling", city="porto")
    assert answer["content"].startswith("**Porto** works on: ")
    assert run(bot, ADMIN, "city", "offer", text="Open data: tourism flows", city="Porto")["content"] == (
        "Added to what **Porto** offers: Open data: tourism flows"
    )
    run(bot, ADMIN, "city", "need", text="heat maps", city="Porto")
    run(bot, ADMIN, "city", "need", text="smart parking", city="Porto")
    removed = run(bot, ADMIN, "city", "need-remove", number=1, city="Porto")
    assert removed["content"] == "Removed from what **Porto** needs: heat maps"
    assert items(bot, "Porto", "offer") == ["Open data: tourism flows"]
    assert items(bot, "Porto", "need") == ["smart parking"]
    trail = shown(run(bot, ADMIN, "city", "audit", what="city-edit"))
    assert "Audit trail of kind city-edit, newest first: 1–5 of 5" in trail
    assert "need: heat maps → none; for: Porto" in trail
    assert trail.count("for: Porto") == 5


def test_a_representative_naming_another_city_is_refused(bot: Bot) -> None:
    porto_without_a_rep(bot)
    before = snapshot(bot)
    for sub, options in (
        ("interests", {"tracks": "tourism"}),
        ("offer", {"text": "study visits"}),
        ("need-remove", {"number": 1}),
    ):
        refused = run(bot, ANA, "city", sub, city="Porto", **options)["content"]
        assert "Only organisers and admins act for another city with city=; you can " in refused, sub
        assert len(refused.splitlines()) == 1, sub
    assert snapshot(bot) == before
    assert (
        run(bot, ANA, "city", "offer", text="study visits")["content"] == "Added to what **Brno** offers: study visits"
    )


def test_auto_typed_as_the_zone_gives_it_back_to_the_platform(bot: Bot) -> None:
    """`[<Area/City>|auto]`: on Discord the word goes in the zone option, as it goes in place in a line."""
    assert "shown to you in **Asia/Tokyo**" in run(bot, ANA, "city", "timezone", zone="Asia/Tokyo")["content"]
    assert run(bot, ANA, "city", "timezone", zone="Auto")["content"].startswith("Times now follow the time zone")
    assert run(bot, ANA, "city", "timezone", auto=True)["content"].startswith("Times now follow the time zone")
    with unit_of_work(bot.services.engine) as session:
        member = queries.get_member(session=session, external_id=f"discord:{ANA}")
        assert (member.tz, member.tz_chosen) == (None, False)
