"""Each command declares its parameters once (`Command.params`): the usage line help shows, the `key=` options
the grammar allows and every platform's command schema come from that declaration. These tests hold the
generated usage lines and options to the canonical forms Slack and the console have always read, and the
declarations to what people and Discord need (names, descriptions written for people, no cut labels)."""

from __future__ import annotations

import re

import pytest

from handlers.dispatch import FAMILIES
from handlers.forms import FORMS
from handlers.types import Command, Kind, Param

# Today's usage lines, byte for byte: help shows them and errors quote them ("Expected: …").
USAGE = {
    ("city", "register"): "/city register <name> country=<XX> [population=<n>] [mentor=yes] [cohort=<name>]",
    ("city", "join"): "/city join <name>",
    ("city", "approve"): "/city approve <@user> <name>",
    ("city", "reject"): "/city reject <@user> <name>",
    ("city", "requests"): "/city requests",
    ("city", "role"): "/city role <@user> organiser|expert|rep|none",
    # city=: organisers act for a city; `remove <number>` is a form of its own (a Discord subcommand with a number).
    ("city", "interests"): "/city interests <track>, <track>, ... [city=<name>]",
    ("city", "offer"): "/city offer <text> [city=<name>] | /city offer remove <number> [city=<name>]",
    ("city", "need"): "/city need <text> [city=<name>] | /city need remove <number> [city=<name>]",
    ("city", "show"): "/city show [<name>]",
    ("city", "list"): "/city list [track=<track>] [cohort=<name>]",
    ("city", "tracks"): "/city tracks",
    ("city", "timezone"): "/city timezone [<Area/City>|auto]",
    ("city", "language"): "/city language [<code>|auto]",
    ("city", "privacy"): "/city privacy [export|forget] [<@user>]",
    ("city", "audit"): "/city audit [since=<date>] [who=<@user>] [what=<kind>] [page=<n>]",
    ("match", "top"): "/match [<n>] [track=<track>] [city=<name>]",
    ("match", "intro"): "/match intro <name> [again=yes] [city=<name>]",
    ("match", "notfit"): "/match notfit [<name>] [city=<name>]",
    ("match", "fit"): "/match fit <name> [city=<name>]",
    ("match", "round"): "/match round [cohort=<name>] [dry=yes]",
    ("match", "pause"): "/match pause <duration>",
    ("match", "resume"): "/match resume",
    ("match", "stats"): "/match stats [cohort=<name>]",
    ("match", "map"): "/match map [cohort=<name>] [track=<track>] [since=<date>]",
    ("match", "outcome"): (
        "/match outcome <introduction> met shared-practice|joint-proposal|site-visit|nothing-yet | not-met"
    ),
    # city=: organisers act for a city (the contract's `city=<name>` line).
    ("goal", "add"): "/goal add <text> [due=<date>] [track=<track>] [with=<city>;<city>] [city=<name>]",
    ("goal", "list"): "/goal list [<name>|all] [overdue] [track=<track>]",
    ("goal", "update"): (
        "/goal update <id> on-track|at-risk|done|dropped [<note>] [learned=<key learnings>] [city=<name>]"
    ),
    ("goal", "export"): "/goal export",
    ("goal", "chart"): "/goal chart [cohort=<name>] [track=<track>] [city=<name>] [by=city]",
    ("goal", "dashboard"): "/goal dashboard | /goal dashboard reset",
    # cohort= and about= were always taken; help now names them too.
    ("event", "add"): (
        "/event add <title> start=<when> [end=<when>] [tz=<Area/City>] [where=<text>] [remind=7d,1d,1h] "
        "[channel=<#channel>] [repeat=<RRULE>] [cohort=<name>] [about=<text>]"
    ),
    ("event", "list"): "/event list [all]",
    ("event", "rsvp"): "/event rsvp <id> [no]",
    ("event", "remind"): "/event remind <id> <offsets>",
    ("event", "edit"): (
        "/event edit <id> [on=<date>] [title=<text>] [start=<when>] [end=<when>] [tz=<Area/City>] "
        "[where=<text>] [channel=<#channel>] [repeat=<RRULE>|none]"
    ),
    ("event", "cancel"): "/event cancel <id> [on=<date>]",
    ("event", "ics"): "/event ics <id>|all",  # the number or all, as product.md writes it: one of them is required
    ("event", "subscribe"): "/event subscribe [all=yes] | /event subscribe reset",
    ("event", "broadcast"): (
        "/event broadcast <#channel> <text> [at=<when>] | /event broadcast list | /event broadcast cancel <id>"
    ),
}
# The key= options each command's grammar allows, as before.
OPTIONS = {
    ("city", "register"): {"country", "population", "mentor", "cohort"},
    ("city", "interests"): {"city"},
    ("city", "offer"): {"city"},
    ("city", "need"): {"city"},
    ("city", "list"): {"track", "cohort"},
    ("city", "audit"): {"since", "who", "what", "page"},
    ("match", "top"): {"track", "city"},
    ("match", "intro"): {"again", "city"},
    ("match", "notfit"): {"city"},
    ("match", "fit"): {"city"},
    ("match", "round"): {"cohort", "dry"},
    ("match", "stats"): {"cohort"},
    ("match", "map"): {"cohort", "track", "since"},
    ("goal", "add"): {"due", "track", "with", "city"},
    ("goal", "list"): {"track"},
    ("goal", "update"): {"learned", "city"},
    ("goal", "chart"): {"cohort", "track", "city", "by"},
    ("event", "add"): {"start", "end", "tz", "where", "remind", "channel", "repeat", "cohort", "about"},
    ("event", "edit"): {"on", "title", "start", "end", "tz", "where", "channel", "repeat"},
    ("event", "cancel"): {"on"},
    ("event", "subscribe"): {"all"},
    ("event", "broadcast"): {"at"},
}
NAME = re.compile(r"^[-_a-z0-9]{1,32}$")  # Discord's rule for option names, kept to ASCII


