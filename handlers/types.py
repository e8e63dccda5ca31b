"""The platform-neutral request and reply every adapter speaks."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session

from core.audit import AuditKind, AuditRecord
from core.clock import Clock
from core.i18n import Language, Msg, Plural, Template, current, template_text, value_text
from core.roles import Role
from core.text import ChannelMention, Mention, Moment, Sentence, Text
from core.values import Kind as Kind  # re-exported: commands declare their parameters with Param and Kind
from storage.models import Member


class CommandError(Exception):
    """A user's mistake or a refusal: shown as one line, and the transaction is rolled back.

    `field` names what the mistake is about — an option key (`due`), or `text` for the free text — so a form
    can show it next to the field that asked for it. `CommandError(Strings.NOT_YOURS, id=3)` keeps a message and
    its values apart: the line is written in the reader's language when it is shown (`str`).
    """

    def __init__(self, message: Template = "", *, field: str | None = None, **values: object) -> None:
        super().__init__(message)
        self.field = field
        self.template = message
        self.values = values

    def __str__(self) -> str:
        if not self.values and not isinstance(self.template, (Msg, Plural)):
            return str(self.template)
        text = template_text(self.template, self.values)
        return text.format(**{key: value_text(value) for key, value in self.values.items()})


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
    # A platform with typed options (Discord) names the subcommand and gives each parameter's value as a value:
    # an int, a bool, a core.grammar.UserRef or ChannelRef, or text; `text` is then not read.
    subcommand: str | None = None
    values: Mapping[str, object] | None = None


@dataclass(frozen=True)
class Button:
    """A button runs `command` as whoever presses it, so a button can do nothing typing cannot."""

    label: str  # a message (core.i18n.Msg), shown in the reader's language
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
    language: Language | None = field(default=None, repr=False, compare=False)  # the one `localize` wrote it in

    @classmethod
    def of(cls, template: Template, **values: object) -> Reply:
        """A one-section reply; `values` are user data, escaped by each adapter."""
        return cls(sections=[Section(Text(template, **values))])

    @classmethod
    def fail(cls, line: Template, *, field: str | None = None, **values: object) -> Reply:
        """A one-line refusal: `line` a message with `values`, written in the reader's language (or a line
        already written, such as a CommandError's)."""
        if values or isinstance(line, (Msg, Plural)):
            line = template_text(line, values).format(**{k: value_text(v) for k, v in values.items()})
        line = " ".join(line.split())  # one line, even when it quotes typed text with line breaks
        return cls(sections=[Section(Text("{line}", line=line))], error=True, error_field=field)

    def add(self, template: Template, *, buttons: list[Button] | None = None, **values: object) -> Reply:
        return self.add_text(Text(template, **values), buttons)

    def add_text(self, text: Text, buttons: list[Button] | None = None) -> Reply:
        """A section from a Text already made: for values gathered in a dict, which `add(template, **values)`
        could not tell apart from its `buttons`."""
        self.sections.append(Section(text, buttons or []))
        return self

    def localize(self, language: Language | None = None) -> Reply:
        """This reply as a reader of `language` (else the reader of now) reads it: every template, message value,
        title and button label in their language, times in their words; user values stay values, escaped by each
        platform after this. Notices (for other people) stay as they are: each is localized for its recipient
        when the ledger sends it."""
        chosen = language or current()
        return replace(
            self,
            language=chosen,
            title=None if self.title is None else template_text(self.title, {}, chosen),
            sections=[
                Section(
                    Text(
                        template_text(section.text.template, section.text.values, chosen),
                        **{key: _localized(value, chosen) for key, value in section.text.values.items()},
                    ),
                    [replace(button, label=template_text(button.label, {}, chosen)) for button in section.buttons],
                )
                for section in self.sections
            ],
        )

    def plain(self) -> str:
        lines = [self.title] if self.title else []
        lines.extend(section.text.plain() for section in self.sections)
        return "\n".join(lines)


@dataclass(frozen=True)
class HandlerSettings:
    admins: frozenset[str]
    default_tz: ZoneInfo
    tracks: tuple[tuple[str, str], ...]
    default_language: str = "en"  # CITYPEERS_DEFAULT_LANGUAGE: channel posts, and readers with no language of theirs
    first_user_is_admin: bool = False
    default_remind: str = "7d,1d,1h"
    reminder_horizon: timedelta = timedelta(days=60)  # how far ahead recurring events get reminders queued
    broadcast_grace: timedelta = timedelta(hours=24)  # a broadcast later than this is recorded as missed
    digest_weekday: int = 1  # ISO weekday of the experts' digest (1 = Monday), in each expert's zone
    digest_hour: int = 8
    public_url: str = "http://localhost:3000"  # where people reach `citypeers run` (calendar feed links)
    forget_departed_after: timedelta = timedelta(days=30)  # someone who left their workspace is erased this later
    retention: timedelta = timedelta(days=90)  # sent messages' bodies, seen event ids, delivery attempts
    audit_retention: timedelta = timedelta(days=730)  # audit trail entries


