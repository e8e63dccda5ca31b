"""Pressing *Introduce us* in Slack: one group conversation with both cities' reps, one introduction in it."""

from __future__ import annotations

from tests.e2e.conftest import ADMIN, ANA, BOB, Bot
from tests.e2e.test_slack_http import answer, buttons, words


def two_cities_with_common_ground(bot: Bot) -> None:
    for line in ("/city register Brno country=CZ", "/city register Porto country=PT"):
        answer(bot, ADMIN, line)
    for user, name, city in ((ANA, "ana", "Brno"), (BOB, "bob", "Porto")):
        answer(bot, user, f"/city join {city}")
        answer(bot, ADMIN, f"/city approve <@{user}|{name}> {city}")
    answer(bot, ANA, "/city interests green-economy")
    answer(bot, ANA, "/city need open data platform for mobility")
    answer(bot, BOB, "/city interests green-economy")
    answer(bot, BOB, "/city offer an open data platform for urban mobility")


def group_opens(bot: Bot) -> list[tuple[str, ...]]:
    """conversations.open calls for more than one person (DMs open one-person conversations)."""
    opened = [tuple(sorted(c.params["users"].split(","))) for c in bot.slack.calls("conversations.open")]
    return [users for users in opened if len(users) > 1]


def test_introduce_us_opens_one_conversation_with_both_reps_and_posts_one_introduction(bot: Bot) -> None:
    two_cities_with_common_ground(bot)
    suggestions = answer(bot, ANA, "/match top")
    assert "*1. Porto* (PT)" in words(suggestions)
    assert [b["text"]["text"] for b in buttons(suggestions)] == ["Introduce us", "Not a fit"]

    click = bot.sender.click(ANA, suggestions, "Introduce us")
    assert click.status == 200
    (outcome,) = bot.slack.wait_for_response(click.response_token)
    assert "Introduced *Brno* and *Porto*" in words(outcome)

    assert group_opens(bot) == [tuple(sorted((ANA, BOB)))]
    (introduction,) = bot.slack.messages_in(bot.slack.channel_of(ANA, BOB))
    text = words(introduction)
    assert f"<@{ANA}> of *Brno* (Czechia), meet <@{BOB}> of *Porto* (Portugal)." in text
    assert "an open data platform for urban mobility" in text and "open data platform for mobility" in text

    again = bot.sender.click(ANA, suggestions, "Introduce us")
    (refused,) = bot.slack.wait_for_response(again.response_token)
    assert "were introduced on" in words(refused)
    assert len(group_opens(bot)) == 1 and len(bot.slack.messages_in(bot.slack.channel_of(ANA, BOB))) == 1

    # asked again, the list says when they were introduced and offers the follow-up, not another introduction
    after = answer(bot, ANA, "/match top")
    assert "(introduction 1); how it went is not answered yet" in words(after)
    assert [b["text"]["text"] for b in buttons(after)] == ["How did it go?", "Not a fit"]


def test_not_a_fit_drops_the_city_from_the_next_answer(bot: Bot) -> None:
    two_cities_with_common_ground(bot)
    suggestions = answer(bot, ANA, "/match top")
    click = bot.sender.click(ANA, suggestions, "Not a fit")
    (outcome,) = bot.slack.wait_for_response(click.response_token)
    assert "will no longer be suggested" in words(outcome)
    assert "Porto" not in words(answer(bot, ANA, "/match top"))
