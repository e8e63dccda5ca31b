"""The same input stores the same result however it was typed: as a line (the console's and Slack's form, here
through Discord's own `/citypeers line:`) or as Discord's typed options. Both reach the one binder; these tests give
two representatives of two cities the same generated input, one each way, over real HTTP, and compare what is kept."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import SQLModel, select

from bot.discord.commands import Subcommand, command_set, subcommands_of
from core.clock import FakeClock
from handlers.dispatch import FAMILIES, SUMMARIES
from handlers.types import Kind, Param
from storage.db import unit_of_work
from storage.models import City, Goal, GoalCollaborator, GoalUpdate, Track
from tests.conftest import START
from tests.discord.conftest import ADMIN, ANA, BOB, LABS, Bot, serving
from tests.discord.test_discord_http import run, shown
from tests.support.databases import MigratedCopies
from tests.support.discord import FakeDiscord

WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzáéöüłšž", min_size=1, max_size=9)
# What people type into a goal: words, an apostrophe inside a word, quotes inside the text (never around the
# whole of it: a wholly quoted value is its content, tested in tests/core).
LATER_WORD = st.one_of(WORD, WORD.map(lambda w: f"{w}'s"), WORD.map(lambda w: f'"{w}"'))
GOAL_TEXT = st.tuples(WORD, st.lists(LATER_WORD, max_size=5)).map(lambda t: [t[0], *t[1]])
# How the line form quotes a text: as typed, or in the quotes phones and Slack put around it.
LINE_QUOTES = st.sampled_from([("", ""), ("\u201c", "\u201d"), ("\u00ab", "\u00bb"), ("\u201e", "\u201c")])
TRACKS = st.sampled_from([None, "tourism", "TOURISM", "Green economy", "upskill"])
PARTNERS = st.lists(st.sampled_from(["Lyon", "lyon", "Tartu", "Łódź"]), max_size=3)
SLOW = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def around(text: str, quotes: tuple[str, str]) -> str:
    """The text in the line's quotes; bare when it holds double quotes itself, as a quoted text that does is kept
    as typed (which mark closes it is not known: tests/core/test_quotes.py)."""
    return text if '"' in text else f"{quotes[0]}{text}{quotes[1]}"


@pytest.fixture
def two_cities(bot: Bot) -> Bot:
    """ana represents Brno and bob Porto; Lyon, Tartu and Łódź are there to work with."""
    for name, country in (("Brno", "CZ"), ("Porto", "PT"), ("Lyon", "FR"), ("Tartu", "EE"), ("Łódź", "PL")):
        run(bot, ADMIN, "city", "register", name=name, country=country)
    for who, city in ((ANA, "Brno"), (BOB, "Porto")):
        run(bot, who, "city", "join", name=city)
        run(bot, ADMIN, "city", "approve", user=who, name=city)
    return bot


def latest_goal(bot: Bot, city: str) -> tuple[str, date, str | None, list[str]]:
    """The city's newest goal as kept: text, due date, track key and the cities named to work with."""
    with unit_of_work(bot.services.engine) as session:
        city_id = session.exec(select(City.id).where(City.name == city)).one()
        goal = session.exec(select(Goal).where(Goal.city_id == city_id).order_by(Goal.id.desc())).first()  # type: ignore[union-attr]
        assert goal is not None
        track = session.exec(select(Track.key).where(Track.id == goal.track_id)).first() if goal.track_id else None
        partners = session.exec(
            select(City.name)
            .join(GoalCollaborator, GoalCollaborator.city_id == City.id)  # type: ignore[arg-type]
            .where(GoalCollaborator.goal_id == goal.id)
            .order_by(City.name)
        ).all()
        return goal.text, goal.due_on, track, list(partners)


@SLOW
@given(
    words=GOAL_TEXT,
    quotes=LINE_QUOTES,
    due_in=st.one_of(st.none(), st.integers(min_value=0, max_value=700)),
    track=TRACKS,
    partners=PARTNERS,
)
def test_a_goal_typed_as_a_line_or_as_options_is_kept_the_same(
    two_cities: Bot,
    words: list[str],
    quotes: tuple[str, str],
    due_in: int | None,
    track: str | None,
    partners: list[str],
) -> None:
    bot, text = two_cities, " ".join(words)
    due = (bot.services.clock.now().date() + timedelta(days=due_in)).isoformat() if due_in is not None else None
    options: dict[str, object] = {"text": text}
    line = f"/goal add {around(text, quotes)}"
    for key, value in (("due", due), ("track", track), ("with", "; ".join(partners) or None)):
        if value is not None:
            options[key] = value
            line += f' {key}="{value}"'
    by_options = shown(run(bot, ANA, "goal", "add", **options))
    by_line = shown(run(bot, BOB, "citypeers", line=line))
    assert ("error" in by_options.lower()) == ("error" in by_line.lower()), (by_options, by_line)
    assert latest_goal(bot, "Brno") == latest_goal(bot, "Porto")
    assert latest_goal(bot, "Brno")[0] == text  # the text as typed: no quotes of the line's added, none lost