def every_command() -> list[tuple[str, str, Command]]:
    return [(family, name, command) for family, commands in FAMILIES.items() for name, command in commands.items()]


def every_param() -> list[tuple[str, Param]]:
    return [
        (f"/{family} {name} {param.name}", param) for family, name, c in every_command() for param in c.all_params()
    ]


def test_every_command_declares_its_parameters_instead_of_writing_its_usage() -> None:
    undeclared = [f"/{family} {name}: {c.head}" for family, name, c in every_command() if not c.declared]
    assert undeclared == []


@pytest.mark.parametrize(("family", "name"), sorted(USAGE))
def test_the_usage_line_generated_from_the_parameters_is_the_canonical_one(family: str, name: str) -> None:
    assert FAMILIES[family][name].usage == USAGE[(family, name)]


def test_every_command_has_its_usage_line_checked() -> None:
    assert {(family, name) for family, name, _ in every_command()} == set(USAGE)


@pytest.mark.parametrize(("family", "name"), sorted(USAGE))
def test_the_options_the_grammar_allows_are_the_declared_keys(family: str, name: str) -> None:
    assert FAMILIES[family][name].options == frozenset(OPTIONS.get((family, name), set()))


@pytest.mark.parametrize(("where", "param"), every_param(), ids=[where for where, _ in every_param()])
def test_each_parameter_is_described_for_people(where: str, param: Param) -> None:
    description = param.description
    assert NAME.match(param.name), where
    assert description.strip() and len(description) <= 100, (where, description)
    assert not description.endswith(("…", "...")), (where, description)  # written whole, never cut
    spoken = re.sub(r"[^a-z0-9]+", " ", description.lower()).strip()
    assert spoken not in {param.name.replace("_", " "), (param.key or param.name)}, (where, description)
    assert "<" not in description and not re.match(r"^\w+:\s*\w+>", description), (where, description)
    if param.kind is Kind.CHOICE:
        assert param.choices and len(param.choices) <= 25, where
    else:
        assert not param.choices, where


def test_in_each_command_required_values_in_place_come_before_optional_ones() -> None:
    """The free text is read in order: an optional value in place before a required one could not be told apart."""
    for family, name, command in every_command():
        for params in (command.params, *(v.params for v in command.variants)):
            in_place = [p.required for p in params if p.key is None and p.kind is not Kind.FLAG]
            assert in_place == sorted(in_place, reverse=True), (family, name)


def test_parameter_names_and_subcommand_names_do_not_collide() -> None:
    for family, commands in FAMILIES.items():
        names = [n for n, c in commands.items()] + [v.name for c in commands.values() for v in c.variants]
        assert len(names) == len(set(names)) and all(NAME.match(n) for n in names), family
        for command in commands.values():
            for params in (command.params, *(v.params for v in command.variants)):
                assert len({p.name for p in params}) == len(params), (family, command.name)


def test_summaries_fit_a_platform_description_whole() -> None:
    for family, name, command in every_command():
        assert 0 < len(command.summary) <= 100, (family, name, len(command.summary))
        for variant in command.variants:
            assert 0 < len(variant.summary) <= 100, (family, variant.name)


def test_form_labels_fit_discord_whole() -> None:
    """Discord cuts a text input's label at 45 characters and its placeholder at 100."""
    for form in FORMS.values():
        assert len(form.title) <= 45, form.name
        for spec in form.fields:
            assert len(spec.label) <= 45, (form.name, spec.id, spec.label)
            assert spec.hint is None or len(spec.hint) <= 100, (form.name, spec.id)
