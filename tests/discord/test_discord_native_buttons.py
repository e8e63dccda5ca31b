"""Buttons on a message everyone in a channel sees answer the person who pressed them alone, as Discord people
expect: a new ephemeral reply (deferred with flags 64, then edited in), never an edit of the shared message.
Only a person's own message (an ephemeral one, or one in their DM with the bot) is updated in place."""

from __future__ import annotations

from datetime import timedelta

from core.clock import FakeClock
from tests.discord.conftest import ADMIN, ANA, BOB, LABS, Bot
from tests.discord.test_discord_http import run
from tests.support.discord import EPHEMERAL, LOADING


def channel_reminder(bot: Bot, clock: FakeClock) -> dict:
    """A real channel reminder, as the delivery engine posts it into #city-labs."""
    start = clock.now() + timedelta(hours=2)
    when = start.strftime("%Y-%m-%d %H:%M")
    run(bot, ADMIN, "event", "add", title="City Lab", start=when, tz="UTC", remind="1h", channel=LABS)
    clock.advance(timedelta(hours=1, minutes=1))
    bot.services.on_commit[-1]()  # the engine's next wake-up
    [reminder] = bot.discord.wait_for(lambda: bot.discord.messages_in(LABS), what="the reminder in #city-labs")
    assert "City Lab" in reminder["content"] and reminder["components"], reminder
    return reminder


def labels(message: dict) -> list[str]:
    return [b["label"] for row in message.get("components", []) for b in row.get("components", [])]


def own_answer(bot: Bot, token: str) -> dict:
    """The presser's own reply: a new ephemeral message, once the bot has edited its deferred answer."""
    return bot.discord.wait_for(
        lambda: (m := bot.discord.original(token)) and not m.get("flags", 0) & LOADING and m,
        what="the presser's own answer",
    )


def test_every_button_of_a_channel_reminder_answers_each_presser_alone(bot: Bot, clock: FakeClock) -> None:
    reminder = channel_reminder(bot, clock)
    buttons = labels(reminder)
    assert buttons == ["RSVP", "Add to calendar"]
    said: dict[tuple[str, str], str] = {}
    for who in (ANA, BOB):  # two people press every button
        for label in buttons:
            pressed = bot.interactions.click(who, reminder, label=label)
            assert pressed.body == {"type": 5, "data": {"flags": EPHEMERAL}}, (label, pressed.body)
            answer = own_answer(bot, pressed.token)
            assert answer["flags"] & EPHEMERAL and answer["id"] != reminder["id"], (label, answer)
            said[who, label] = answer["content"]
            if label == "Add to calendar":
                [(name, content)] = bot.discord.interaction_files(pressed.token)
                assert name == "citypeers-event-1.ics" and b"BEGIN:VEVENT" in content
    assert said[ANA, "RSVP"].startswith("You are attending **City Lab**") and said[BOB, "RSVP"] == said[ANA, "RSVP"]
    # The channel's message is as the engine posted it: nobody's answer replaced it.
    assert bot.discord.messages_in(LABS) == [reminder]
    assert not bot.discord.calls("PATCH /channels/{channel_id}/messages/{message_id}")


def test_a_refused_press_on_a_channel_message_is_told_to_the_presser_alone(bot: Bot, clock: FakeClock) -> None:
    reminder = channel_reminder(bot, clock)
    first = bot.interactions.click(ANA, reminder, label="RSVP")
    assert "You are attending" in own_answer(bot, first.token)["content"]
    again = bot.interactions.click(ANA, reminder, label="RSVP")
    assert again.body == {"type": 5, "data": {"flags": EPHEMERAL}}
    assert "already attending" in own_answer(bot, again.token)["content"]
    assert bot.discord.messages_in(LABS) == [reminder]


def test_a_button_on_a_persons_own_ephemeral_reply_still_updates_it_in_place(bot: Bot) -> None:
    run(bot, ADMIN, "event", "add", title="City Lab", start="2026-12-01 10:00", channel=LABS)
    listed = run(bot, ANA, "event", "list")
    assert listed["flags"] & EPHEMERAL and "RSVP" in labels(listed)
    pressed = bot.interactions.click(ANA, listed, label="RSVP")
    assert pressed.body == {"type": 6}  # the person's own message: replaced by the outcome


def test_a_delivered_broadcast_carries_no_button_to_press(bot: Bot) -> None:
    run(bot, ADMIN, "event", "broadcast", channel=LABS, text="Doors open at nine")
    [sent] = bot.discord.wait_for(lambda: bot.discord.messages_in(LABS), what="the broadcast in #city-labs")
    assert "Doors open at nine" in sent["content"] and labels(sent) == []