class Meter:
    """What operators count (`bot.metrics` counts it for GET /metrics); this one counts nothing. Told by bot/ only,
    at its boundaries: the adapters (commands), the delivery engine (outcomes), the platform clients (429s)."""

    def command(self, family: str, outcome: str, seconds: float) -> None:
        """A command answered: `ok`, `refused` (an error reply) or `crashed` (it raised)."""

    def delivery(self, kind: str, platform: str, outcome: str, lateness: float | None = None) -> None:
        """A ledger row's attempt ended: sent, late, retried, failed or missed; `lateness` is sent_at - due_at."""

    def rate_limited(self, platform: str) -> None:
        """A platform answered 429."""

    def measure(self, family: str, run: Callable[[], Reply]) -> Reply:
        """Run a command (`run` calls the dispatcher), telling `command` how it went and how long it took."""
        started = time.perf_counter()
        try:
            reply = run()
        except BaseException:
            self.command(family, "crashed", time.perf_counter() - started)
            raise
        self.command(family, "refused" if reply.error else "ok", time.perf_counter() - started)
        return reply


@dataclass(frozen=True)
class Services:
    """What handlers need from the outside world, built once by `bot.app`."""

    engine: Engine
    clock: Clock
    settings: HandlerSettings
    on_commit: list[Callable[[], None]] = field(default_factory=list)  # e.g. the scheduler re-planning its wake-up
    meter: Meter = field(default_factory=Meter)  # operators' counters; handlers never use it


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
    # Privileged acts the command did, written to the audit trail by the dispatcher in the command's transaction.
    audit: list[AuditRecord] = field(default_factory=list)
    platform_locale: str | None = None  # the language the person's platform reports with this command, if any

    @property
    def zone(self) -> ZoneInfo:
        return member_zone(self.actor.member, self.services.settings.default_tz)

    def record(
        self,
        what: AuditKind,
        object_kind: str,
        object_id: object,
        object_name: str = "",
        *,
        subject: str | None = None,
        before: Mapping[str, object] | None = None,
        after: Mapping[str, object] | None = None,
    ) -> None:
        """Declare a privileged act for the audit trail (see core.audit.AuditRecord): kept only if the command is."""
        self.audit.append(
            AuditRecord(
                what,
                object_kind,
                str(object_id),
                object_name,
                subject,
                dict(before) if before is not None else None,
                dict(after) if after is not None else None,
            )
        )


def member_zone(member: Member | None, default: ZoneInfo) -> ZoneInfo:
    """A person's own time zone (chosen, or as their platform reported it), else the programme's default."""
    if member is not None and member.tz:
        try:
            return ZoneInfo(member.tz)
        except (KeyError, ValueError):
            pass
    return default


# How help writes a value of each kind, unless the parameter says otherwise (`placeholder`).
PLACEHOLDERS: dict[Kind, str] = {
    Kind.CITY: "<name>",
    Kind.CITIES: "<city>;<city>",
    Kind.COHORT: "<name>",
    Kind.TRACK: "<track>",
    Kind.TRACKS: "<track>, <track>, ...",
    Kind.USER: "<@user>",
    Kind.CHANNEL: "<#channel>",
    Kind.WHEN: "<when>",
    Kind.DATE: "<date>",
    Kind.DURATION: "<duration>",
    Kind.OFFSETS: "<offsets>",
    Kind.YESNO: "yes",
    Kind.ZONE: "<Area/City>",
    Kind.RRULE: "<RRULE>",
    Kind.EVENT: "<id>",
    Kind.GOAL: "<id>",
}
# What a platform can complete as the person types.
AUTOCOMPLETE: dict[Kind, str] = {
    Kind.CITY: "city",
    Kind.CITIES: "city",
    Kind.COHORT: "cohort",
    Kind.TRACK: "track",
    Kind.TRACKS: "track",
}


