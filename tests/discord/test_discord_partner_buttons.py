"""On Discord too, no button leads nowhere: /match offers *Introduce us* only for a city someone represents and
that was not introduced yet, and once introduced, when, and a follow-up that asks how it went. Signed
interactions to the real web app, answers to the fake Discord; the follow-up opens a form (a modal)."""

from __future__ import annotations

from tests.discord.conftest import ADMIN, ANA, BOB, Bot
from tests.discord.test_discord_http import run, shown
from tests.support.discord.rules import walk_components

CAROL = "1310000000000000904"


def labels(message: dict) -> list[str]:
    return [c["label"] for c in walk_components(message.get("components")) if c.get("type") == 2]


def test_match_buttons_follow_what_can_still_be_done(bot: Bot) -> None:
    for name, country, person in (("Brno", "CZ", ANA), ("Porto", "PT", BOB), ("Gdańsk", "PL", CAROL)):
        run(bot, ADMIN, "city", "register", name=name, country=country)
        run(bot, person, "city", "join", name=name)
        run(bot, ADMIN, "city", "approve", user=person, name=name)
    run(bot, ANA, "city", "need", text="open data platform for mobility")
    run(bot, BOB, "city", "offer", text="an open data platform for urban mobility")
    run(bot, CAROL, "city", "offer", text="open data platform for mobility and traffic")
    run(bot, ADMIN, "city", "role", user=CAROL, role="none")  # Gdańsk's representative left

    listed = run(bot, ANA, "match", "top")
    text = shown(listed)
    assert "Gdańsk has no representative yet: there is nobody to introduce." in text
    assert sorted(labels(listed)) == ["Introduce us", "Not a fit", "Not a fit"]  # Porto's two, Gdańsk's one

    assert "Introduced" in shown(run(bot, ANA, "match", "intro", name="Porto"))
    listed = run(bot, ANA, "match", "top")
    assert "Introduced on " in shown(listed) and "(introduction 1); how it went is not answered yet." in shown(listed)
    assert sorted(labels(listed)) == ["How did it go?", "Not a fit", "Not a fit"]
    opened = bot.interactions.click(ANA, listed, label="How did it go?")
    assert opened.body["type"] == 9 and opened.body["data"]["title"] == "Introduction #1"
    answered = bot.interactions.submit_modal(
        ANA, opened.body["data"]["custom_id"], {"outcome": "met site-visit"}, modal=opened.body
    )
    assert "met, a site visit" in shown(bot.discord.wait_for_original(answered.token))
    listed = run(bot, ANA, "match", "top")
    assert "(introduction 1): met, a site visit." in shown(listed)
    assert labels(listed) == ["Not a fit", "Not a fit"]
