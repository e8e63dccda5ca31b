"""Files a command produces reach the person's DM through files.uploadV2 (all three steps, on the fake)."""

from __future__ import annotations

from icalendar import Calendar

from tests.e2e.conftest import ADMIN, ANA, Bot
from tests.e2e.test_slack_http import answer, register_brno_with_ana, words
from tests.handlers.conversation import say


def test_event_ics_arrives_as_a_file_in_the_dm(bot: Bot) -> None:
    say(bot.services, f"slack:{ADMIN}", '/event add First City Lab start="2026-12-01 10:00"')
    reply = answer(bot, ANA, "/event ics 1")
    assert "citypeers-event-1.ics is in your direct messages with CityPeers." in words(reply)
    [(title, content)] = bot.slack.files_in(bot.slack.channel_of(ANA))
    assert title == "citypeers-event-1.ics"
    [event] = Calendar.from_ical(content).walk("VEVENT")
    assert str(event["SUMMARY"]) == "First City Lab"


def test_goal_chart_is_uploaded_as_a_png(bot: Bot) -> None:
    register_brno_with_ana(bot)
    say(bot.services, f"slack:{ANA}", "/goal add Open a tourism data hub")
    say(bot.services, f"slack:{ADMIN}", "/city role <@slack:U0EVE|eve> expert")
    bot.slack.set_user("U0EVE", "eve")
    answer(bot, "U0EVE", "/goal chart")
    [(title, content)] = bot.slack.files_in(bot.slack.channel_of("U0EVE"))
    assert title.endswith(".png") and content.startswith(b"\x89PNG\r\n\x1a\n")


def test_a_failed_upload_is_said_in_one_line(bot: Bot) -> None:
    say(bot.services, f"slack:{ADMIN}", '/event add Summit start="2026-12-01 10:00"')
    bot.slack.fail_next("files.getUploadURLExternal", error="not_allowed_token_type")
    reply = answer(bot, ANA, "/event ics 1")
    assert "Could not upload citypeers-event-1.ics to Slack; try again in a moment." in words(reply)
