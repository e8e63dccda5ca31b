"""Channels and times in Discord messages, over real HTTP against the fake Discord: a channel a reply names is
Discord's `<#id>`, and a time in a message to a channel is Discord's `<t:unix:F>`, which each reader sees in their
own zone and language; a time in a DM or an ephemeral answer stays text in the reader's zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.discord.render import render
from core.clock import FakeClock
from core.text import ChannelMention, Moment
from handlers.types import Reply
from tests.discord.conftest import ADMIN, ANA, LABS, Bot
from tests.discord.test_discord_http import run, shown


def test_a_channel_reminder_carries_discord_timestamps_and_a_dm_keeps_the_readers_zone(
    bot: Bot, clock: FakeClock
) -> None:
    start = clock.now() + timedelta(hours=2)
    end = start + timedelta(hours=1)
    added = run(
        bot,
        ADMIN,
        "event",
        "add",
        title="City Lab",
        start=f"{start:%Y-%m-%d %H:%M}",
        end=f"{end:%Y-%m-%d %H:%M}",
        tz="UTC",
        remind="1h",
        channel=LABS,
    )
    assert f"Reminders 1h before to <#{LABS}>, and by direct message" in added["content"], added["content"]
    assert run(bot, ANA, "city", "timezone", zone="Asia/Tokyo")["content"].startswith("Times are now")
    assert shown(run(bot, ANA, "event", "rsvp", id=1)).startswith("You are attending")
    clock.advance(timedelta(hours=1, minutes=1))
    bot.services.on_commit[-1]()  # the engine's next wake-up
    [posted] = bot.discord.wait_for(lambda: bot.discord.messages_in(LABS), what="the reminder in #city-labs")
    assert f"<t:{int(start.timestamp())}:F>–<t:{int(end.timestamp())}:t>" in posted["content"], posted["content"]
    assert f"this reminder was due <t:{int((start - timedelta(hours=1)).timestamp())}:F>" in posted["content"]
    assert "UTC" not in posted["content"]  # no fixed zone: each reader sees their own
    [dm] = bot.discord.wait_for(lambda: bot.discord.dms_to(ANA), what="Ana's reminder")
    # The event's own time as typed (UTC), and Ana's beside it (Asia/Tokyo).
    assert "Sun 22 Nov 2026, 11:00–12:00 UTC — 20:00–21:00 your time (JST)" in shown(dm), dm["content"]
    assert "<t:" not in dm["content"]


def test_a_channel_an_organiser_names_is_a_discord_channel_link(bot: Bot) -> None:
    queued = run(bot, ADMIN, "event", "broadcast", channel=LABS, text="Doors open at nine")
    assert queued["content"].startswith(f"Broadcast 1 to <#{LABS}> queued for now."), queued["content"]


def test_a_moment_is_a_discord_timestamp_only_in_a_message_to_a_channel() -> None:
    at = datetime(2027, 1, 7, 14, 0, tzinfo=UTC)
    brussels = ZoneInfo("Europe/Brussels")
    reply = Reply.of(
        "Due {when} in {channel}; `{code}`",
        when=Moment(at, brussels, "F"),
        channel=ChannelMention(f"discord:{LABS}", "city-labs"),
        code=Moment(at, brussels, "f"),
    )
    unix = int(at.timestamp())
    shared = render(reply, custom_id=lambda _b: None, channel=True)
    # Inside a code span a timestamp would show as its markup: there it stays text.
    assert shared.content == f"Due <t:{unix}:F> in <#{LABS}>; `Thu 7 Jan 2027, 15:00 CET`"
    direct = render(reply, custom_id=lambda _b: None)
    assert direct.content == f"Due Thu 7 Jan 2027, 15:00 CET in <#{LABS}>; `Thu 7 Jan 2027, 15:00 CET`"
    days = Moment(at, brussels, "f", end=at + timedelta(days=2))
    spanned = render(Reply.of("{when}", when=days), custom_id=lambda _b: None, channel=True)
    assert spanned.content == f"<t:{unix}:f> – <t:{unix + 2 * 86400}:f>"
