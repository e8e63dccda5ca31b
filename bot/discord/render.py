"""A neutral `Reply` as a Discord message: Markdown content, buttons in action rows, and `allowed_mentions`.

User values are escaped here, and only here: every Markdown character a person typed is shown, never applied,
and `allowed_mentions` lets a message ping only the people a reply names on purpose (`Mention`s) — never
`@everyone`, `@here` or a role, whatever was typed into a goal or an offer. People and channels are shown as
Discord shows them (`<@id>`, `<#id>`): those a reply names on purpose, and those named in typed text (which never
ping), and times in a message to a channel as Discord's timestamps (`<t:unix:F>`), each reader's own. Discord's
limits are kept by construction: 2,000 characters of content, 5 action rows of 5 buttons,
80-character labels, 100-character custom ids (a longer button command is stored and the button carries its
short id).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from bot.discord.platform import PLATFORM as DISCORD
from core.text import Mention, Moment, Text
from handlers.types import Button, Reply

# What the platform declares (bot/discord/platform.py) is what the renderer keeps to.
CONTENT_CHARS = DISCORD.limits.message
ROWS = 5
BUTTONS_PER_ROW = 5
LABEL_CHARS = DISCORD.limits.button_label
CUSTOM_ID_CHARS = DISCORD.limits.button_payload
WARNING = "⚠️ "
ELLIPSIS = "…"
# Every ASCII punctuation character Discord's Markdown could act on; a backslash before one shows it as typed.
_MARKDOWN = frozenset("\\*_~`|>#-[]()<@")
PLATFORM = "discord:"
EPHEMERAL = 64

# What a button's custom_id says: `c:<command>` when the command fits, `s:<id>` for a stored one,
# `f:<form>:<command or s:id>` for a button that opens a form first.
COMMAND, FORM = "c:", "f:"  # and stored commands' "s:" (handlers.stored_commands)

Component = dict[str, Any]
# A person or channel written in typed text the neutral way (`<@discord:80351110224678912>`,
# `<#slack:C123|general>`): each adapter writes its platform's mentions so before the handlers see them.
NEUTRAL_REF = re.compile(r"<([@#])([a-z]{1,16}):([A-Za-z0-9]{1,40})(?:\|([^<>]{0,100}))?>")


@runtime_checkable
class ChannelValue(Protocol):
    """A channel a reply names on purpose (its id carries its platform: `discord:123`, `slack:C123`)."""

    channel_id: str
    name: str


def escape_markdown(value: str) -> str:
    return "".join(f"\\{ch}" if ch in _MARKDOWN else ch for ch in value)


def discord_id(external_id: str) -> str | None:
    """The Discord snowflake of one of our ids (`discord:123` -> `123`); None for another platform's."""
    return external_id[len(PLATFORM) :] if external_id.startswith(PLATFORM) else None


