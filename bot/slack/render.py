"""A neutral `Reply` as Block Kit blocks (plain dicts) plus the fallback text notifications show.

User values are escaped here, and only here: `Text.render(show=...)` hands every value to `show`, which
escapes `&`, `<`, `>` so typed text can never become a ping or a disguised link; a `Mention` is the one
value we turn into `<@U…>` on purpose, a channel value becomes `<#C…>`, and a `Moment` in a message to a channel
becomes Slack's `<!date^…|…>`, shown in each reader's zone. Slack's limits are kept by construction: 50 blocks per
message (100 in a Home tab), 3,000 characters per section, 150 per header, 75 per button label.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from bot.slack.ids import PREFIX, slacks
from bot.slack.markup import escape as escape_mrkdwn
from bot.slack.platform import PLATFORM as SLACK
from core.text import Mention, Moment, Text
from handlers import stored_commands
from handlers.types import Button, Reply, Services

log = logging.getLogger(__name__)

MESSAGE_BLOCKS = 50
HOME_BLOCKS = 100
# What the platform declares (bot/slack/platform.py) is what the renderer keeps to.
SECTION_CHARS = SLACK.limits.message
HEADER_CHARS = 150
BUTTON_CHARS = SLACK.limits.button_label
BUTTON_VALUE_CHARS = SLACK.limits.button_payload
ACTIONS_PER_BLOCK = 25
FALLBACK_CHARS = 3000
WARNING = ":warning: "
ELLIPSIS = "…"

Block = dict[str, Any]
# A person or channel in typed text, as each adapter writes its platform's mentions before the handlers see them
# (`<@slack:U123|ana>`, `<#slack:C123|general>`, `<@discord:80351110224678912>`).
_NEUTRAL_REF = re.compile(r"<([@#])([a-z]{1,16}):([A-Za-z0-9]{1,40})(?:\|([^<>]{0,100}))?>")
_SLACK_CHANNEL = re.compile(r"[CG][A-Z0-9]{1,30}")


@runtime_checkable
class ChannelValue(Protocol):
    """A channel a reply names on purpose (its id carries its platform: `slack:C123`, `discord:123`)."""

    channel_id: str
    name: str


ButtonValue = Callable[[str], "str | None"]  # a button's command -> what its value carries (None: leave it out)


@dataclass(frozen=True)
class Message:
    """What chat.postMessage, respond() and views.publish need: fallback text and blocks."""

    text: str
    blocks: list[Block] = field(default_factory=list)


def show(value: object, *, channel: bool = False) -> str:
    """A user value as safe mrkdwn: a Mention pings the person we meant (a Slack user; anyone else is named), a
    channel value is a link to it, a Moment is Slack's date in a message to a channel (text elsewhere), anything
    else is shown as typed."""
    if isinstance(value, Mention):
        slack_id = slacks(value.user_id)
        return f"<@{slack_id}>" if slack_id else escape_mrkdwn(f"@{value.name}")
    if isinstance(value, ChannelValue) and not isinstance(value, str):
        return channel_link(value.channel_id, value.name)
    if isinstance(value, Moment) and channel:
        return slack_dates(value)
    return typed_text(str(value))


# Slack's date tokens for a Moment's style: with the weekday (`Thursday, January 7th, 2027 3:00 PM`, or `today`)
# or without; the end of a span on the same day is its time alone.
_DATE_TOKENS = {"F": "{date_long_pretty} {time}", "f": "{date_pretty} {time}"}
_SPAN_DASH = "–"  # core.dates writes a span's two ends around it (with spaces when they are on different days)


def slack_dates(moment: Moment) -> str:
    """`<!date^unix^tokens|fallback>`: each reader sees the time in their own zone; the fallback is the text in the
    moment's zone (clients that cannot format dates show it). A span is two dates, its end a time alone when it
    ends the day it starts."""
    text = str(moment)
    tokens = _DATE_TOKENS[moment.style]
    if moment.end is None:
        return _slack_date(moment.instant, tokens, text)
    first, dash, last = text.partition(_SPAN_DASH)
    joiner = dash if moment.same_day else f" {dash} "
    end_tokens = "{time}" if moment.same_day else tokens
    return (
        _slack_date(moment.instant, tokens, first.strip()) + joiner + _slack_date(moment.end, end_tokens, last.strip())
    )


def _slack_date(instant: datetime, tokens: str, fallback: str) -> str:
    return f"<!date^{int(instant.timestamp())}^{tokens}|{escape_mrkdwn(fallback)}>"


def channel_link(channel_id: str, name: str) -> str:
    """`<#C123>`, which Slack shows as the channel's name and a link; another platform's channel by name."""
    slack_id = slacks(channel_id)
    if slack_id is not None and _SLACK_CHANNEL.fullmatch(slack_id):
        return f"<#{slack_id}>"
    return escape_mrkdwn(f"#{name or channel_id.rsplit(':', 1)[-1]}")


def typed_text(value: str) -> str:
    """What a person typed, escaped, with the channels it names as Slack's links (`<#C123>`) and the people as
    `@name`: in Slack a `<@U…>` in a message notifies that person, and typed text pings nobody."""
    out: list[str] = []
    end = 0
    for found in _NEUTRAL_REF.finditer(value):
        out.append(escape_mrkdwn(value[end : found.start()]))
        sigil, platform, identifier, name = found.groups()
        if sigil == "#" and platform + ":" == PREFIX and _SLACK_CHANNEL.fullmatch(identifier):
            out.append(f"<#{identifier}>")
        else:
            out.append(escape_mrkdwn(f"{sigil}{name or identifier}"))
        end = found.end()
    out.append(escape_mrkdwn(value[end:]))
    return "".join(out)


def render_text(text: Text, *, channel: bool = False) -> str:
    return text.render(lambda value: show(value, channel=channel))


def render(
    reply: Reply, *, max_blocks: int = MESSAGE_BLOCKS, value: ButtonValue | None = None, channel: bool = False
) -> Message:
    """Blocks for `reply`, never more than `max_blocks`; the rest is summed up in a closing context block.

    `channel`: the message goes to a channel, where people in many zones read it: its Moments are Slack's dates,
    shown in each reader's zone. In a DM or an answer to one person they stay text in that person's zone.

    `value` gives what a button carries for its command within Slack's 2,000 characters (the adapter's stores a
    longer one server-side, see handlers.stored_commands); without it a button whose command is longer is left
    out, since a truncated command would run something else than the button says."""
    head: list[Block] = [header_block(reply.title)] if reply.title else []
    action_ids = (f"cmd-{n}" for n in itertools.count())
    parts = [_section_part(reply, index, action_ids, value or _inline, channel) for index in range(len(reply.sections))]
    if reply.error and not parts:
        parts.append(_Part(chunks=[WARNING.strip()], actions=[]))
    return Message(text=fallback_text(reply), blocks=head + _fit(parts, max_blocks - len(head)))


def fallback_text(reply: Reply) -> str:
    """The notification and screen-reader text: plain, escaped, cut at a line near FALLBACK_CHARS."""
    plain = reply.plain()
    if len(plain) > FALLBACK_CHARS:
        cut = plain.rfind("\n", 0, FALLBACK_CHARS)
        plain = plain[: cut if cut > 0 else FALLBACK_CHARS].rstrip() + ELLIPSIS
    text = typed_text(plain)
    return WARNING + text if reply.error else text


def header_block(title: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": _clip(title, HEADER_CHARS), "emoji": True}}


def section_block(mrkdwn: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}}


def context_block(mrkdwn: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": mrkdwn}]}


def button_element(button: Button, action_id: str, value: str) -> Block:
    element: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": _clip(button.label, BUTTON_CHARS), "emoji": True},
        "action_id": action_id,
        "value": value,
    }
    if button.style in ("primary", "danger"):
        element["style"] = button.style
    return element


def split_text(text: str, limit: int = SECTION_CHARS) -> list[str]:
    """Chunks of at most `limit` characters, cut between lines (inside a line only when it alone is too long)."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            cut = _safe_cut(line, limit)
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:cut].rstrip())
            line = line[cut:].lstrip(" ")
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            candidate = line
        current = candidate
    if current.strip():
        chunks.append(current)
    return [chunk for chunk in chunks if chunk.strip()]


