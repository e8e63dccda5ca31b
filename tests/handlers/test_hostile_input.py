"""Hostile input to every command family, on SQLite and PostgreSQL: long, nested, unbalanced and binary text
gets one line back, changes nothing and raises nothing, and the work it causes is linear in its length.

Work is counted, not timed (see tests/core/test_linear_input.py): Python lines executed outside the database
layer, whose work does not depend on how long the typed text is. Slash commands, button values, modal fields
and console lines all reach `handlers.dispatch.handle`, so each is tried here the way its adapter calls it.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

from bot.console import Console
from bot.slack import forms as slack_forms
from core.grammar import MAX_LINE
from handlers.dispatch import FAMILIES, handle
from handlers.forms import FORMS, Choices
from handlers.types import Reply, Request, Services
from tests.core.test_linear_input import FIXED, GROWTH, hostile, outside_database, work_done
from tests.handlers.conversation import ask, say
from tests.support.snapshot import snapshot

pytestmark = pytest.mark.slow  # every command traced line by line over long input: minutes of work

SMALL = 300  # ten times this, plus the command, stays under MAX_LINE: these lines are parsed
HUGE = 100_000
# What refusing a line over the limit may cost, in Python lines: a fixed handful, whatever its length (the refusal
# is written in the reader's language: finding it and looking the message up are a few lines more, none per character).
REFUSAL_WORK = 100


@pytest.fixture
def programme(services: Services) -> Services:
    """ana (admin) represents Porto, bob represents Brno; an event and a goal exist."""
    say(services, "ana", "/city register Brno country=CZ population=380000 cohort=ICC")
    say(services, "ana", "/city register Porto country=PT cohort=ICC")
    for user, city in (("bob", "Brno"), ("ana", "Porto")):
        say(services, user, f"/city join {city}")
        say(services, "ana", f"/city approve @{user} {city}")
    say(services, "ana", "/city interests tourism")
    assert say(services, "ana", '/event add Summit start="2026-12-01 10:00"').startswith("Scheduled Summit (event 1)")
    assert say(services, "ana", "/goal add Publish the open data strategy").startswith("Goal #1 for Porto")
    return services


def lines_for(payload: str) -> Iterator[str]:
    """The payload in every place a command takes text: as a subcommand, as its text, as each option's value."""
    for family, commands in FAMILIES.items():
        yield f"/{family} {payload}"
        for name, command in commands.items():
            yield f"/{family} {name} {payload}"
            for option in sorted(command.options):
                yield f"/{family} {name} Brno {option}={payload}"


def press(services: Services, user: str, value: str) -> Reply:
    """What the Slack adapter does with a button's value or a modal's command line (listeners.run_line)."""
    family, _, text = value.strip().lstrip("/").partition(" ")
    return handle(services, Request(user_id=user, user_name=user, command=family, text=text))


# Hostile-looking lines that are valid commands: `with=` holding only separators names no city, so the goal
# "Brno" is added with no collaborators.
ACCEPTED = ("/goal add Brno with=,;",)


def assert_one_line_and_nothing_changed(services: Services, line: str) -> Reply:
    """An error is one line and changes nothing; a line that is not an error changes nothing either."""
    before = snapshot(services.engine)
    reply = ask(services, "ana", line)
    if reply.error or not line.startswith(ACCEPTED):
        assert snapshot(services.engine) == before, line[:120]
        assert reply.notices == [] and reply.files == [], line[:120]
    if reply.error:
        assert len(reply.plain().splitlines()) == 1, (line[:120], reply.plain()[:300])
    return reply


KINDS = {
    "long": ("one long word", "many words", "long key", "digits", "many known keys", "many unknown keys"),
    "nested": ("key=key=key", "option chain", "quotes", "curly quotes", "angles", "separators", "markup"),
    "unbalanced": ("unclosed quote", "slack mention, no close", "slack mention with bar", "channel, no close"),
    "binary": ("line breaks", "NULs", "controls", "surrogates", "random bytes"),
}


def test_every_kind_of_hostile_text_is_tried() -> None:
    assert sorted(kind for kinds in KINDS.values() for kind in kinds) == sorted(kind for kind, _ in hostile(SMALL))


