"""People and channels appear as Discord shows them: `<@id>` and `<#id>` (a name and a link), never our internal
`<@discord:id>` nor an escaped `\\#city\\-labs`; named in typed text they still ping nobody."""

from __future__ import annotations

from bot.discord.render import render, render_text
from core.grammar import ChannelRef
from core.text import Mention, Text
from handlers.types import Reply
from tests.discord.conftest import ADMIN, ANA, BOB, LABS, Bot
from tests.discord.test_discord_http import run


def no_buttons(_button: object) -> None:
    return None


def test_people_and_channels_typed_into_a_goal_are_shown_as_discord_shows_them(bot: Bot) -> None:
    run(bot, ADMIN, "city", "register", name="Brno", country="CZ")
    run(bot, ANA, "city", "join", name="Brno")
    run(bot, ADMIN, "city", "approve", user=ANA, name="Brno")
    added = run(bot, ANA, "goal", "add", text=f"Plan the lab with <@{BOB}> in <#{LABS}> (<@!{BOB}>)")
    assert f"Plan the lab with <@{BOB}> in <#{LABS}> \\(<@{BOB}>\\)" in added["content"], added["content"]
    assert "discord:" not in added["content"]
    assert added["allowed_mentions"] == {"parse": [], "users": []}  # shown, and nobody pinged
    listed = run(bot, ANA, "goal", "list")
    assert f"<@{BOB}> in <#{LABS}>" in listed["content"]


def test_a_channel_a_reply_names_is_a_link_on_discord_and_a_name_elsewhere() -> None:
    reply = Reply.of("Broadcast to {channel} queued.", channel=ChannelRef(f"discord:{LABS}", "city-labs"))
    assert render(reply, custom_id=no_buttons).content == f"Broadcast to <#{LABS}> queued."
    other = Reply.of("Broadcast to {channel} queued.", channel=ChannelRef("slack:C0LABS", "city-labs"))
    assert render(other, custom_id=no_buttons).content == "Broadcast to \\#city\\-labs queued."


def test_references_from_another_platform_or_inside_code_are_names() -> None:
    text = Text("{a} `{b}`", a="ask <@slack:U0ANA|ana> in <#slack:C0LABS|labs>", b="<@discord:12345678>")
    shown = render_text(text, lambda m: f"<@{m.user_id}>")
    assert shown == "ask \\@ana in \\#labs `@12345678`"
    forged = Text("{a}", a="<@discord:&123> <@&123> <@discord:1 2>")  # not a person: shown as typed
    assert render_text(forged, lambda m: "") == "\\<\\@discord:&123\\> \\<\\@&123\\> \\<\\@discord:1 2\\>"
    assert render_text(Text("{m}", m=Mention(f"discord:{ANA}", "ana")), lambda m: "X") == "X"
