"""The platform-neutral request and reply every adapter speaks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session

from core.clock import Clock
from core.roles import Role
from core.text import ChannelMention, Mention, Moment, Text
from storage.models import Member


class CommandError(Exception):
    """A user's mistake or a refusal: shown as one line, and the transaction is rolled back.

    `field` names what the mistake is about — an option key (`due`), or `text` for the free text — so a form
    can show it next to the field that asked for it.
    """

    def __init__(self, message: str = "", *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class UsageError(CommandError):
    """The command is malformed; the dispatcher answers with the command's usage line."""

    def __init__(self, detail: str = "", *, field: str | None = None) -> None:
        super().__init__(detail, field=field)
        self.detail = detail


@dataclass(frozen=True)
class Request:
    """Who typed what: `/city show Brno` is command `city`, text `show Brno`."""

    user_id: str
    user_name: str
    command: str
    text: str
    tz: str | None = None  # the zone the platform reports for the person (Slack does; Discord does not)
    locale: str | None = None  # the person's language as the platform reports it (Discord does)


@dataclass(frozen=True)
class Button:
    """A button runs `command` as whoever presses it, so a button can do nothing typing cannot."""

    label: str
    command: str
    style: str | None = None  # "primary" or "danger"
    form: str | None = None  # a form (a Slack modal) that asks for the rest of the command before running it


@dataclass
class Section:
    text: Text
    buttons: list[Button] = field(default_factory=list)


@dataclass(frozen=True)
class Notice:
    """A message for other people (by external id) that the adapter delivers after the commit.

    `together` sends one message to one conversation holding all recipients (an introduction);
    otherwise each recipient gets it by direct message.
    """

    recipients: tuple[str, ...]
    reply: Reply
    together: bool = False


@dataclass(frozen=True)
class Attachment:
    """A file that comes with a reply (an iCalendar file, a CSV export, a chart)."""

    filename: str
    content: bytes
    mime_type: str


@dataclass
class Reply:
    sections: list[Section] = field(default_factory=list)
    title: str | None = None
    error: bool = False
    notices: list[Notice] = field(default_factory=list)
    files: list[Attachment] = field(default_factory=list)
    error_field: str | None = None  # what an error is about (see CommandError.field)

    @classmethod
    def of(cls, template: str, **values: object) -> Reply:
        """A one-section reply; `values` are user data, escaped by each adapter."""
        return cls(sections=[Section(Text(template, **values))])

    @classmethod
    def fail(cls, line: str, *, field: str | None = None) -> Reply:
        line = " ".join(line.split())  # one line, even when it quotes typed text with line breaks
        return cls(sections=[Section(Text("{line}", line=line))], error=True, error_field=field)

    def add(self, template: str, *, buttons: list[Button] | None = None, **values: object) -> Reply:
        self.sections.append(Section(Text(template, **values), buttons or []))
        return self

    def plain(self) -> str:
        lines = [self.title] if self.title else []
        lines.extend(section.text.plain() for section in self.sections)
        return "\n".join(lines)


@dataclass(frozen=True)
class HandlerSettings:
    admins: frozenset[str]
    default_tz: ZoneInfo
    tracks: tuple[tuple[str, str], ...]
    first_user_is_admin: bool = False
    default_remind: str = "7d,1d,1h"
    reminder_horizon: timedelta = timedelta(days=60)  # how far ahead recurring events get reminders queued
    broadcast_grace: timedelta = timedelta(hours=24)  # a broadcast later than this is recorded as missed
    digest_weekday: int = 1  # ISO weekday of the experts' digest (1 = Monday), in each expert's zone
    digest_hour: int = 8
    public_url: str = "http://localhost:3000"  # where people reach `citypeers run` (calendar feed links)


@dataclass(frozen=True)
class Services:
    """What handlers need from the outside world, built once by `bot.app`."""

    engine: Engine
    clock: Clock
    settings: HandlerSettings
    on_commit: list[Callable[[], None]] = field(default_factory=list)  # e.g. the scheduler re-planning its wake-up


@dataclass
class Actor:
    member: Member
    role: Role

    @property
    def user_id(self) -> str:
        return self.member.external_id


@dataclass
class Context:
    session: Session
    actor: Actor
    now: datetime
    services: Services

    @property
    def zone(self) -> ZoneInfo:
        return member_zone(self.actor.member, self.services.settings.default_tz)


def member_zone(member: Member | None, default: ZoneInfo) -> ZoneInfo:
    """A person's own time zone (chosen, or as their platform reported it), else the programme's default."""
    if member is not None and member.tz:
        try:
            return ZoneInfo(member.tz)
        except (KeyError, ValueError):
            pass
    return default


@dataclass(frozen=True)
class Command:
    """One subcommand: its usage line, a one-line summary, the options it takes and its function."""

    name: str
    usage: str
    summary: str
    run: Callable[[Context, object], Reply]
    options: frozenset[str] = frozenset()
    aliases: tuple[str, ...] = ()


# --- a Reply kept in the delivery ledger until it is sent ---------------------------------------------


def reply_to_dict(reply: Reply) -> dict[str, object]:
    """A JSON-able form of a reply (files aside): user values stay values, and people, channels and moments stay
    what they are (`{"mention": [id, name]}`, `{"channel": [id, name]}`, `{"moment": [iso, zone, style, end]}`)."""

    def value(item: object) -> object:
        if isinstance(item, Mention):
            return {"mention": [item.user_id, item.name]}
        if isinstance(item, ChannelMention):
            return {"channel": [item.channel_id, item.name]}
        if isinstance(item, Moment):
            end = item.end.isoformat() if item.end is not None else None
            return {"moment": [item.instant.isoformat(), item.zone.key, item.style, end]}
        return str(item)

    return {
        "title": reply.title,
        "error": reply.error,
        "sections": [
            {
                "template": section.text.template,
                "values": {key: value(item) for key, item in section.text.values.items()},
                "buttons": [[b.label, b.command, b.style, b.form] for b in section.buttons],
            }
            for section in reply.sections
        ],
    }


def reply_from_dict(data: dict) -> Reply:  # type: ignore[type-arg]
    def value(item: object) -> object:
        if not isinstance(item, dict):
            return item
        if "channel" in item:
            return ChannelMention(*item["channel"])
        if "moment" in item:
            instant, zone, style, end = item["moment"]
            ends = datetime.fromisoformat(end) if end else None
            return Moment(datetime.fromisoformat(instant), ZoneInfo(zone), style, ends)
        return Mention(*item["mention"])

    return Reply(
        title=data.get("title"),
        error=bool(data.get("error")),
        sections=[
            Section(
                Text(section["template"], **{k: value(v) for k, v in section["values"].items()}),
                [Button(*button) for button in section["buttons"]],
            )
            for section in data.get("sections", [])
        ],
    )