@pytest.mark.slow(seconds=20)
@pytest.mark.parametrize("group", KINDS)
def test_hostile_text_anywhere_gets_one_line_and_changes_nothing(programme: Services, group: str) -> None:
    payloads = dict(hostile(10 * SMALL))
    for kind in KINDS[group]:
        for line in lines_for(payloads[kind]):
            assert len(line) <= MAX_LINE, (kind, line[:120])
            assert_one_line_and_nothing_changed(programme, line)


ODD_LINES = [
    "/city register Brno\x00 country=CZ",
    "/city offer open data \udcff",
    "/goal add \x1b[31mred\x1b[0m",
    "/event add Summit\x07 start=2027-01-01",
    "/city show " + "\u202e" * 10 + "Brno",  # a direction override is text, shown as typed, never a crash
    "/city interests tourism\n\n\nupskilling",
    "/city list track=\u200b",
    "/match 9999999999999999999999999",
    "/match ²",
    "/goal update ² done",
    "/event rsvp 99999999999999999999999",
    "/event rsvp ①",
    "/city register Atlantis country=CZ population=99999999999999999999",
    "/event add Summit start=2026-12-01T10:00+99:00",
    "/event add Summit start=2026-12-01 remind=9999999999d",
    '/event add Summit start="' + "1" * 500 + '"',
    "/match pause 99999999w",
    "/event add Summit start=2027-01-01 tz=Europe",  # a directory of the zone database, not a zone
    "/event add Summit start=2027-01-01 tz=" + "x" * 3000,
]


def test_binary_and_out_of_range_input_is_one_line(programme: Services) -> None:
    for line in ODD_LINES:
        reply = assert_one_line_and_nothing_changed(programme, line)
        assert reply.error or line.startswith("/city show"), (line[:120], reply.plain())


def test_digits_int_refuses_are_text_not_a_crash(programme: Services) -> None:
    # `²` is a digit to isdigit() but not to int(): a remove without a number it can read, refused, not a crash
    reply = ask(programme, "ana", "/city offer remove ²")
    assert reply.error and reply.plain() == "Porto lists no offers yet, so there is nothing to remove."


def test_control_characters_are_refused_before_parsing(programme: Services) -> None:
    reply = ask(programme, "ana", "/city register Brno\x00 country=CZ")
    assert reply.plain() == "Character 14 is U+0000, a control character or broken text; remove it and try again."


@pytest.mark.parametrize("family", list(FAMILIES))
def test_work_grows_linearly_with_the_input(programme: Services, family: str) -> None:
    kinds = ("one long word", "many words", "option chain", "many unknown keys", "quotes", "unclosed quote")
    ask(programme, "ana", f"/{family} help")  # warm caches (the first command compiles its statements)
    for kind in kinds:
        small, large = dict(hostile(SMALL))[kind], dict(hostile(10 * SMALL))[kind]
        commands = FAMILIES[family]
        for name, command in commands.items():
            shapes = [f"/{family} {name} {{}}"] + [f"/{family} {name} Brno {o}={{}}" for o in sorted(command.options)]
            for shape in shapes[:2]:
                short, long = shape.format(small), shape.format(large)
                ask(programme, "ana", short)  # the same statements, compiled once
                work_small = outside_database(lambda line=short: ask(programme, "ana", line))
                work_large = outside_database(lambda line=long: ask(programme, "ana", line))
                assert work_large <= GROWTH * work_small + FIXED, (shape, kind, work_small, work_large)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_a_100000_character_command_is_refused_at_once_with_one_line(programme: Services, family: str) -> None:
    before = snapshot(programme.engine)
    for name in [*FAMILIES[family], ""]:
        text = f"{name} {'x' * HUGE} country=CZ".strip()
        reply = ask(programme, "ana", f"/{family} {text}")
        assert reply.error
        assert reply.plain() == f"Commands are at most 4,000 characters; this one has {len(text):,}."
        work = work_done(lambda t=text: handle(programme, Request("ana", "ana", family, t)))
        assert work <= REFUSAL_WORK
        assert work == work_done(lambda t=text: handle(programme, Request("ana", "ana", family, t * 10)))
    assert snapshot(programme.engine) == before


