"""/city on Discord, its options reaching the handlers as typed values."""

from __future__ import annotations

from storage import queries
from storage.db import unit_of_work
from tests.discord.conftest import ANA, Bot
from tests.discord.test_discord_http import run


def test_auto_typed_as_the_zone_gives_it_back_to_the_platform(bot: Bot) -> None:
    """`[<Area/City>|auto]`: on Discord the word goes in the zone option, as it goes in place in a line."""
    assert "shown to you in **Asia/Tokyo**" in run(bot, ANA, "city", "timezone", zone="Asia/Tokyo")["content"]
    assert run(bot, ANA, "city", "timezone", zone="Auto")["content"].startswith("Times now follow the time zone")
    assert run(bot, ANA, "city", "timezone", auto=True)["content"].startswith("Times now follow the time zone")
    with unit_of_work(bot.services.engine) as session:
        member = queries.get_member(session=session, external_id=f"discord:{ANA}")
        assert (member.tz, member.tz_chosen) == (None, False)