@dataclass(frozen=True)
class Param:
    """One parameter of a command, declared once: help's usage line, the options the grammar allows and each
    platform's command schema (Discord's typed options) are generated from it.

    `name` is how platforms with named options call it (lowercase, as Discord wants); `key` is its `key=` in the
    command line, or None for a value in place in the text, in the order declared. `description` is for people.
    """

    name: str
    kind: Kind
    description: str
    required: bool = False
    key: str | None = None
    choices: tuple[str, ...] = ()
    placeholder: str | None = None  # how help writes the value when not the kind's own (`<XX>`, `<name>|all`)
    word: str | None = None  # a FLAG's word in the line when it is not its name (`no`)
    spelled: tuple[
        tuple[str, str], ...
    ] = ()  # a choice written otherwise in the line: ("site-visit", "met site-visit")
    attr: str = ""  # the attribute of the command's arguments that receives it (its name unless that is a keyword)
    missing: str | None = None  # the line a person reads when a required value is not given (else the usage)
    invalid: str | None = None  # the line for a value its kind cannot read, `{value}` as typed (else the parser's)
    # The invalid line's other values, fixed where it is declared (`{max}`): a message is translated whole, then
    # filled in, so nothing is spliced into it beforehand.
    invalid_values: tuple[tuple[str, object], ...] = ()
    # Required, but not given or not readable it reaches the command as None, which asks for it with what is stored
    # (`/city offer remove` lists the offers to choose from).
    asked_by_command: bool = False
    may_be_new: bool = False  # a name that may name something new (a cohort `/city register` starts): not looked up
    # Only in a typed line, as a button writes it (`confirm`, which erases without asking): a platform with typed
    # options does not offer it.
    line_only: bool = False
    also: tuple[str, ...] = ()  # a FLAG's other words in the line (`cancel`, `off` beside `no`)
    # Not required alone, but it or the flag its placeholder offers is (`<id>|all`): help writes it unbracketed.
    either: bool = False

    @property
    def autocomplete(self) -> str | None:
        return AUTOCOMPLETE.get(self.kind)

    @property
    def flag_word(self) -> str:
        return self.word or self.name

    def in_line(self, value: str) -> str:
        """How a value (a choice) is written in the command line."""
        return dict(self.spelled).get(value, value)

    def usage(self) -> str:
        if self.placeholder == "":
            return ""  # written in another parameter's placeholder (`<name>|all`)
        if self.kind is Kind.FLAG:
            shown = self.flag_word
        elif self.placeholder is not None:
            shown = self.placeholder
        elif self.kind is Kind.CHOICE:
            shown = "|".join(self.choices)
        else:
            shown = PLACEHOLDERS.get(self.kind, f"<{self.name}>")
        if self.key is not None:
            shown = f"{self.key}={shown}"
        return shown if self.required or self.either else f"[{shown}]"


def usage_of(head: str, params: tuple[Param, ...]) -> str:
    return " ".join([head, *(shown for shown in (param.usage() for param in params) if shown)])


@dataclass(frozen=True)
class Variant:
    """Another form of a command, its fixed words after the command's name (`/event broadcast list`): its own
    usage in help, its own subcommand where a platform has subcommands (`name`, as Discord wants it)."""

    name: str
    words: str
    summary: str
    params: tuple[Param, ...] = ()
    arguments: type | None = None  # its typed arguments (see Command.arguments); then `run` answers it
    run: Callable[[Context, Any], Reply] | None = None

    def __post_init__(self) -> None:
        if self.arguments is not None:
            from handlers.binding import params_of

            object.__setattr__(self, "params", params_of(self.arguments))


@dataclass(frozen=True)
class Command:
    """One subcommand: how it is typed, a one-line summary, its parameters and its function.

    `head` is the command as typed before its parameters (`/city register`; `/match` for a family's main
    command); the usage line is generated from it and `params` (and `variants`), and so are the `key=` options
    the grammar allows.
    """

    name: str
    head: str
    summary: str
    run: Callable[[Context, Any], Reply]
    aliases: tuple[str, ...] = ()
    variants: tuple[Variant, ...] = ()
    # A dataclass whose fields declare the parameters (`handlers.binding.param`): the dispatcher reads the line into
    # one, each value parsed by its kind and names resolved, and `run` receives it.
    arguments: type | None = None
    params: tuple[Param, ...] = field(init=False, default=())
    options: frozenset[str] = field(init=False, default=frozenset())  # the `key=` options the grammar allows

    def __post_init__(self) -> None:
        if self.arguments is None:  # the declaration is the parser: a command without one could not be read
            raise TypeError(f"{self.name}: declare its arguments (handlers.binding.param)")
        from handlers.binding import params_of

        object.__setattr__(self, "params", params_of(self.arguments))
        keys = frozenset(p.key for p in self.all_params() if p.key is not None)
        object.__setattr__(self, "options", keys)

    @property
    def declared(self) -> bool:
        """Whether its parameters are declared (a head with no placeholders, options or alternatives)."""
        return not any(mark in self.head for mark in "<[=|")

    @property
    def usage(self) -> str:
        forms = [usage_of(self.head, self.params)]
        forms += [usage_of(f"{self.head} {variant.words}", variant.params) for variant in self.variants]
        return " | ".join(forms)

    def all_params(self) -> tuple[Param, ...]:
        return self.params + tuple(p for variant in self.variants for p in variant.params)


