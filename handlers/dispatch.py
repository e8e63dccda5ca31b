"""From a neutral Request to a Reply: find the command, resolve the actor, run it in one transaction."""

from __future__ import annotations

import difflib
import importlib
import logging
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

import locales
from core import i18n
from core.grammar import MAX_KEY, GrammarError, UnknownOption, check_line, parse_args, split_first
from core.i18n import N_
from core.roles import Role
from handlers import audit, languages
from handlers.binding import bind, raw_values
from handlers.ledger import queue_notices
from handlers.types import (
    Actor,
    Command,
    CommandError,
    Context,
    Param,
    Reply,
    Request,
    Services,
    UsageError,
    Variant,
    usage_of,
)
from storage import queries
from storage.db import run_transaction

log = logging.getLogger(__name__)
HELP = "help"  # `/help city` answers as `/city help` does


class Strings:
    """The dispatcher's own lines: commands that do not exist, and help."""

    UNKNOWN_FAMILY = N_("Unknown command /{name}. Commands: {known}.")
    UNKNOWN_FAMILY_CLOSE = N_("Unknown command /{name}. Did you mean {command}? Commands: {known}.")
    UNKNOWN_COMMAND = N_("Unknown command `/{family} {name}`. Try /{family} help.")
    UNKNOWN_COMMAND_CLOSE = N_("Unknown command `/{family} {name}`. Did you mean {command}? Try /{family} help.")
    NO_FAMILY = N_("No command family called `{name}`. Commands: {known}.")
    NO_FAMILY_CLOSE = N_("No command family called `{name}`. Did you mean {command}? Commands: {known}.")
    UNKNOWN_OPTION = N_(
        "Unknown option `{key}=`. Options of /{family} {command}: {options}; text that holds = goes in quotes."
    )
    UNKNOWN_OPTION_CLOSE = N_(
        "Unknown option `{key}=`. Did you mean `{close}=`? Options of /{family} {command}: {options}"
    )
    EXPECTED = N_("Expected: {usage}")
    EXPECTED_AFTER = N_("{detail} Expected: {usage}")
    OPTIONS_HELP = N_('Options are key=value after the text; quote values with spaces: where="Hotel Metropole".')
    NO_OPTIONS = N_("Unknown option `{key}=`: /{family} {command} takes none; text that holds = goes in quotes.")
    HELP_TITLE = N_("CityPeers commands (`/help <command>` or `/<command> help` for each one's):")
    HELP_FAMILY = N_("`/{name}`: {summary}")


# Each family's commands, usage lines and summary live in its module (`COMMANDS`, `SUMMARY`).
FAMILY_MODULES: Mapping[str, str] = {
    "city": "handlers.city",
    "match": "handlers.match",
    "event": "handlers.event",
    "goal": "handlers.goal",
}


class _FamilyRegistry(Mapping[str, Any]):
    """Every family by name, each one's module imported the first time its entry is read: the names are known at
    once (`in`, iterating), so a command loads only its own family's handlers (`/city tracks` loads none of
    matching's) and whatever reads all entries (help, Discord's command list) gets every family."""

    def __init__(self, attribute: str) -> None:
        self._attribute = attribute

    def __getitem__(self, name: str) -> Any:
        return getattr(importlib.import_module(FAMILY_MODULES[name]), self._attribute)

    def __contains__(self, name: object) -> bool:
        return name in FAMILY_MODULES

    def __iter__(self) -> Iterator[str]:
        return iter(FAMILY_MODULES)

    def __len__(self) -> int:
        return len(FAMILY_MODULES)


FAMILIES: Mapping[str, Mapping[str, Command]] = _FamilyRegistry("COMMANDS")
# Families whose main command runs when no subcommand is named (the contract's bare `/match [<n>] …`).
DEFAULTS: Mapping[str, str] = {"match": "top"}
SUMMARIES: Mapping[str, str] = _FamilyRegistry("SUMMARY")


# Whether this command's reader is known (their member read, their language set): see handle.
_READER_KNOWN: ContextVar[bool] = ContextVar("citypeers_reader_known", default=False)


def handle(services: Services, request: Request) -> Reply:
    """Answer one command, in the language of whoever typed it. User mistakes come back as one-line error replies
    with nothing changed.

    The language is the platform's (or the programme's) until the command's transaction reads the member, who may
    have chosen their own (resolve_actor). A line refused before that (an unknown command, help, a malformed
    option) changed nothing: when its person chose another language it is answered again in theirs."""
    first = languages.for_member(None, request.locale, services.settings)
    with i18n.reading(first):
        try:
            check_line(request.text)  # before any parsing or reading: a huge or binary line is refused at once
        except GrammarError as error:
            return Reply.fail(str(error))
        known = _READER_KNOWN.set(False)
        try:
            reply = _answer(services, request)
            if not _READER_KNOWN.get():
                own = _own_language(services, request)
                if own is not None and own != first.code:
                    i18n.set_current(locales.language(own))
                    reply = _answer(services, request)
            return reply.localize()
        finally:
            _READER_KNOWN.reset(known)


