"""Discord's slash commands come from each command's declared parameters (`Command.params`), never from its usage
line: every option a person sees is described for people, whole, and valid by Discord's rules, and an interaction
reaches the same command with its values as Discord typed them."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot.discord.commands import (
    BOOLEAN,
    CHANNEL,
    INTEGER,
    STRING,
    SUB_COMMAND,
    USER,
    Invocation,
    canonical_line,
    command_set,
    typed_invocation,
)
from core.grammar import ChannelRef, UserRef
from handlers.dispatch import FAMILIES, SUMMARIES
from handlers.forms import FORMS
from tests.discord.conftest import ADMIN, ANA, BOB, LABS, Bot
from tests.discord.test_discord_http import run, shown

NAME = re.compile(r"^[-_a-z0-9]{1,32}$")


def registered() -> list[dict[str, Any]]:
    return command_set(FAMILIES, SUMMARIES)


def subcommands() -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"/{command['name']} {sub['name']}", sub)
        for command in registered()
        for sub in command.get("options") or []
        if sub["type"] == SUB_COMMAND
    ]


def every_option() -> list[tuple[str, dict[str, Any]]]:
    found = [(f"{where} {o['name']}", o) for where, sub in subcommands() for o in sub.get("options") or []]
    found += [(f"/{c['name']} {o['name']}", o) for c in registered() for o in c.get("options") or [] if o["type"] != 1]
    return found


def declared_descriptions() -> set[str]:
    return {p.description for commands in FAMILIES.values() for c in commands.values() for p in c.all_params()}


def test_the_registered_options_and_their_descriptions() -> None:
    """Every option Discord shows, listed (run with -s to read them), none empty, repeating its name or cut."""
    options = every_option()
    declared = declared_descriptions()
    for where, option in options:
        print(f"{where}: {option['description']}")
        description = option["description"]
        assert description.strip() and len(description) <= 100, where
        spoken = re.sub(r"[^a-z0-9]+", " ", description.lower()).strip()
        assert spoken != option["name"].replace("_", " "), (where, description)
        assert not re.search(r"\w+>|<\w", description), (where, description)  # no placeholder read as words
        if where.split()[0] != "/citypeers":
            assert description in declared, (where, description)  # the declared one, whole: never cut
    assert len(options) > 60


def test_names_and_shapes_are_valid_for_discord() -> None:
    for command in registered():
        assert NAME.match(command["name"]) and 0 < len(command["description"]) <= 100
        subs = command.get("options") or []
        assert len(subs) <= 25, command["name"]
    for where, sub in subcommands():
        assert NAME.match(sub["name"]), where
        assert 0 < len(sub["description"]) <= 100, where
        options = sub.get("options") or []
        assert len(options) <= 25, where
        assert [o["name"] for o in options] == sorted(
            {o["name"] for o in options}, key=[o["name"] for o in options].index
        )
        required = [bool(o.get("required")) for o in options]
        assert required == sorted(required, reverse=True), where  # required before optional
        for option in options:
            assert NAME.match(option["name"]), (where, option["name"])
            assert option["type"] in (STRING, INTEGER, BOOLEAN, USER, CHANNEL), (where, option)
            choices = option.get("choices") or []
            assert len(choices) <= 25 and not (choices and option.get("autocomplete")), (where, option)
            for choice in choices:
                assert 0 < len(choice["name"]) <= 100 and 0 < len(str(choice["value"])) <= 100


def test_subcommand_descriptions_are_the_summaries_whole() -> None:
    summaries = {
        f"/{family} {name}": command.summary
        for family, commands in FAMILIES.items()
        for name, command in commands.items()
    }
    for where, sub in subcommands():
        if where in summaries:
            assert sub["description"] == summaries[where], where


def options_of(where: str) -> dict[str, dict[str, Any]]:
    [sub] = [sub for name, sub in subcommands() if name == where]
    return {option["name"]: option for option in sub.get("options") or []}


def test_each_subcommand_has_exactly_its_declared_parameters() -> None:
    for family, commands in FAMILIES.items():
        for command in commands.values():
            for name, params in ((command.name, command.params), *((v.name, v.params) for v in command.variants)):
                assert list(options_of(f"/{family} {name}")) == [
                    p.name for p in sorted(params, key=lambda p: not p.required) if not p.line_only
                ]


def test_options_say_what_they_are() -> None:
    assert options_of("/city register")["cohort"]["description"] != "City name"
    assert options_of("/city register")["cohort"].get("autocomplete") is True
    assert options_of("/match round")["cohort"].get("autocomplete") is True
    assert options_of("/goal add")["with"]["description"].startswith("Cities")
    # The outcome is one choice, not a `met` option whose value is ignored.
    outcome = options_of("/match outcome")
    assert set(outcome) == {"introduction", "outcome"} and outcome["introduction"]["type"] == INTEGER
    assert [c["value"] for c in outcome["outcome"]["choices"]] == [
        "shared-practice",
        "joint-proposal",
        "site-visit",
        "nothing-yet",
        "not-met",
    ]
    # The other city and the city one acts for are told apart.
    for sub in ("intro", "notfit", "fit"):
        options = options_of(f"/match {sub}")
        assert set(options) == {"name", "for_city"} | ({"again"} if sub == "intro" else set()), sub
        assert options["name"]["description"] != options["for_city"]["description"]
    assert options_of("/city role")["role"]["type"] == STRING
    assert options_of("/event rsvp")["withdraw"]["type"] == BOOLEAN
    assert options_of("/event broadcast")["channel"]["type"] == CHANNEL


def test_every_form_of_event_subscribe_and_broadcast_is_a_subcommand() -> None:
    names = {where for where, _ in subcommands()}
    assert {"/event subscribe-reset", "/event broadcast-list", "/event broadcast-cancel"} <= names
    assert set(options_of("/event broadcast-cancel")) == {"id"}


def interaction(family: str, sub: str, **options: object) -> dict[str, Any]:
    given = [{"name": key, "value": value} for key, value in options.items()]
    return {"name": family, "options": [{"name": sub, "type": SUB_COMMAND, "options": given}]}


@pytest.mark.parametrize(
    ("data", "subcommand", "values"),
    [
        (
            interaction("city", "register", name="Brno", country="CZ", population=380000, mentor=True),
            "register",
            {"name": "Brno", "country": "CZ", "population": 380000, "mentor": True},
        ),
        (
            {
                **interaction("city", "approve", user="42", name="Brno"),
                "resolved": {"users": {"42": {"username": "bo"}}},
            },
            "approve",
            {"user": UserRef("discord:42", "bo"), "name": "Brno"},
        ),
        (interaction("match", "top", count=3, for_city="Porto"), "top", {"count": 3, "for_city": "Porto"}),
        (
            interaction("match", "outcome", introduction=3, outcome="site-visit"),
            "outcome",
            {"introduction": 3, "outcome": "site-visit"},
        ),
        (interaction("goal", "update", id=1, status="done"), "update", {"id": 1, "status": "done"}),
        (
            interaction("event", "broadcast", channel="300", text="Doors open"),
            "broadcast",
            {"channel": ChannelRef("discord:300", "300"), "text": "Doors open"},
        ),
        (interaction("event", "rsvp", id=1, withdraw=True), "rsvp", {"id": 1, "withdraw": True}),
        (interaction("event", "broadcast-cancel", id=4), "broadcast-cancel", {"id": 4}),
        (interaction("event", "subscribe-reset"), "subscribe-reset", {}),
    ],
)
def test_an_interaction_reaches_the_command_as_typed_values(
    data: dict[str, Any], subcommand: str, values: dict[str, object]
) -> None:
    """Integers stay integers, booleans booleans, people and channels references: never a line read again."""
    assert typed_invocation(data, FAMILIES) == Invocation(data["name"], subcommand, values)


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (interaction("city", "help"), "/city help"),
        ({"name": "citypeers", "options": [{"name": "line", "value": "/city show Brno"}]}, "/city show Brno"),
        ({"name": "home"}, "/home"),
    ],
)
def test_help_home_and_the_escape_hatch_are_lines(data: dict[str, Any], line: str) -> None:
    assert typed_invocation(data, FAMILIES) is None
    assert canonical_line(data, FAMILIES) == line


def test_the_goal_form_labels_reach_discord_whole(bot: Bot) -> None:
    for name, form in FORMS.items():
        modal = bot.adapter.interactions.modal(form, name, "/goal update 1")
        labels = [row["components"][0]["label"] for row in modal["components"]]
        assert labels == [spec.label for spec in form.fields][:5], name


def two_cities_with_reps(bot: Bot) -> None:
    for name, country, person in (("Brno", "CZ", ANA), ("Porto", "PT", BOB)):
        run(bot, ADMIN, "city", "register", name=name, country=country, cohort="ICC 2020")
        run(bot, person, "city", "join", name=name)
        run(bot, ADMIN, "city", "approve", user=person, name=name)


def test_match_outcome_and_the_other_forms_run_through_their_subcommands(bot: Bot) -> None:
    two_cities_with_reps(bot)
    assert "Introduced" in shown(run(bot, ANA, "match", "intro", name="Porto"))
    recorded = shown(run(bot, ANA, "match", "outcome", introduction=1, outcome="site-visit"))
    assert recorded == "Thanks: recorded for **Brno** and **Porto**: met, a site visit.", recorded
    assert "not met yet" in shown(run(bot, BOB, "match", "outcome", introduction=1, outcome="not-met"))
    run(bot, ANA, "event", "subscribe")
    assert shown(run(bot, ANA, "event", "subscribe-reset")).startswith("Revoked 1 feed link")
    assert shown(run(bot, ADMIN, "event", "broadcast-list")) == "No broadcasts are waiting to go."
    run(bot, ADMIN, "event", "broadcast", channel=LABS, text="Doors open", at="2030-01-01 09:00")
    assert "Doors open" in shown(run(bot, ADMIN, "event", "broadcast-list"))
    assert "1" in shown(run(bot, ADMIN, "event", "broadcast-cancel", id=1))
    assert shown(run(bot, ADMIN, "event", "broadcast-list")) == "No broadcasts are waiting to go."


def test_cohorts_are_offered_as_they_are_typed(bot: Bot) -> None:
    two_cities_with_reps(bot)
    offered = bot.interactions.autocomplete(ADMIN, "match", "round", "cohort", "icc")
    assert offered.body == {"type": 8, "data": {"choices": [{"name": "ICC 2020", "value": "ICC 2020"}]}}


def test_a_list_of_tracks_is_completed_at_its_last_item(bot: Bot) -> None:
    offered = bot.interactions.autocomplete(ANA, "city", "interests", "tracks", "tourism, upsk")
    assert [c["value"] for c in offered.body["data"]["choices"]] == ["tourism, upskilling"]


def test_the_erase_buttons_confirm_is_no_option_and_is_not_taken_as_one() -> None:
    """`/city privacy forget` asks before it erases; its `confirm` word is the Erase button's, which carries the
    line. Discord is not offered it, and an interaction naming it anyway (as an old registration would) does not
    skip the question."""
    [privacy] = [sub for name, sub in subcommands() if name == "/city privacy"]
    assert {option["name"] for option in privacy["options"]} == {"action", "user"}
    data = {
        "name": "city",
        "options": [
            {
                "name": "privacy",
                "type": SUB_COMMAND,
                "options": [
                    {"name": "action", "type": STRING, "value": "forget"},
                    {"name": "confirm", "type": BOOLEAN, "value": True},
                ],
            }
        ],
    }
    assert typed_invocation(data, FAMILIES) == Invocation("city", "privacy", {"action": "forget"})