@dataclass
class Message:
    """What POST /channels/{id}/messages and the interaction webhooks take (files aside)."""

    content: str
    components: list[Component] = field(default_factory=list)
    mentioned: list[str] = field(default_factory=list)  # snowflakes of the people named on purpose

    def payload(self, *, ephemeral: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {
            "content": self.content,
            "components": self.components,
            # Absent, Discord would let users, roles AND @everyone ping: only the people we name may.
            "allowed_mentions": {"parse": [], "users": self.mentioned[:100]},
        }
        if ephemeral:
            body["flags"] = EPHEMERAL
        return body


def render(reply: Reply, *, custom_id: Callable[[Button], str | None], channel: bool = False) -> Message:
    """The message for `reply`; `custom_id` gives a button's id (None leaves the button out). `channel`: the
    message goes to a channel, where people in many zones read it: its Moments are Discord's timestamps, shown in
    each reader's zone and language. In a DM or an answer to one person they stay text in that person's zone."""
    mentioned: list[str] = []

    def mention(value: Mention) -> str:
        snowflake = discord_id(value.user_id)
        if snowflake is None:
            return escape_markdown(f"@{value.name}")
        mentioned.append(snowflake)
        return f"<@{snowflake}>"

    lines = [f"**{escape_markdown(reply.title)}**"] if reply.title else []
    lines.extend(render_text(section.text, mention, channel=channel) for section in reply.sections)
    content = "\n".join(lines)
    if reply.error:
        content = WARNING + content
    rows: list[Component] = []
    for section in reply.sections:
        buttons = [b for b in (_button(button, custom_id) for button in section.buttons) if b is not None]
        for start in range(0, len(buttons), BUTTONS_PER_ROW):
            if len(rows) < ROWS:
                rows.append({"type": 1, "components": buttons[start : start + BUTTONS_PER_ROW]})
    return Message(content=_clip(content or ELLIPSIS), components=rows, mentioned=list(dict.fromkeys(mentioned)))


def render_text(text: Text, mention: Callable[[Mention], str], *, channel: bool = False) -> str:
    """Our template markup (Slack-style `*bold*`) as Discord's (`**bold**`), user values escaped: with
    backslashes in text, and inside a `code span` (where backslashes would show) by keeping out backticks.
    `channel`: Moments are Discord's timestamps (outside code spans, where they would show as markup)."""
    in_code = False

    def markup(literal: str) -> str:
        nonlocal in_code
        in_code ^= literal.count("`") % 2 == 1
        return literal.replace("*", "**")

    def show(value: object) -> str:
        if isinstance(value, Mention):
            return mention(value)
        if isinstance(value, ChannelValue) and not isinstance(value, str):
            return channel_link(value.channel_id, value.name, in_code=in_code)
        if isinstance(value, Moment) and channel and not in_code:
            return timestamps(value)
        if in_code:
            return NEUTRAL_REF.sub(lambda m: f"{m[1]}{m[4] or m[3]}", str(value)).replace("`", "ˋ")
        return typed_text(str(value))

    return text.render(show, markup)


def channel_link(channel_id: str, name: str, *, in_code: bool = False) -> str:
    """`<#id>`, which Discord shows as the channel's name and a link to it; another platform's channel by name."""
    snowflake = discord_id(channel_id)
    if snowflake is not None and snowflake.isdecimal() and not in_code:
        return f"<#{snowflake}>"
    shown = f"#{name or channel_id.rsplit(':', 1)[-1]}"
    return shown.replace("`", "ˋ") if in_code else escape_markdown(shown)


def timestamps(moment: Moment) -> str:
    """`<t:unix:F>`, which Discord shows in each reader's zone and language; a span is two, its end a time alone
    (`t`) when it ends the day it starts."""
    start = f"<t:{int(moment.instant.timestamp())}:{moment.style}>"
    if moment.end is None:
        return start
    end = int(moment.end.timestamp())
    return f"{start}–<t:{end}:t>" if moment.same_day else f"{start} – <t:{end}:{moment.style}>"


def typed_text(value: str) -> str:
    """What a person typed, escaped, with the people and channels it names shown as Discord shows them: `<@id>`
    and `<#id>` for Discord's (a name, never a ping: `allowed_mentions` lists only the people a reply means),
    `@name` and `#name` for another platform's."""
    out: list[str] = []
    end = 0
    for found in NEUTRAL_REF.finditer(value):
        out.append(escape_markdown(value[end : found.start()]))
        sigil, platform, identifier, name = found.groups()
        if platform + ":" == PLATFORM and identifier.isdecimal():
            out.append(f"<{sigil}{identifier}>")
        else:
            out.append(escape_markdown(f"{sigil}{name or identifier}"))
        end = found.end()
    out.append(escape_markdown(value[end:]))
    return "".join(out)


def _button(button: Button, custom_id: Callable[[Button], str | None]) -> Component | None:
    identifier = custom_id(button)
    if identifier is None:
        return None
    style = {"primary": 1, "danger": 4}.get(button.style or "", 2)
    label = " ".join(button.label.split()) or ELLIPSIS
    if len(label) > LABEL_CHARS:
        label = label[: LABEL_CHARS - 1] + ELLIPSIS
    return {"type": 2, "style": style, "label": label, "custom_id": identifier}


def _clip(content: str) -> str:
    """At most 2,000 characters, cut at a line when one is near, never inside an escape or a mention."""
    if len(content) <= CONTENT_CHARS:
        return content
    limit = CONTENT_CHARS - len(ELLIPSIS)
    cut = content.rfind("\n", limit // 2, limit)
    if cut <= 0:
        cut = limit
        while cut > 0 and content[cut - 1] == "\\":
            cut -= 1
        opener = content.rfind("<", max(0, cut - 32), cut)
        if opener >= 0 and content.find(">", opener, cut) < 0:
            cut = opener
    return content[:cut].rstrip() + ELLIPSIS
