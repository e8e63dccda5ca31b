"""The declaration is the parser: a command's arguments are a dataclass whose fields declare its parameters.

    @dataclass(frozen=True)
    class AddGoal:
        text: str = param(Kind.TEXT, "What your city will achieve", required=True)
        due: date | None = param(Kind.DATE, "When it is due", key="due")
        with_: list[City] = param(Kind.CITIES, "Cities to work with", key="with")

Help's usage line, the `key=` options the grammar allows, Discord's typed options and Slack's usage hints are made
from these fields (`params_of`), and so is the value the command receives (`bind`): the line's free text is shared
out among the in-place parameters (`core.values.split_in_place`), every value is read by its kind's one parser
(`core.values.read_value`), and names are looked up by their kind's one resolver (`RESOLVERS`) in the command's
transaction. A platform with typed options (Discord) gives values, not text: they go through the same parsers and
resolvers, so the same input stores the same result on every platform.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from core.grammar import Args, GrammarError, shown
from core.values import NUMBERED, Kind, Slot, read_value, split_in_place
from handlers.types import CommandError, Context, Param, UsageError

PARAM = "citypeers.param"


def param(
    kind: Kind,
    description: str,
    *,
    required: bool = False,
    key: str | None = None,
    name: str | None = None,
    choices: tuple[str, ...] = (),
    placeholder: str | None = None,
    word: str | None = None,
    spelled: tuple[tuple[str, str], ...] = (),
    missing: str | None = None,
    invalid: str | None = None,
    invalid_values: Mapping[str, object] | None = None,
    asked_by_command: bool = False,
    may_be_new: bool = False,
    line_only: bool = False,
    also: tuple[str, ...] = (),
    either: bool = False,
    default: object = None,
) -> Any:
    """A field of a command's arguments that declares one parameter (see handlers.types.Param). `name` is how
    platforms with named options call it, the field's name by default (`with_` is `with`); an absent optional
    value is `default`, else None ([] for a list of names, False for a flag or yes/no)."""
    declared = {
        "kind": kind,
        "description": description,
        "required": required,
        "key": key,
        "name": name,
        "choices": choices,
        "placeholder": placeholder,
        "word": word,
        "spelled": spelled,
        "missing": missing,
        "invalid": invalid,
        "invalid_values": tuple((invalid_values or {}).items()),
        "asked_by_command": asked_by_command,
        "may_be_new": may_be_new,
        "line_only": line_only,
        "also": also,
        "either": either,
    }
    return dataclasses.field(default=default, metadata={PARAM: declared})


@dataclass(frozen=True)
class NoArguments:
    """A command that takes nothing after its name."""


def params_of(arguments: type) -> tuple[Param, ...]:
    """The parameters a command's arguments declare, in the order of their fields."""
    found: list[Param] = []
    for item in dataclasses.fields(arguments):
        declared = dict(item.metadata[PARAM])
        name = declared.pop("name") or item.name.rstrip("_")
        found.append(Param(name=name, attr=item.name, **declared))
    return tuple(found)


def _absent(param: Param, field_default: object) -> object:
    if field_default is not None:
        return field_default
    if param.kind in (Kind.CITIES, Kind.TRACKS, Kind.OFFSETS):
        return []
    if param.kind in (Kind.FLAG, Kind.YESNO):
        return False
    return None


def _field_of(param: Param) -> str:
    """What a mistake in this value is about, for a form to show it beside its field."""
    return param.key or param.name


def raw_values(params: tuple[Param, ...], args: Args) -> dict[str, object]:
    """What a typed line gives each parameter, as typed: options by key, the free text shared out in order."""
    in_place = [
        Slot(p.name, p.kind, p.required, p.choices, p.spelled, p.flag_word.casefold(), p.also)
        for p in params
        if p.key is None
    ]
    try:
        shared: dict[str, object] = dict(split_in_place(args.text, in_place))
    except GrammarError as error:  # more words than it takes: the usage line says what it does take
        asked = next((p for p in params if p.key is None and p.asked_by_command), None)
        if asked is None:
            raise UsageError(str(error)) from None
        shared = {asked.name: args.text}  # not readable as that value either: the command asks for it
    for p in params:
        if p.key is not None and p.key in args.options:
            shared[p.name] = args.options[p.key]
    return shared


