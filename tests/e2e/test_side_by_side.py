"""Commands fired truly side by side over signed HTTP: each gets its one right answer, and what it added is there.

The issue's case: twelve people new to the bot send three commands each (`/city show`, `/event list`,
`/city join`) while an organiser, new to the bot as well, adds six events — 42 signed slash commands released
together by a barrier. Once, 16 of them answered "Something went wrong on our side": a person's first commands
raced to create them (a unique violation on member.external_id), and an event added that way was lost.
Run against the real bolt app in this process, against a real `citypeers run`, and against two of them on one
PostgreSQL database with the commands split between them.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from bot.app import build_services
from handlers.city_import import import_cities
from handlers.types import Services
from tests.conftest import _postgres_schema_url, make_settings
from tests.e2e.conftest import ADMIN, Bot
from tests.support.botprocess import BotProcess
from tests.support.fakeslack import FakeSlack, Sent, SlackSender

pytestmark = pytest.mark.slow  # real processes and threads on real time

PEOPLE = tuple(f"U0NEW{n:02d}" for n in range(12))
CITIES = ("Brno", "Porto", "Tallinn")
EVENTS = tuple(f"City Lab day {n}" for n in range(1, 7))
LAB_CHANNEL = "<#C0LAB|city-lab>"
REPLY_TIMEOUT = 60.0


@dataclass(frozen=True)
class Line:
    """One command someone types, and what its answer must say."""

    user: str
    text: str
    answers: Callable[[str], bool]


def says(*fragments: str) -> Callable[[str], bool]:
    return lambda reply: any(fragment in reply for fragment in fragments)


def the_morning(now: datetime) -> list[Line]:
    """12 new people x 3 commands, and 6 events added by the organiser: 42 lines."""
    lines = []
    for n, person in enumerate(PEOPLE):
        city = CITIES[n % len(CITIES)]
        lines += [
            Line(person, f"/city show {city}", says(f"{city} · ")),
            Line(person, "/event list", says("Upcoming events", "No upcoming events")),
            Line(person, f"/city join {city}", says(f"Asked to represent {city}.")),
        ]
    for day, title in enumerate(EVENTS, start=1):
        start = (now + timedelta(days=day)).strftime("%Y-%m-%d 09:00")
        lines.append(
            Line(ADMIN, f'/event add {title} start="{start}" tz=UTC channel={LAB_CHANNEL}', says(f"Scheduled {title} "))
        )
    return lines


def fire_together(senders: list[SlackSender], lines: list[Line]) -> list[Sent]:
    """One thread per line, released at once by a barrier; line i goes to senders[i % len(senders)]."""
    barrier = threading.Barrier(len(lines))
    sent: list[Sent | BaseException | None] = [None] * len(lines)

    def post(index: int) -> None:
        line = lines[index]
        barrier.wait(timeout=30)
        try:
            sent[index] = senders[index % len(senders)].command(line.user, line.text)
        except BaseException as error:  # noqa: BLE001 - reported with its line below
            sent[index] = error

    threads = [threading.Thread(target=post, args=(i,), name=f"side-by-side-{i}") for i in range(len(lines))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    failures = [(line.text, result) for line, result in zip(lines, sent, strict=True) if not isinstance(result, Sent)]
    assert not failures, failures
    return sent  # type: ignore[return-value]


def replies(slack: FakeSlack, sent: list[Sent]) -> list[list[dict[str, Any]]]:
    """Every reply each command got at its response_url, once all arrived and a moment passed for doubles."""
    tokens = {s.response_token for s in sent}
    slack.wait_for(
        lambda: tokens <= {c.token for c in slack.calls("response")},
        timeout=REPLY_TIMEOUT,
        what="a reply to every command",
    )
    time.sleep(0.5)  # a second reply to any command would arrive now
    return [slack.responses(s.response_token) for s in sent]


def assert_every_command_answered(slack: FakeSlack, lines: list[Line], sent: list[Sent]) -> None:
    refused = [(line.text, s) for line, s in zip(lines, sent, strict=True) if s.status != 200]
    assert not refused, f"acknowledged with another status than 200: {refused}"
    answers = replies(slack, sent)
    wrong = [
        (line.user, line.text, [body.get("text", "") for body in bodies])
        for line, bodies in zip(lines, answers, strict=True)
        if len(bodies) != 1 or "went wrong" in bodies[0].get("text", "") or not line.answers(bodies[0].get("text", ""))
    ]
    assert not wrong, f"{len(wrong)} of {len(lines)} commands were not answered once and rightly: {wrong}"


def assert_everything_is_there(slack: FakeSlack, sender: SlackSender, url: str) -> None:
    listed = sender.command(ADMIN, "/event list")
    assert listed.status == 200
    (body,) = slack.wait_for_response(listed.response_token, timeout=REPLY_TIMEOUT)
    missing = [title for title in EVENTS if f"{title} (event " not in body["text"]]
    assert not missing, f"events added side by side are missing: {missing}\n{body['text']}"

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            ids = connection.execute(text("SELECT external_id FROM member")).scalars()
            members = Counter(i.removeprefix("slack:") for i in ids)  # ids may carry their platform
            asked = connection.execute(
                text(
                    "SELECT m.external_id FROM join_request j JOIN member m ON m.id = j.member_id "
                    "WHERE j.status = 'pending'"
                )
            ).scalars()
            requests = Counter(i.removeprefix("slack:") for i in asked)
            events = Counter(connection.execute(text("SELECT title FROM event")).scalars())
    finally:
        engine.dispose()
    assert {p: members[p] for p in (*PEOPLE, ADMIN)} == dict.fromkeys((*PEOPLE, ADMIN), 1)
    assert {p: requests[p] for p in PEOPLE} == dict.fromkeys(PEOPLE, 1)
    assert {t: events[t] for t in EVENTS} == dict.fromkeys(EVENTS, 1)


def errors_in(bot: BotProcess, most: int = 30) -> str:
    """The log lines that say what went wrong (the log's tail is mostly the scheduler's chatter)."""
    lines = bot.log_path.read_text(errors="replace").splitlines() if bot.log_path.exists() else []
    wanted = [line for line in lines if " ERROR " in line or "Error:" in line or "DETAIL:" in line]
    return "\n".join(wanted[:most]) or "(none)"


# --- the set-up ------------------------------------------------------------------------------------------


def import_the_cities(services: Services, folder: Path) -> None:
    """The programme's cities, loaded as `citypeers import cities` does: nobody has spoken to the bot yet."""
    path = folder / "cities.csv"
    path.write_text("name,country\nBrno,CZ\nPorto,PT\nTallinn,EE\n", encoding="utf-8")
    import_cities(services, path)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        for user in (ADMIN, *PEOPLE):
            fake.set_user(user)
        yield fake
        assert not fake.problems, fake.problems