def _own_language(services: Services, request: Request) -> str | None:
    with Session(services.engine) as session:
        member = queries.get_member(session=session, external_id=request.user_id)
        if member is None:
            return None
        return languages.code_for(member, request.locale, services.settings)


def _answer(services: Services, request: Request) -> Reply:
    family = FAMILIES.get(request.command.lstrip("/").lower())
    if family is None:
        if request.command.lstrip("/").lower() == HELP:
            return overall_help(request.text)
        typed = request.command.lstrip("/")
        known = ", ".join(f"/{name}" for name in (*FAMILIES, HELP))
        close = did_you_mean(typed, [*FAMILIES, HELP], lambda name: f"/{name}")
        if close:
            return Reply.fail(Strings.UNKNOWN_FAMILY_CLOSE, name=typed, command=close, known=known)
        return Reply.fail(Strings.UNKNOWN_FAMILY, name=typed, known=known)
    command_name = request.command.lstrip("/").lower()
    if request.values is not None:
        return _handle_values(services, request, command_name, family)
    name, rest = split_first(request.text)
    default = DEFAULTS.get(command_name)
    if default is not None and takes_default(name, family):
        # `/match`, `/match 3`, `/match track=tourism`: the family's main command, given the whole text.
        name, rest = default, request.text
    if name.lower() in ("", "help"):
        return family_help(command_name, family, topic=rest)
    command = find_command(family, name)
    if command is None:
        spelled = {spelling: c.name for c in family.values() for spelling in (c.name, *c.aliases)}
        close = did_you_mean(name, list(spelled), lambda typo: f"/{command_name} {spelled[typo]}")
        if close:
            return Reply.fail(Strings.UNKNOWN_COMMAND_CLOSE, family=command_name, name=name, command=close)
        return Reply.fail(Strings.UNKNOWN_COMMAND, family=command_name, name=name)
    if rest.strip().lower() == "help":
        return Reply.of("`{usage}`\n{summary}", usage=command.usage, summary=command.summary)
    form, rest = chosen_form(command, rest)
    try:
        given = raw_values(form.params, parse_args(rest, form.options))
        reply = run_transaction(services.engine, lambda session: run_command(session, services, request, form, given))
    except UnknownOption as error:
        return Reply.fail(unknown_option_line(command_name, command, error), field=error.key)
    except UsageError as error:
        return Reply.fail(usage_line(error, form.usage), field=error.field)
    except (CommandError, GrammarError) as error:
        return Reply.fail(str(error), field=getattr(error, "field", None))
    for hook in services.on_commit:
        hook()
    return reply


@dataclass(frozen=True)
class Form:
    """What one form of a command needs to be read and run: the command itself, or one of its variants whose
    words were typed (`/event broadcast list`) and that declares its own arguments."""

    run: Callable[[Context, Any], Reply]
    arguments: type
    params: tuple[Param, ...]
    usage: str

    @property
    def options(self) -> frozenset[str]:
        return frozenset(p.key for p in self.params if p.key is not None)


def command_form(command: Command) -> Form:
    assert command.arguments is not None  # Command refuses to be made without
    return Form(command.run, command.arguments, command.params, command.usage)


def variant_form(command: Command, variant: Variant) -> Form:
    assert variant.run is not None and variant.arguments is not None  # a variant's words alone never run
    return Form(
        variant.run, variant.arguments, variant.params, usage_of(f"{command.head} {variant.words}", variant.params)
    )


def chosen_form(command: Command, rest: str) -> tuple[Form, str]:
    """The variant whose words start `rest` (and the rest after them), else the command itself."""
    typed = rest.split()
    for variant in command.variants:
        words = variant.words.split()
        if variant.run is not None and [w.casefold() for w in typed[: len(words)]] == [w.casefold() for w in words]:
            remainder = rest.strip()
            for word in words:
                remainder = remainder[len(word) :].lstrip()
            return variant_form(command, variant), remainder
    return command_form(command), rest


def form_named(command_name: str, family: Mapping[str, Command], subcommand: str) -> tuple[Command, Form] | None:
    """A command or variant by the name a platform with subcommands knows it by (`broadcast-list`)."""
    for command in family.values():
        if command.name == subcommand:
            return command, command_form(command)
        for variant in command.variants:
            if variant.name == subcommand and variant.run is not None:
                return command, variant_form(command, variant)
    return None


def _handle_values(services: Services, request: Request, command_name: str, family: Mapping[str, Command]) -> Reply:
    """A command whose values came typed (Discord's options): the same parsers, resolvers and handler as a line."""
    found = form_named(command_name, family, request.subcommand or "")
    if found is None:
        return Reply.fail(Strings.UNKNOWN_COMMAND, family=command_name, name=request.subcommand)
    command, form = found
    given = dict(request.values or {})
    try:
        reply = run_transaction(
            services.engine,
            lambda session: run_command(session, services, request, form, given),
        )
    except UsageError as error:
        return Reply.fail(usage_line(error, form.usage), field=error.field)
    except (CommandError, GrammarError) as error:
        return Reply.fail(str(error), field=getattr(error, "field", None))
    for hook in services.on_commit:
        hook()
    return reply


