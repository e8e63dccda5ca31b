"""Buttons on a Slack channel message answer the person who pressed them alone: an ephemeral reply through the
response_url that leaves the channel's message as it is (never chat.update or replace_original of it). A
person's own message (an ephemeral reply, or one in their DM with the app) is still replaced in place."""

from __future__ import annotations

from datetime import timedelta

from core.clock import FakeClock
from tests.e2e.conftest import ADMIN, ANA, BOB, Bot
from tests.e2e.test_slack_http import answer, buttons, words
from tests.support.blockkit import assert_valid_blocks

LABS = "C0LABS"


def channel_reminder(bot: Bot, clock: FakeClock) -> dict:
    """A real channel reminder, as the delivery engine posts it into #labs."""
    when = (clock.now() + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M")
    answer(bot, ADMIN, f'/event add City Lab start="{when}" tz=UTC remind=1h channel=<#{LABS}|labs>')
    clock.advance(timedelta(hours=1, minutes=1))
    bot.delivery.run_due()
    [reminder] = bot.slack.wait_for(lambda: bot.slack.messages_in(LABS), what="the reminder in #labs")
    assert "City Lab" in reminder["text"]
    return reminder


def test_every_button_of_a_channel_reminder_answers_each_presser_alone(bot: Bot, clock: FakeClock) -> None:
    reminder = channel_reminder(bot, clock)
    labels = [b["text"]["text"] for b in buttons(reminder)]
    assert labels == ["RSVP", "Add to calendar"]
    said: dict[tuple[str, str], str] = {}
    for who in (ANA, BOB):  # two people press every button
        for label in labels:
            click = bot.sender.click(who, reminder, label)
            assert click.status == 200
            (reply,) = bot.slack.wait_for_response(click.response_token)
            assert reply.get("response_type") == "ephemeral" and reply.get("replace_original") is False, reply
            assert_valid_blocks(reply["blocks"])
            said[who, label] = words(reply)
    assert said[ANA, "RSVP"].startswith("You are attending *City Lab*") and said[BOB, "RSVP"] == said[ANA, "RSVP"]
    assert "citypeers-event-1.ics is in your direct messages" in said[BOB, "Add to calendar"]
    # The channel's message is as the engine posted it: nobody's answer replaced it.
    assert bot.slack.messages_in(LABS) == [reminder]
    assert not bot.slack.calls("chat.update")


def test_a_refused_press_on_a_channel_message_is_told_to_the_presser_alone(bot: Bot, clock: FakeClock) -> None:
    reminder = channel_reminder(bot, clock)
    bot.slack.wait_for_response(bot.sender.click(ANA, reminder, "RSVP").response_token)
    again = bot.sender.click(ANA, reminder, "RSVP")
    (refused,) = bot.slack.wait_for_response(again.response_token)
    assert "already attending" in words(refused)
    assert refused.get("response_type") == "ephemeral" and refused.get("replace_original") is False
    assert bot.slack.messages_in(LABS) == [reminder]


def test_a_button_on_a_persons_own_ephemeral_reply_still_replaces_it(bot: Bot) -> None:
    answer(bot, ADMIN, f"/event add City Lab start=2026-12-01T10:00 channel=<#{LABS}|labs>")
    listed = answer(bot, ANA, "/event list")
    click = bot.sender.click(ANA, listed, "RSVP", ephemeral=True)
    (reply,) = bot.slack.wait_for_response(click.response_token)
    assert reply.get("replace_original") is True and "You are attending" in words(reply)


def test_a_delivered_broadcast_carries_no_button_to_press(bot: Bot) -> None:
    answer(bot, ADMIN, f"/event broadcast <#{LABS}|labs> Doors open at nine")
    [sent] = bot.slack.wait_for(lambda: bot.slack.messages_in(LABS), what="the broadcast in #labs")
    assert "Doors open at nine" in sent["text"] and buttons(sent) == []


def test_a_button_in_a_persons_dm_replaces_that_message_in_place(bot: Bot) -> None:
    answer(bot, ADMIN, "/city register Brno country=CZ")
    answer(bot, ANA, "/city join Brno")
    (request,) = bot.slack.wait_for_dm(ADMIN)
    click = bot.sender.click(ADMIN, request, "Approve")
    (outcome,) = bot.slack.wait_for_response(click.response_token)
    assert outcome["replace_original"] is True
    (replaced,) = bot.slack.dms_to(ADMIN)  # the request itself now says what became of it, without its buttons
    assert "now represents *Brno*" in words(replaced) and buttons(replaced) == []