def test_a_line_at_the_limit_is_parsed(programme: Services) -> None:
    text = "show " + "x" * (MAX_LINE - len("show "))
    assert "No city called" in ask(programme, "ana", f"/city {text}").plain()
    assert "at most 4,000" in ask(programme, "ana", f"/city {text}x").plain()


def test_a_forged_button_value_gets_the_same_refusal(programme: Services) -> None:
    assert not ask(programme, "carla", "/city join Brno").error
    approve = "/city approve <@carla> Brno"  # the Approve button an organiser is sent carries this command
    before = snapshot(programme.engine)
    forged = approve + " " + "<@" * (HUGE // 2)
    refused = press(programme, "ana", forged)
    assert refused.error and refused.plain().startswith("Commands are at most 4,000 characters; this one has ")
    assert work_done(lambda: press(programme, "ana", forged)) <= REFUSAL_WORK + 10
    for kind, payload in hostile(3 * SMALL):
        pressed = press(programme, "ana", approve + " " + payload)
        assert pressed.error and len(pressed.plain().splitlines()) == 1, kind
    assert snapshot(programme.engine) == before
    assert press(programme, "ana", approve).plain() == "@carla now represents Brno."


def test_forged_modal_fields_get_the_same_refusal(programme: Services) -> None:
    before = snapshot(programme.engine)
    add, update = FORMS["goal-add"], FORMS["goal-update"]
    huge = "x" * HUGE
    done = {"status": {"value": {"selected_option": {"value": "done"}}}}

    def built(form, values, key):  # type: ignore[no-untyped-def]
        return form.build(slack_forms.answers(form, values), key)

    forged = [
        built(add, {"text": {"value": {"value": huge}}}, ""),
        built(add, {"text": {"value": {"value": "ok"}}, "due": {"value": {"selected_date": huge}}}, ""),
        built(add, {"text": {"value": {"value": "ok"}}, "track": {"value": {"selected_option": {"value": huge}}}}, ""),
        built(update, {**done, "note": {"value": {"value": huge}}}, "1"),
        built(update, {**done, "learned": {"value": {"value": huge}}}, "1"),
    ]
    for line in forged:
        reply = press(programme, "ana", line)
        assert reply.error and reply.plain().startswith("Commands are at most 4,000 characters; this one has ")
    for form in (add, update):
        modal = slack_forms.modal(form, "/goal update 1", Choices(tracks=[("tourism", "Tourism")]))
        block_ids = {block["block_id"] for block in modal["blocks"]}
        assert form.field_for(reply.error_field) in block_ids  # the refusal is shown under a field of the modal
    assert snapshot(programme.engine) == before


@pytest.mark.parametrize(
    "values",
    [{}, {"text": None}, {"text": "x"}, {"text": {"value": ["x"]}}, {"text": {"value": {"selected_option": "x"}}}],
)
def test_malformed_modal_values_are_read_as_blank(values: dict) -> None:
    form = FORMS["goal-add"]
    assert form.build(slack_forms.answers(form, values), "") == "/goal add "
    assert slack_forms.modal(FORMS["goal-update"], "", Choices())["private_metadata"] == ""


def test_building_a_modal_command_is_linear() -> None:
    add = FORMS["goal-add"]

    def build(n: int) -> None:
        track = {"selected_option": {"value": "x " * n}}
        add.build(slack_forms.answers(add, {"text": {"value": {"value": "ab " * n}}, "track": {"value": track}}), "")

    assert work_done(lambda: build(10 * SMALL)) <= GROWTH * work_done(lambda: build(SMALL)) + FIXED


def test_the_console_answers_a_huge_line_with_one_line(programme: Services) -> None:
    out = io.StringIO()
    console = Console(programme, "ana", out)
    assert console.run_line("/city register " + "x" * HUGE + " country=CZ\n")
    # Notices the set-up queued may follow; the answer to the line is its first line.
    assert out.getvalue().splitlines()[0] == "error: Commands are at most 4,000 characters; this one has 100,020."
