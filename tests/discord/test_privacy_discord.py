"""/city privacy on Discord over real HTTP: typed options, the export as an attachment, and Erase as a button."""

from __future__ import annotations

import json

from tests.discord.conftest import ANA, Bot
from tests.discord.test_discord_http import replaced, run
from tests.handlers.test_privacy import scan


def test_a_discord_member_exports_and_erases_themselves_with_the_button(bot: Bot) -> None:
    run(bot, ANA, "city", "timezone", zone="Asia/Tokyo")
    answer = bot.interactions.command(ANA, "city", "privacy", {"action": "export"}, username="user" + ANA[-3:])
    assert "Everything CityPeers keeps about you" in bot.discord.wait_for_original(answer.token)["content"]
    [(name, content)] = bot.discord.interaction_files(answer.token)
    data = json.loads(content)
    assert name.startswith("citypeers-personal-data-discord-") and data["member"]["external_id"] == f"discord:{ANA}"
    assert data["member"]["tz"] == "Asia/Tokyo" and data["member"]["tz_chosen"] is True

    asked = run(bot, ANA, "city", "privacy", action="forget")
    assert "It cannot be undone" in asked["content"]
    pressed = bot.interactions.click(ANA, asked, label="Erase")
    assert "no longer keeps anything about you" in replaced(bot, pressed.token, "Done")["content"]
    assert scan(bot.services, f"discord:{ANA}") == []
