"""People and channels named in typed text appear as Slack shows them: a channel as its `<#C…>` link, a person
as `@name` (a `<@U…>` would notify them each time the text is shown), never our internal `<@slack:U…|name>`."""

from __future__ import annotations

from bot.slack.render import render
from core.grammar import ChannelRef
from handlers.types import Reply
from tests.e2e.conftest import ADMIN, ANA, Bot
from tests.e2e.test_slack_http import answer, words
from tests.support.blockkit import assert_valid_blocks


def test_people_and_channels_typed_into_a_goal_are_shown_as_slack_shows_them(bot: Bot) -> None:
    answer(bot, ADMIN, "/city register Brno country=CZ")
    answer(bot, ANA, "/city join Brno")
    answer(bot, ADMIN, f"/city approve <@{ANA}|ana> Brno")
    added = answer(bot, ANA, "/goal add Plan the lab with <@U0BOB|bob> in <#C0LABS|labs> &lt;!here&gt;")
    assert "Plan the lab with @bob in <#C0LABS> &lt;!here&gt;" in words(added), words(added)
    assert "slack:" not in words(added) and "slack:" not in added["text"]
    assert "<@U0BOB>" not in words(added)  # named, not notified


def test_a_channel_a_reply_names_is_a_link_on_slack_and_a_name_elsewhere() -> None:
    reply = Reply.of("Broadcast to {channel} queued.", channel=ChannelRef("slack:C0LABS", "labs"))
    message = render(reply)
    assert_valid_blocks(message.blocks)
    assert message.blocks[0]["text"]["text"] == "Broadcast to <#C0LABS> queued."
    other = render(Reply.of("Broadcast to {channel} queued.", channel=ChannelRef("discord:1310000000000000300", "l")))
    assert other.blocks[0]["text"]["text"] == "Broadcast to #l queued."
