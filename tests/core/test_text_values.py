"""Values a reply names on purpose — a channel, a moment in time — keep what they are until an adapter renders
them: plain text (the console, logs, fallbacks) shows them as today, and a reply stored as JSON in the delivery
ledger comes back with the same values."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.console import render_reply
from core.dates import format_instant, format_span
from core.text import ChannelMention, Mention, Moment, Text
from handlers.types import Button, Reply, reply_from_dict, reply_to_dict

CET = ZoneInfo("Europe/Brussels")
START = datetime(2027, 1, 7, 14, 0, tzinfo=UTC)
END = datetime(2027, 1, 7, 15, 0, tzinfo=UTC)


def stored(reply: Reply) -> Reply:
    """Through the ledger's body column and back."""
    return reply_from_dict(json.loads(json.dumps(reply_to_dict(reply))))


def test_a_channel_mention_reads_as_its_name_in_plain_text_and_the_console() -> None:
    labs = ChannelMention("slack:C0LABS", "city-labs")
    assert str(labs) == "#city-labs"
    reply = Reply.of("Broadcast {id} to {channel} queued for {when}.", id=1, channel=labs, when="now")
    assert reply.plain() == "Broadcast 1 to #city-labs queued for now."
    assert render_reply(reply) == "Broadcast 1 to #city-labs queued for now."
    typed = ChannelMention("general", "general")  # a console channel: its id is its name
    assert Text("to {channel}", channel=typed).plain() == "to #general"


def test_a_moment_reads_as_the_text_times_have_always_had() -> None:
    assert str(Moment(START, CET, "F")) == format_instant(START, CET) == "Thu 7 Jan 2027, 15:00 CET"
    span = Moment(START, CET, "F", end=END)
    assert str(span) == format_span(START, END, CET) == "Thu 7 Jan 2027, 15:00–16:00 CET"
    assert span.same_day
    days = Moment(START, CET, "F", end=datetime(2027, 1, 9, 15, 0, tzinfo=UTC))
    assert str(days) == "Thu 7 Jan 2027 15:00 – Sat 9 Jan 2027 16:00 CET" and not days.same_day
    reply = Reply.of("⏰ *{title}* in 1 hour: {when}", title="City Lab", when=span)
    assert render_reply(reply) == "⏰ City Lab in 1 hour: Thu 7 Jan 2027, 15:00–16:00 CET"


def test_a_stored_reply_keeps_its_channels_moments_and_mentions() -> None:
    labs = ChannelMention("discord:1310000000000000300", "city-labs")
    when = Moment(START, CET, "F", end=END)
    reply = Reply.of(
        "{who} to {channel} at {when}: {text}",
        who=Mention("slack:U0ANA", "ana"),
        channel=labs,
        when=when,
        text="#not-a-channel",
    )
    reply.sections[0].buttons = [Button("RSVP", "/event rsvp 1", "primary")]
    back = stored(reply)
    values = back.sections[0].text.values
    assert values == {"who": Mention("slack:U0ANA", "ana"), "channel": labs, "when": when, "text": "#not-a-channel"}
    assert isinstance(values["channel"], ChannelMention) and isinstance(values["when"], Moment)
    assert values["when"].instant == START and values["when"].zone == CET
    assert back.plain() == reply.plain() == "@ana to #city-labs at Thu 7 Jan 2027, 15:00–16:00 CET: #not-a-channel"


def test_rows_stored_before_channel_values_still_load() -> None:
    old = {
        "title": None,
        "error": False,
        "sections": [
            {
                "template": "{who} to {channel}",
                "values": {"who": {"mention": ["slack:U0ANA", "ana"]}, "channel": "#general"},
                "buttons": [["RSVP", "/event rsvp 1", "primary", None]],
            }
        ],
    }
    reply = reply_from_dict(old)
    assert reply.plain() == "@ana to #general"
    assert reply.sections[0].text.values["channel"] == "#general"