def _offered_flags(params: tuple[Param, ...], given: Mapping[str, object]) -> Mapping[str, object]:
    """A flag's word given as the value of the parameter whose placeholder offers it (`<Area/City>|auto` typed into
    a platform's text option as `auto`) is that flag, as a line reads it."""
    found = dict(given)
    for flag in (p for p in params if p.kind is Kind.FLAG and p.placeholder == ""):
        for p in params:
            typed = found.get(p.name)
            offered = flag.flag_word in (p.placeholder or "").split("|")[1:]
            if offered and isinstance(typed, str) and typed.strip().casefold() == flag.flag_word.casefold():
                found[flag.name] = True
                del found[p.name]
    return found


def bind(context: Context, arguments: type, params: tuple[Param, ...], given: Mapping[str, object]) -> Any:
    """The command's arguments from each parameter's value as given (text, or a platform's typed value): each read
    by its kind and names resolved; a missing required value or a bad one raises the one line to show."""
    defaults = {item.name: item.default for item in dataclasses.fields(arguments)}
    given = _offered_flags(params, given)
    values: dict[str, object] = {}
    for p in params:
        raw = given.get(p.name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if p.required and not p.asked_by_command:
                raise UsageError(p.missing or "", field=_field_of(p))
            values[p.attr] = _absent(p, defaults[p.attr])
            continue
        try:
            value = read_value(
                p.kind, raw, what=p.key or p.name, keyed=p.key is not None, choices=p.choices, spelled=p.spelled
            )
            resolver = None if p.may_be_new else RESOLVERS.get(p.kind)
            values[p.attr] = resolver(context, value) if resolver is not None else value
        except GrammarError as error:
            if p.asked_by_command:
                values[p.attr] = None
                continue
            numbered = p.kind in NUMBERED and not str(raw).strip().lstrip("#").isdecimal()
            if p.missing and isinstance(raw, str) and (numbered or p.kind in (Kind.USER, Kind.CHANNEL)):
                raise UsageError(p.missing, field=_field_of(p)) from None  # a word where its number or @name goes
            if p.invalid:  # the command's own words for a value it cannot take, in the reader's language
                values_of = dict(p.invalid_values)
                raise CommandError(p.invalid, field=_field_of(p), **values_of, value=shown(str(raw))) from None
            raise CommandError(str(error), field=_field_of(p)) from None
        except CommandError as error:
            raise type(error)(
                str(error) if not isinstance(error, UsageError) else error.detail, field=_field_of(p)
            ) from None
    return arguments(**values)


# --- one resolver per kind of name ------------------------------------------------------------------------
# Each takes what the parser read and returns the stored thing, or raises CommandError with the nearest names.


def _city(context: Context, typed: object) -> object:
    from handlers.city import city_by_name

    return city_by_name(context, str(typed))


def _each(resolve: Callable[[Context, object], object], by: str) -> Callable[[Context, object], object]:
    """A resolver of several names in one value: each resolved once, in the order typed, none twice (by `by`)."""

    def resolve_all(context: Context, typed: object) -> object:
        found: dict[object, object] = {}
        assert isinstance(typed, list)  # the kinds of several names parse into a list of them
        for name in typed:
            item = resolve(context, name)
            found.setdefault(getattr(item, by), item)
        return list(found.values())

    return resolve_all


def _cohort(context: Context, typed: object) -> object:
    from handlers.city import cohort_by_name

    return cohort_by_name(context, str(typed))


def _track(context: Context, typed: object) -> object:
    from handlers.goal import track_by_name

    return track_by_name(context, str(typed))


def _event(context: Context, number: object) -> object:
    from handlers.event import event_by_id

    return event_by_id(context, str(number))


def _goal(context: Context, number: object) -> object:
    from handlers.goal import goal_by_ref

    return goal_by_ref(context, str(number))


RESOLVERS: Mapping[Kind, Callable[[Context, object], object]] = {
    Kind.CITY: _city,
    Kind.CITIES: _each(_city, "id"),
    Kind.COHORT: _cohort,
    Kind.TRACK: _track,
    Kind.TRACKS: _each(_track, "key"),
    Kind.EVENT: _event,
    Kind.GOAL: _goal,
}
