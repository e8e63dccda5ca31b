"""Channels and times in Slack messages, over real HTTP against the fake Slack: a channel a reply names is Slack's
`<#C…>` link, and a time in a message to a channel is Slack's `<!date^…|…>`, which each reader sees in their own
zone; a time in a DM or an ephemeral answer stays text in the reader's zone, as the reader chose it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.slack.render import render
from core.clock import FakeClock
from core.text import ChannelMention, Moment
from handlers.types import Reply
from tests.e2e.conftest import ADMIN, ANA, Bot
from tests.e2e.test_slack_http import answer, words
from tests.support.blockkit import assert_valid_blocks

LABS = "C0LABS"
UTC_ZONE = ZoneInfo("UTC")


def event_in_labs(bot: Bot, clock: FakeClock) -> tuple[datetime, datetime]:
    """City Lab in #labs (UTC), two hours ahead for an hour, reminded an hour before; Ana (Prague) attends."""
    start = clock.now() + timedelta(hours=2)
    end = start + timedelta(hours=1)
    added = answer(
        bot,
        ADMIN,
        f'/event add City Lab start="{start:%Y-%m-%d %H:%M}" end="{end:%Y-%m-%d %H:%M}" tz=UTC remind=1h '
        f"channel=<#{LABS}|labs>",
    )
    assert "Reminders 1h before to <#C0LABS>, and by direct message" in words(added), words(added)
    assert "Reminders 1h before to #labs, and by direct message" in added["text"]  # the fallback stays plain
    assert words(answer(bot, ANA, "/event rsvp 1")).startswith("You are attending")
    return start, end


def test_a_channel_reminder_shows_its_time_as_slack_dates_and_a_dm_keeps_the_readers_zone(
    bot: Bot, clock: FakeClock
) -> None:
    start, end = event_in_labs(bot, clock)
    clock.advance(timedelta(hours=1, minutes=1))
    bot.delivery.run_due()
    [posted] = bot.slack.wait_for(lambda: bot.slack.messages_in(LABS), what="the reminder in #labs")
    shown = words(posted)
    first, last = int(start.timestamp()), int(end.timestamp())
    span = f"<!date^{first}^{{date_long_pretty}} {{time}}|Sun 22 Nov 2026, 11:00>–<!date^{last}^{{time}}|12:00 UTC>"
    assert span in shown, shown
    # A minute late (the clock jumped past it): when it was due is a date too.
    due = int((start - timedelta(hours=1)).timestamp())
    assert (
        f"_Sent late: this reminder was due <!date^{due}^{{date_long_pretty}} {{time}}|Sun 22 Nov 2026, 10:00 UTC>._"
        in shown
    )
    assert "City Lab" in shown, shown
    assert re.search(r"<!date\^\d+\^[^|>]+\|[^>]+>", shown)
    # Notifications and screen readers get the fallback: the plain text in the event's zone.
    assert "Sun 22 Nov 2026, 11:00–12:00 UTC" in posted["text"] and "<!date" not in posted["text"]
    assert_valid_blocks(posted["blocks"])
    [dm] = bot.slack.wait_for_dm(ANA)
    # The event's own time as typed (UTC), and Ana's beside it (Europe/Prague).
    assert "Sun 22 Nov 2026, 11:00–12:00 UTC — 12:00–13:00 your time (CET)" in words(dm), words(dm)
    assert "<!date" not in words(dm) and "<!date" not in dm["text"]


def test_a_channel_an_organiser_names_is_a_slack_channel_link(bot: Bot) -> None:
    queued = answer(bot, ADMIN, f"/event broadcast <#{LABS}|labs> Doors open at nine")
    assert words(queued).startswith("Broadcast 1 to <#C0LABS> queued for now."), words(queued)
    assert queued["text"].startswith("Broadcast 1 to #labs queued for now.")
    bot.slack.wait_for(lambda: bot.slack.messages_in(LABS), what="the broadcast in #labs")
    bot.delivery.run_due()
    [report] = bot.slack.wait_for_dm(ADMIN)
    assert words(report) == "Broadcast to <#C0LABS>: 1 sent (0 late), 0 failed, 0 missed.", words(report)
    assert report["text"] == "Broadcast to #labs: 1 sent (0 late), 0 failed, 0 missed."


def test_a_failed_channel_delivery_names_the_channel_as_a_link_to_the_organiser(bot: Bot, clock: FakeClock) -> None:
    bot.slack.fail_next("chat.postMessage", error="not_in_channel")
    answer(bot, ADMIN, f"/event broadcast <#{LABS}|labs> Doors open at nine")
    bot.delivery.run_due()
    [summary] = bot.slack.wait_for_dm(ADMIN)
    assert words(summary) == "Broadcast to <#C0LABS>: 0 sent (0 late), 1 failed, 0 missed. Reasons: not_in_channel."
    start = clock.now() + timedelta(hours=2)
    answer(bot, ADMIN, f'/event add City Lab start="{start:%Y-%m-%d %H:%M}" tz=UTC remind=1h channel=<#{LABS}|labs>')
    bot.slack.fail_next("chat.postMessage", error="not_in_channel")
    clock.advance(timedelta(hours=1, minutes=1))
    bot.delivery.run_due()
    bot.delivery.run_due()
    [_, failed] = bot.slack.wait_for_dm(ADMIN, 2)
    assert words(failed) == "Could not deliver to <#C0LABS>: not_in_channel. It will not be retried.", words(failed)
    assert failed["text"] == "Could not deliver to #labs: not_in_channel. It will not be retried."


def test_a_moment_is_a_slack_date_only_in_a_message_to_a_channel() -> None:
    at = datetime(2027, 1, 7, 14, 0, tzinfo=UTC)
    reply = Reply.of(
        "Due {when} in {channel}",
        when=Moment(at, ZoneInfo("Europe/Brussels"), "F"),
        channel=ChannelMention("slack:C0LABS", "labs"),
    )
    shared = render(reply, channel=True)
    assert_valid_blocks(shared.blocks)
    unix = int(at.timestamp())
    expected = f"Due <!date^{unix}^{{date_long_pretty}} {{time}}|Thu 7 Jan 2027, 15:00 CET> in <#C0LABS>"
    assert shared.blocks[0]["text"]["text"] == expected
    assert render(reply).blocks[0]["text"]["text"] == "Due Thu 7 Jan 2027, 15:00 CET in <#C0LABS>"
    assert shared.text == render(reply).text == "Due Thu 7 Jan 2027, 15:00 CET in #labs"
    short = render(Reply.of("{when}", when=Moment(at, UTC_ZONE, "f")), channel=True)
    assert short.blocks[0]["text"]["text"] == f"<!date^{unix}^{{date_pretty}} {{time}}|Thu 7 Jan 2027, 14:00 UTC>"