@SLOW
@given(
    status=st.sampled_from(["on-track", "at-risk", "done", "dropped"]),
    said=st.sampled_from(["as declared", "upper", "two words"]),
    note=st.one_of(st.none(), GOAL_TEXT.map(" ".join)),
    quotes=LINE_QUOTES,
)
def test_an_update_typed_as_a_line_or_as_options_is_kept_the_same(
    two_cities: Bot, status: str, said: str, note: str | None, quotes: tuple[str, str]
) -> None:
    bot = two_cities
    run(bot, ANA, "goal", "add", text="Open a data hub")
    run(bot, BOB, "goal", "add", text="Open a data hub")
    with unit_of_work(bot.services.engine) as session:
        ids = {
            name: session.exec(
                select(Goal.id).join(City, City.id == Goal.city_id).where(City.name == name).order_by(Goal.id.desc())  # type: ignore[arg-type]
            ).first()
            for name in ("Brno", "Porto")
        }
    typed = {"as declared": status, "upper": status.upper(), "two words": status.replace("-", " ")}[said]
    options: dict[str, object] = {"id": ids["Brno"], "status": status}
    line = f"/goal update {ids['Porto']} {typed}"
    if note is not None:
        options["note"] = note
        line += f" {around(note, quotes)}"
    run(bot, ANA, "goal", "update", **options)
    run(bot, BOB, "citypeers", line=line)
    with unit_of_work(bot.services.engine) as session:
        kept = [
            (
                session.get(Goal, ids[name]).status,  # type: ignore[union-attr]
                session.exec(
                    select(GoalUpdate.note).where(GoalUpdate.goal_id == ids[name]).order_by(GoalUpdate.id.desc())  # type: ignore[union-attr]
                ).first(),
            )
            for name in ("Brno", "Porto")
        ]
    assert kept[0] == kept[1] and kept[0] == (status, note)


# --- every command: the same input, typed as a line or as Discord's options, has the same outcome --------------
#
# Two worlds, alike to start with: two databases, two fake Discords, one clock. For each command declared (every
# subcommand Discord registers, so a new command is covered when it is declared), Hypothesis makes values of the
# kinds its parameters declare; one world gets them as Discord's typed options, the other as the line a person
# would type, built from the same declarations (`/citypeers line:` reads it as Slack and the console do). Both must
# answer the same words and keep the same rows, and so stay alike for the next command. The worlds live for the
# module: commands act on what earlier ones made, as they would in a programme.

CAROL = "1310000000000000904"
PEOPLE = {"bob": BOB, "carol": CAROL}  # who a command may name; ana and the admin keep their roles to act
FAMILIES_RUN = ("city", "match", "goal", "event")
NO_SPACE_WORD = WORD.filter(lambda w: w.casefold() not in ("help", "no", "yes", "all", "auto", "confirm"))
TEXT = st.tuples(NO_SPACE_WORD, st.lists(LATER_WORD, max_size=4)).map(lambda t: " ".join([t[0], *t[1]]))
PLAIN_TEXT = st.lists(NO_SPACE_WORD, min_size=1, max_size=4).map(" ".join)  # inside key="…": no double quotes
CITY_NAMES = st.sampled_from(["Brno", "porto", "Lyon", "TARTU", "Łódź", "Atlantis"])
NEW_CITY_NAMES = st.sampled_from(["Riga", "Gdańsk", "Brno", "Saint-Étienne"])
COHORTS = st.sampled_from(["ICC 2027", "icc 2027", "Eurocities"])
TRACK_NAMES = st.sampled_from(["tourism", "Green economy", "upskill", "TOURISM"])
DATES = st.sampled_from(["2027-04-15", "16/04/2027", "2027-05-02", "2026-11-01"])
WHENS = st.sampled_from(["2027-04-15 10:00", "16/04/2027 09:30", "2027-04-20", "2027-03-28 02:30", "2027-05-03 18:00"])
ZONES = st.sampled_from(["Europe/Tallinn", "europe/lisbon", "CET", "EEST", "UTC", "+02:00", "PST"])


@dataclass(frozen=True)
class Typed:
    """One value as both forms give it: Discord's option value, and the text the line holds (None: left out)."""

    option: object
    line: str | None


def typed_text(text: str) -> Typed:
    return Typed(text, text)