def seeded(url: str, folder: Path) -> str:
    """The schema upgraded and the cities imported before any `citypeers run` starts."""
    services = build_services(make_settings(url))
    try:
        import_the_cities(services, folder)
    finally:
        services.engine.dispose()
    return url


# --- the tests -------------------------------------------------------------------------------------------


def test_42_commands_side_by_side_in_process(bot: Bot, database_url: str, tmp_path: Path) -> None:
    import_the_cities(bot.services, tmp_path)
    lines = the_morning(bot.services.clock.now())
    sent = fire_together([bot.sender], lines)
    assert_every_command_answered(bot.slack, lines, sent)
    assert_everything_is_there(bot.slack, bot.sender, database_url)


def test_42_commands_side_by_side_against_citypeers_run(slack: FakeSlack, database_url: str, tmp_path: Path) -> None:
    with BotProcess(slack, seeded(database_url, tmp_path), admins=ADMIN) as bot:
        lines = the_morning(datetime.now(UTC))
        sent = fire_together([bot.sender], lines)
        try:
            assert_every_command_answered(slack, lines, sent)
            assert_everything_is_there(slack, bot.sender, database_url)
        except AssertionError as failure:
            raise AssertionError(f"{failure}\n--- citypeers run's errors ---\n{errors_in(bot)}") from None


@pytest.fixture
def postgres_url() -> Iterator[str]:
    yield from _postgres_schema_url()


def test_42_commands_split_between_two_processes_on_one_postgresql(
    slack: FakeSlack, postgres_url: str, tmp_path: Path
) -> None:
    url = seeded(postgres_url, tmp_path)
    with BotProcess(slack, url, admins=ADMIN) as first, BotProcess(slack, url, admins=ADMIN) as second:
        lines = the_morning(datetime.now(UTC))
        sent = fire_together([first.sender, second.sender], lines)
        try:
            assert_every_command_answered(slack, lines, sent)
            assert_everything_is_there(slack, second.sender, url)
        except AssertionError as failure:
            logs = f"--- first process's errors ---\n{errors_in(first)}\n--- second's ---\n{errors_in(second)}"
            raise AssertionError(f"{failure}\n{logs}") from None