def _localized(value: object, language: Language) -> object:
    if isinstance(value, Text):  # a message within a message (core.text.joined, Sentence): in the same language
        return type(value)(
            template_text(value.template, value.values, language),
            **{key: _localized(item, language) for key, item in value.values.items()},
        )
    if isinstance(value, Msg):
        return value.translated(language)
    if isinstance(value, Moment) and value.language is None:
        return replace(value, language=language.code)
    return value


# --- a Reply kept in the delivery ledger until it is sent ---------------------------------------------


def reply_to_dict(reply: Reply) -> dict[str, object]:
    """A JSON-able form of a reply (files aside): user values stay values, and people, channels and moments stay
    what they are (`{"mention": [id, name]}`, `{"channel": [id, name]}`, `{"moment": [iso, zone, style, end]}`)."""

    def value(item: object) -> object:
        if isinstance(item, Text):
            values = {key: value(part) for key, part in item.values.items()}
            return {"text": [message_to_json(item.template), values, isinstance(item, Sentence)]}
        if isinstance(item, Msg):
            return {"msg": [item.context, item.msgid]}
        if isinstance(item, Mention):
            return {"mention": [item.user_id, item.name]}
        if isinstance(item, ChannelMention):
            return {"channel": [item.channel_id, item.name]}
        if isinstance(item, Moment):
            end = item.end.isoformat() if item.end is not None else None
            return {"moment": [item.instant.isoformat(), item.zone.key, item.style, end]}
        return str(item)

    return {
        "title": message_to_json(reply.title),
        "error": reply.error,
        "sections": [
            {
                "template": message_to_json(section.text.template),
                "values": {key: value(item) for key, item in section.text.values.items()},
                "buttons": [[message_to_json(b.label), b.command, b.style, b.form] for b in section.buttons],
            }
            for section in reply.sections
        ],
    }


def message_to_json(template: Template | None) -> object:
    """A message as the ledger keeps it: its English id, with its context or plural forms when it has them, so
    it is translated for its recipient when it is sent (a plain string: as written)."""
    if isinstance(template, Plural):
        return {"plural": [template.context, template.singular, template.plural, template.count]}
    if isinstance(template, Msg):
        return template.msgid if template.context is None else {"msg": [template.context, template.msgid]}
    return template


def _message_without_count(data: object) -> str:
    """A title or a button's label as the ledger keeps it: a message, never one with a count."""
    message = message_from_json(data)
    if isinstance(message, Plural):
        raise ValueError(f"a title or label with a count: {data!r}")
    return message


def message_from_json(data: object) -> Template:
    if isinstance(data, dict):
        if "plural" in data:
            context, singular, plural, count = data["plural"]
            return Plural(singular, plural, context, count)
        context, msgid = data["msg"]
        return Msg(msgid, context)
    return Msg(str(data))


def reply_from_dict(data: dict[str, Any]) -> Reply:
    def value(item: object) -> object:
        if not isinstance(item, dict):
            return item
        if "text" in item:
            template, values, sentence = item["text"]
            made = Sentence if sentence else Text
            return made(message_from_json(template), **{key: value(part) for key, part in values.items()})
        if "msg" in item:
            return message_from_json(item)
        if "channel" in item:
            return ChannelMention(*item["channel"])
        if "moment" in item:
            instant, zone, style, end = item["moment"]
            ends = datetime.fromisoformat(end) if end else None
            return Moment(datetime.fromisoformat(instant), ZoneInfo(zone), style, ends)
        return Mention(*item["mention"])

    title = data.get("title")
    return Reply(
        title=None if title is None else _message_without_count(title),
        error=bool(data.get("error")),
        sections=[
            Section(
                Text(message_from_json(section["template"]), **{k: value(v) for k, v in section["values"].items()}),
                [Button(_message_without_count(button[0]), *button[1:]) for button in section["buttons"]],
            )
            for section in data.get("sections", [])
        ],
    )