def typed_value(param: Param, command: str) -> st.SearchStrategy[Typed]:
    """Values of the parameter's kind, as people give them; some wrong, as people give them too."""
    kind = param.kind
    if kind is Kind.TEXT:
        if command == "city register" and param.name == "name":
            return NEW_CITY_NAMES.map(typed_text)
        if param.key is None:
            return TEXT.map(typed_text)
        return PLAIN_TEXT.map(typed_text)
    if kind is Kind.CITY:
        return CITY_NAMES.map(typed_text)
    if kind is Kind.CITIES:
        return st.lists(CITY_NAMES, min_size=1, max_size=3).map(lambda names: typed_text("; ".join(names)))
    if kind is Kind.COHORT:
        return COHORTS.map(typed_text)
    if kind is Kind.TRACK:
        return TRACK_NAMES.map(typed_text)
    if kind is Kind.TRACKS:
        return st.lists(TRACK_NAMES, min_size=1, max_size=3).map(lambda names: typed_text(", ".join(names)))
    if kind is Kind.USER:
        return st.sampled_from(sorted(PEOPLE.values())).map(lambda user: Typed(user, f"<@{user}>"))
    if kind is Kind.CHANNEL:
        return st.just(Typed(LABS, f"<#{LABS}>"))
    if kind is Kind.WHEN:
        return WHENS.map(typed_text)
    if kind is Kind.DATE:
        return DATES.map(typed_text)
    if kind is Kind.DURATION:
        return st.sampled_from(["2w", "10d", "3 days", "0d"]).map(typed_text)
    if kind is Kind.OFFSETS:
        return st.sampled_from(["7d,1d", "1h", "2d, 1h", "1d,1d", "0m"]).map(typed_text)
    if kind is Kind.ZONE:
        return ZONES.map(typed_text)
    if kind is Kind.RRULE:
        return st.sampled_from(["FREQ=WEEKLY;COUNT=3", "FREQ=MONTHLY;BYDAY=1MO;COUNT=2", "none"]).map(typed_text)
    if kind in (Kind.NUMBER, Kind.EVENT, Kind.GOAL):
        low = 0 if kind is Kind.NUMBER else 1
        return st.integers(min_value=low, max_value=4).map(lambda n: Typed(n, str(n)))
    if kind is Kind.YESNO:
        return st.booleans().map(lambda yes: Typed(yes, "yes" if yes else "no"))
    if kind is Kind.FLAG:
        return st.booleans().map(lambda on: Typed(on, param.flag_word if on else None))
    if kind is Kind.CHOICE:
        return st.sampled_from(param.choices).map(lambda choice: Typed(choice, param.in_line(choice)))
    raise AssertionError(f"no values for the kind {kind}: say how people give one here")


def in_line(param: Param, text: str) -> str:
    """The value as it stands in the line: `key=value`, quoted when it holds a space; in place, quoted when a
    later word would otherwise be read as part of it."""
    if param.key is not None:
        return f'{param.key}="{text}"' if (" " in text or not text) else f"{param.key}={text}"
    return f'"{text}"' if " " in text and param.kind is not Kind.TEXT else text


def registered_options(family: str, sub: Subcommand) -> set[str]:
    """The options Discord is told this subcommand takes: what a person can give on Discord."""
    [definition] = [d for d in command_set(FAMILIES, SUMMARIES) if d["name"] == family]
    [subcommand] = [o for o in definition["options"] if o["name"] == sub.name]
    return {option["name"] for option in subcommand.get("options") or []}


@st.composite
def cases(draw: st.DrawFn, family: str, sub: Subcommand) -> tuple[dict[str, object], str]:
    """The Discord options given, and the line that says the same."""
    shown = registered_options(family, sub)
    options: dict[str, object] = {}
    words = [sub.command.head, *([sub.words] if sub.words else [])]
    for param in sub.params:
        if param.name not in shown or not (param.required or draw(st.booleans())):
            continue
        value = draw(typed_value(param, f"{family} {sub.command.name}"))
        options[param.name] = value.option
        if value.line is not None:
            words.append(in_line(param, value.line))
    return options, " ".join(words)


def every_subcommand() -> list[tuple[str, Subcommand]]:
    return [(family, sub) for family in FAMILIES_RUN for sub in subcommands_of(FAMILIES[family])]


TOKEN = re.compile(r"[A-Za-z0-9_-]{24,}")  # a link's or a stored button's random token