# --- internals ---------------------------------------------------------------------------------------


@dataclass
class _Part:
    """One section's blocks-to-be: its text chunks, then its actions blocks."""

    chunks: list[str]
    actions: list[Block]

    def blocks(self) -> list[Block]:
        return [section_block(chunk) for chunk in self.chunks] + self.actions


def _section_part(
    reply: Reply, index: int, action_ids: Iterator[str], value: ButtonValue, channel: bool = False
) -> _Part:
    section = reply.sections[index]
    body = render_text(section.text, channel=channel)
    if reply.error and index == 0:
        body = WARNING + body
    buttons = [(button, carried) for button in section.buttons if (carried := value(button.command)) is not None]
    # A button with a form opens a modal that asks for the rest of its command (see bot/slack/forms.py).
    elements = [
        button_element(button, f"form-{button.form}-{next(action_ids)}" if button.form else next(action_ids), carried)
        for button, carried in buttons
    ]
    actions = [
        {"type": "actions", "elements": elements[i : i + ACTIONS_PER_BLOCK]}
        for i in range(0, len(elements), ACTIONS_PER_BLOCK)
    ]
    return _Part(chunks=split_text(body), actions=actions)


def _fit(parts: list[_Part], budget: int) -> list[Block]:
    """Every part if they fit; else whole parts, then what fits of the next, then "…and N more"."""
    if sum(len(part.blocks()) for part in parts) <= budget:
        return [block for part in parts for block in part.blocks()]
    room = budget - 1  # keep one block for the closing line
    blocks: list[Block] = []
    more = 0
    for index, part in enumerate(parts):
        if len(part.blocks()) <= room:
            blocks.extend(part.blocks())
            room -= len(part.blocks())
            continue
        # A long list cut in its middle counts the lines left out; whole sections count one each.
        shown = part.chunks[:room]
        blocks.extend(section_block(chunk) for chunk in shown)
        lines_left = sum(chunk.count("\n") + 1 for chunk in part.chunks[len(shown) :])
        more = (max(1, lines_left) if shown else 1) + len(parts) - index - 1
        break
    blocks.append(context_block(f"{ELLIPSIS}and {more} more"))
    return blocks


def _inline(command: str) -> str | None:
    if len(command) <= BUTTON_VALUE_CHARS:
        return command
    log.warning("button dropped: its command is longer than %d characters", BUTTON_VALUE_CHARS)
    return None


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split()) or ELLIPSIS
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS


def _safe_cut(line: str, limit: int) -> int:
    """Where to cut an over-long line: at a space if one is near, never inside `&amp;`, `<@U…>` or `<!date^…>`."""
    cut = line.rfind(" ", limit // 2, limit)
    if cut <= 0:
        cut = limit
    for opener, closer, reach in (("&", ";", 8), ("<", ">", 128)):  # 128: a `<!date^…|…>` is up to ~100
        start = line.rfind(opener, max(0, cut - reach), cut)
        if start > 0 and line.find(closer, start, cut) < 0:
            cut = start
    return cut


def stored_value(services: Services) -> ButtonValue:
    """Button values that keep a command over Slack's 2,000 characters server-side instead of leaving it out."""
    return lambda command: stored_commands.payload(services, command, BUTTON_VALUE_CHARS)
