"""A neutral `Reply` as a Matrix message: HTML in `org.matrix.custom.html`, a plain `body`, and `m.mentions`.

User values are escaped here, and only here: HTML a person typed is shown, never applied. `m.mentions` (intentional
mentions, spec 1.7) lists exactly the people a reply names on purpose (`Mention`s) and never `room`, so `@room` or
a name typed into a goal notifies nobody. Every message is `m.text` (an `m.notice` is muted by the default push
rules, and our messages are meant to be read). Times are text with their zone (Matrix has no native timestamps).

Matrix has no buttons: each button is shown as the command to type (`!city approve @bruno:example.org Brno`), and
the first primary and the first danger button of a message are offered as reactions too (✅, ❌), which the bot puts
on its own message; whoever reacts runs the command as themselves (bot/matrix/bot.py).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.text import ChannelMention, Mention, Text
from handlers.types import Button, Reply

PREFIX = "matrix:"
WARNING = "⚠️ "
COMMAND_MARK = "!"  # `!city …` where the contract says `/city …`
REACTIONS = {"primary": "✅", "danger": "❌"}
# A person or channel written in typed text the neutral way (`<@matrix:@ana:example.org|Ana>`, `<#slack:C1|x>`).
NEUTRAL_REF = re.compile(r"<([@#])([a-z]{1,16}):([^|<>\s]{1,300})(?:\|([^<>]{0,100}))?>")
_BOLD_ITALIC = re.compile(r"\*|(?:^|(?<=[\s(]))_|_(?=$|[\s).,:;!?])")
MATRIX_TO = "https://matrix.to/#/"


def escape_html(value: str) -> str:
    return html.escape(value, quote=True)


def matrix_id(external_id: str) -> str | None:
    """The Matrix id of one of our ids (`matrix:@ana:example.org` -> `@ana:example.org`); None for another's."""
    return external_id[len(PREFIX) :] if external_id.startswith(PREFIX) else None


@dataclass
class Message:
    body: str
    html: str
    mentions: list[str] = field(default_factory=list)
    reactions: dict[str, str] = field(default_factory=dict)  # emoji -> the command line it runs (neutral, `/`)
    place_reactions: bool = True  # the bot puts them on its message (else the text says which to react with)

    def content(self, *, thread_of: str | None = None, reply_to: str | None = None) -> dict[str, Any]:
        """The event content of an `m.room.message`; `thread_of`: the root of the thread it goes in (a command, or the
        root of the thread the command was typed in), `reply_to` the event it answers (the root when not said)."""
        content: dict[str, Any] = {
            "msgtype": "m.text",
            "body": self.body,
            "format": "org.matrix.custom.html",
            "formatted_body": self.html,
            "m.mentions": {"user_ids": self.mentions},
        }
        if thread_of:
            content["m.relates_to"] = {
                "rel_type": "m.thread",
                "event_id": thread_of,
                "is_falling_back": True,
                "m.in_reply_to": {"event_id": reply_to or thread_of},
            }
        return content


def typed_form(command: str) -> str:
    """A button's command as a person types it in Matrix: `!` for `/`, people as their Matrix ids."""

    def person(found: re.Match[str]) -> str:
        sigil, platform, identifier, name = found.groups()
        if platform + ":" == PREFIX:
            return identifier
        return f"{sigil}{name or identifier}"

    line = NEUTRAL_REF.sub(person, command.strip())
    return COMMAND_MARK + line[1:] if line.startswith("/") else line


def render(reply: Reply) -> Message:
    mentioned: list[str] = []
    html_lines: list[str] = []
    plain_lines: list[str] = []
    if reply.title:
        html_lines.append(f"<strong>{escape_html(reply.title)}</strong>")
        plain_lines.append(reply.title)
    for section in reply.sections:
        html_lines.append(render_html(section.text, mentioned))
        plain_lines.append(render_plain(section.text))
    reactions: dict[str, str] = {}
    typed: list[tuple[str, str]] = []
    for section in reply.sections:
        for button in section.buttons:
            emoji = REACTIONS.get(button.style or "")
            offered = emoji is not None and emoji not in reactions and button.form is None
            if offered:
                reactions[emoji] = button.command  # type: ignore[index]
            typed.append((f"{emoji} {button.label}" if offered else button.label, _typed_button(button)))
    if typed:
        html_lines.append(
            "<br>".join(f"{escape_html(label)}: <code>{escape_html(line)}</code>" for label, line in typed)
        )
        plain_lines.append("\n".join(f"{label}: {line}" for label, line in typed))
    body = "\n".join(plain_lines) or "…"
    formatted = "<br>".join(html_lines) or "…"
    if reply.error:
        body, formatted = WARNING + body, WARNING + formatted
    return Message(body=body, html=formatted, mentions=list(dict.fromkeys(mentioned)), reactions=reactions)


def _typed_button(button: Button) -> str:
    line = typed_form(button.command)
    return f"{line} …" if button.form else line


def render_html(text: Text, mentioned: list[str]) -> str:
    """Our template markup (`*bold*`, `_italic_`, `code`) as HTML, user values escaped."""
    state = {"strong": False, "em": False, "code": False}

    def markup(literal: str) -> str:
        out: list[str] = []
        position = 0
        for found in re.finditer(r"`|\*|(?:^|(?<=[\s(]))_|_(?=$|[\s).,:;!?])", literal):
            out.append(escape_html(literal[position : found.start()]))
            mark = found.group(0)
            tag = {"`": "code", "*": "strong", "_": "em"}[mark]
            if state["code"] and tag != "code":
                out.append(escape_html(mark))
            else:
                out.append(f"</{tag}>" if state[tag] else f"<{tag}>")
                state[tag] = not state[tag]
            position = found.end()
        out.append(escape_html(literal[position:]))
        return "".join(out).replace("\n", "<br>")

    def show(value: object) -> str:
        if isinstance(value, Mention):
            mxid = matrix_id(value.user_id)
            if mxid is None:
                return escape_html(f"@{value.name}")
            mentioned.append(mxid)
            return f'<a href="{MATRIX_TO}{escape_html(mxid)}">{escape_html(value.name)}</a>'
        if isinstance(value, ChannelMention):
            room = matrix_id(value.channel_id)
            shown = escape_html(f"#{value.name or value.channel_id}")
            return f'<a href="{MATRIX_TO}{escape_html(room)}">{shown}</a>' if room else shown
        return escape_html(typed_text(str(value))).replace("\n", "<br>")

    rendered = text.render(show, markup)
    for tag in ("code", "em", "strong"):  # a marker left open by a template closes with it
        if state[tag]:
            rendered += f"</{tag}>"
    return rendered


def render_plain(text: Text) -> str:
    def show(value: object) -> str:
        if isinstance(value, Mention | ChannelMention):
            return value.name
        return typed_text(str(value))

    return text.render(show, _strip)


def _strip(literal: str) -> str:
    return _BOLD_ITALIC.sub("", literal)


def typed_text(value: str) -> str:
    """What a person typed, with the people and channels it names shown by name (never a ping)."""

    def name(found: re.Match[str]) -> str:
        sigil, _platform, identifier, shown = found.groups()
        return shown or (identifier if identifier.startswith(("@", "!", "#")) else f"{sigil}{identifier}")

    return NEUTRAL_REF.sub(name, value)


Render = Callable[[Reply], Message]
