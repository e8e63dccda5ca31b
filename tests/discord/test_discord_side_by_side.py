"""Side by side on Discord: twelve people new to the bot, three commands each, and an organiser adding six events,
all released at once from threads as signed interactions over HTTP; every one is answered rightly, once."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from storage import event_queries, queries
from storage.db import unit_of_work
from tests.discord.conftest import ADMIN, LABS, Bot

pytestmark = pytest.mark.slow  # 42 interactions at once, each answered within Discord's 3 s of real time

PEOPLE = [f"13100000000000020{n:02d}" for n in range(12)]


def test_forty_two_interactions_at_once_are_each_answered_rightly(bot: Bot) -> None:
    answer = bot.interactions.command(ADMIN, "city", "register", {"name": "Brno", "country": "CZ"})
    assert "Registered" in bot.discord.wait_for_original(answer.token)["content"]
    work: list[tuple[str, str, str, dict, Callable[[str], bool]]] = []
    for person in PEOPLE:
        work += [
            (person, "city", "show", {"name": "Brno"}, lambda text: text.startswith("**Brno**")),
            (person, "event", "list", {}, lambda text: "event" in text.lower()),
            (person, "city", "join", {"name": "Brno"}, lambda text: text.startswith("Asked to represent **Brno**")),
        ]
    for n in range(6):
        start = f"2027-0{n + 1}-15 10:00"
        work.append(
            (ADMIN, "event", "add", {"title": f"Lab {n}", "start": start, "channel": LABS}, lambda t: "Scheduled" in t)
        )
    barrier = threading.Barrier(len(work))
    tokens: list[str | None] = [None] * len(work)

    def fire(index: int) -> None:
        who, command, sub, options, _ = work[index]
        barrier.wait()
        sent = bot.interactions.command(who, command, sub, options)
        assert sent.status == 200 and sent.body["type"] == 5
        tokens[index] = sent.token

    threads = [threading.Thread(target=fire, args=(i,)) for i in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for token, (_who, command, sub, _options, right) in zip(tokens, work, strict=True):
        assert token is not None
        text = bot.discord.wait_for_original(token, timeout=30)["content"]
        assert right(text) and "went wrong" not in text, (command, sub, text)
    with unit_of_work(bot.services.engine) as session:
        assert len(event_queries.all_events(session=session)) == 6
        for person in PEOPLE:
            assert queries.get_member(session=session, external_id=f"discord:{person}") is not None
        assert queries.count_pending_join_requests(session=session) == len(PEOPLE)