def kept(bot: Bot) -> dict[str, list[dict[str, object]]]:
    """Every row of every table, in key order; what differs between two worlds for reasons of their own left out:
    the platform's interaction ids (seen_event) and its scheduled events' ids, and random tokens (of links, stored
    buttons, a notice's key)."""
    random = {"token", "token_hash", "scheduled_event_id"}
    found: dict[str, list[dict[str, object]]] = {}
    with bot.services.engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            if table.name in ("seen_event", "alembic_version"):
                continue
            order = list(table.primary_key.columns) or list(table.columns)
            rows = connection.execute(table.select().order_by(*order)).mappings()
            found[table.name] = [
                {k: TOKEN.sub("…", v) if isinstance(v, str) else v for k, v in row.items() if k not in random}
                for row in rows
            ]
    return found


def differences(worlds: Worlds) -> list[str]:
    """What one world keeps and the other does not: table, row and column, each world's value."""
    ours, theirs = kept(worlds.by_options), kept(worlds.by_line)
    found = []
    for table, rows in ours.items():
        other = theirs[table]
        if len(rows) != len(other):
            found.append(f"{table}: {len(rows)} rows by options, {len(other)} by line")
            continue
        for index, (row, twin) in enumerate(zip(rows, other, strict=True)):
            found += [f"{table}[{index}].{k}: {v!r} / {twin[k]!r}" for k, v in row.items() if twin[k] != v]
    return found


@dataclass
class Worlds:
    by_options: Bot
    by_line: Bot

    def both(self, who: str, family: str, sub: str | None = None, **options: object) -> None:
        for bot in (self.by_options, self.by_line):
            answer(bot, who, family, sub, options)


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory, migrated_copies: MigratedCopies) -> Iterator[Worlds]:
    folder = tmp_path_factory.mktemp("worlds")
    clock = FakeClock(START)
    with contextlib.ExitStack() as stack:
        bots = []
        for name in ("options", "line"):
            discord = stack.enter_context(FakeDiscord())
            discord.add_channel(LABS, name="city-labs")
            migrated_copies.sqlite(folder / f"{name}.db")
            bots.append(stack.enter_context(serving(f"sqlite:///{folder / name}.db", discord, clock)))
        made = Worlds(*bots)
        for name, country in (("Brno", "CZ"), ("Porto", "PT"), ("Lyon", "FR"), ("Tartu", "EE"), ("Łódź", "PL")):
            made.both(ADMIN, "city", "register", name=name, country=country, cohort="ICC 2027")
        for who, city in ((ANA, "Brno"), (BOB, "Porto")):
            made.both(who, "city", "join", name=city)
            made.both(ADMIN, "city", "approve", user=who, name=city)
        made.both(CAROL, "city", "join", name="Lyon")  # waits: an organiser may approve or reject it
        made.both(ANA, "city", "interests", tracks="tourism, upskill")
        made.both(ANA, "city", "offer", text="Open data portal")
        made.both(ANA, "city", "need", text="Mobility data")
        made.both(ANA, "goal", "add", text="Open a data hub", track="tourism")
        made.both(ANA, "match", "intro", name="Porto")
        made.both(ADMIN, "event", "add", title="City Lab", start="2027-04-12 09:00", channel=LABS)
        made.both(ADMIN, "event", "add", title="Weekly call", start="2027-01-04 10:00", repeat="FREQ=WEEKLY;COUNT=8")
        made.both(ADMIN, "event", "broadcast", channel=LABS, text="Welcome", at="2027-01-10 09:00")
        assert not differences(made)
        yield made
        for bot in bots:
            assert not bot.discord.problems, bot.discord.problems


def answer(bot: Bot, who: str, family: str, sub: str | None, options: dict[str, object]) -> str:
    """What the person reads back (on this loaded, shared machine an answer may take longer than Discord's 3 s)."""
    sent = bot.interactions.command(who, family, sub, options, username=f"user{who[-3:]}")
    assert sent.status == 200 and sent.body == {"type": 5, "data": {"flags": 64}}, sent.body
    return TOKEN.sub("…", shown(bot.discord.wait_for_original(sent.token, timeout=30)))


@pytest.mark.slow  # two worlds, and every command of the contract typed both ways a few times
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@pytest.mark.parametrize(("family", "sub"), every_subcommand(), ids=lambda item: getattr(item, "name", item))
@given(data=st.data(), who=st.sampled_from([ADMIN, ANA]))
def test_every_command_typed_as_a_line_or_as_options_answers_and_keeps_the_same(
    worlds: Worlds, family: str, sub: Subcommand, data: st.DataObject, who: str
) -> None:
    options, line = data.draw(cases(family, sub), label="options, line")
    by_options = answer(worlds.by_options, who, family, sub.name, options)
    by_line = answer(worlds.by_line, who, "citypeers", None, {"line": line})
    assert by_options == by_line
    assert not differences(worlds)