def usage_line(error: UsageError, usage: str) -> str:
    if error.detail:
        return Strings.EXPECTED_AFTER.format(detail=error.detail, usage=usage)
    return Strings.EXPECTED.format(usage=usage)


def run_command(
    session: Session,
    services: Services,
    request: Request,
    form: Form,
    given: Mapping[str, object],
) -> Reply:
    """One attempt at a command, inside its transaction: its arguments are read and names resolved, what it
    decides to tell others goes to the outbox, and the privileged acts it declares to the audit trail, in that same
    transaction, so both are kept if and only if the command's changes are (a refused or failed command raises, and
    its transaction is rolled back)."""
    actor = resolve_actor(session, services, request)
    now = services.clock.now()
    context = Context(session=session, actor=actor, now=now, services=services, platform_locale=request.locale)
    reply = form.run(context, bind(context, form.arguments, form.params, given))
    queue_notices(session, reply.notices, now=now, created_by=actor.member.id)
    if not reply.error:  # a refusal answered as a reply did nothing worth auditing
        audit.write(session, context.audit, actor=actor.member, now=now)
    return reply


def takes_default(first_word: str, family: Mapping[str, Command]) -> bool:
    """Nothing typed, a number, or an option: not a subcommand name."""
    return first_word == "" or first_word.isdigit() or ("=" in first_word and find_command(family, first_word) is None)


def find_command(family: Mapping[str, Command], name: str) -> Command | None:
    lowered = name.lower()
    if lowered in family:
        return family[lowered]
    return next((c for c in family.values() if lowered in c.aliases), None)


def unknown_option_line(family: str, command: Command, error: UnknownOption) -> str:
    """`foo=` named with the command it is not an option of, and the options that command takes."""
    if not error.allowed:
        return Strings.NO_OPTIONS.format(key=error.key, family=family, command=command.name)
    options = ", ".join(f"{key}=" for key in sorted(error.allowed))
    if error.close:  # a slip of an option is no text
        return Strings.UNKNOWN_OPTION_CLOSE.format(
            key=error.key, close=error.close, family=family, command=command.name, options=options
        )
    return Strings.UNKNOWN_OPTION.format(key=error.key, family=family, command=command.name, options=options)


def did_you_mean(typed: str, names: list[str], spell: Callable[[str], str]) -> str:
    """`/city show` for a slip of one of `names` (difflib), spelled by `spell`; else nothing."""
    close = difflib.get_close_matches(typed.lower()[:MAX_KEY], names, n=1, cutoff=0.6)
    return spell(close[0]) if close else ""


def overall_help(topic: str) -> Reply:
    """`/help`: every family; `/help city [show]`: that family's help (or one command's)."""
    family_name, rest = split_first(topic)
    if not family_name:
        reply = Reply(title=Strings.HELP_TITLE)
        for name in FAMILIES:
            reply.add(Strings.HELP_FAMILY, name=name, summary=SUMMARIES[name])
        return reply
    name = family_name.lstrip("/").lower()
    if name not in FAMILIES:
        known = ", ".join(f"/{family}" for family in FAMILIES)
        close = did_you_mean(name, list(FAMILIES), lambda close: f"/{close}")
        if close:
            return Reply.fail(Strings.NO_FAMILY_CLOSE, name=family_name, command=close, known=known)
        return Reply.fail(Strings.NO_FAMILY, name=family_name, known=known)
    return family_help(name, FAMILIES[name], topic=rest)


def family_help(command_name: str, family: Mapping[str, Command], topic: str = "") -> Reply:
    if topic.strip():
        command = find_command(family, topic.strip())
        if command is not None:
            return Reply.of("`{usage}`\n{summary}", usage=command.usage, summary=command.summary)
    reply = Reply(title=f"/{command_name}: {SUMMARIES[command_name]}")
    for command in family.values():
        reply.add("`{usage}`\n{summary}", usage=command.usage, summary=command.summary)
    reply.add(Strings.OPTIONS_HELP)
    return reply


def resolve_actor(session: Session, services: Services, request: Request) -> Actor:
    """The member behind a request, created on first contact; config admins are always admins."""
    member = queries.get_member(session=session, external_id=request.user_id)
    now = services.clock.now()
    if member is None:
        first = services.settings.first_user_is_admin and queries.count_members(session=session) == 0
        member = queries.ensure_member(
            session=session,
            external_id=request.user_id,
            display_name=request.user_name or request.user_id,
            role=Role.ADMIN if first else Role.NONE,
            now=now,
        )
    if request.user_name and member.display_name != request.user_name:
        member.display_name = request.user_name[:80]
    if request.tz and not member.tz_chosen and member.tz != request.tz:
        member.tz = request.tz  # the platform's zone, until the person chooses one (/city timezone)
    if request.locale and not member.locale_chosen and member.locale != request.locale:
        member.locale = request.locale[:16]  # the platform's language, until the person chooses (/city language)
    i18n.set_current(languages.for_member(member, request.locale, services.settings))
    _READER_KNOWN.set(True)
    role = Role.ADMIN if request.user_id in services.settings.admins else Role(member.role)
    return Actor(member=member, role=role)
