"""The same input stores the same result however it was typed: as a line (the console's and Slack's form, here
through Discord's own `/citypeers line:`) or as Discord's typed options. Both reach the one binder; these tests give
two representatives of two cities the same generated input, one each way, over real HTTP, and compare what is kept."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from storage.db import unit_of_work
from storage.models import City, Goal, GoalCollaborator, GoalUpdate, Track
from tests.discord.conftest import ADMIN, ANA, BOB, Bot
from tests.discord.test_discord_http import run, shown

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
