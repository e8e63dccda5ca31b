"""The dashboard is read in its owner's language: their /city language choice, as every reply of theirs is. In the
pseudo-language every word the pages, their pictures and their map write is accented, so English left unmarked
shows; user values (city names, notes) stay as they are."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.dashboard.app import dashboard_app
from core.clock import FakeClock
from tests.dashboard import programme
from tests.handlers.conversation import say

PAGES = ("", "goals", "city/1", "network", "events", "goals?cohort=999&page=1")
# Words of the pages' own text: each is seen in English (so it would be seen if left untranslated).
ENGLISH = (
    "Skip to the content",
    "CityPeers dashboard",
    "read-only",
    "Overview",
    "Goals by cohort and track",
    "Cities left out",
    "Cities with no representative",
    "The last twelve weeks",
    "Week ending",
    "Goals at the end of each of the last twelve weeks",
    "A stacked bar per week",
    "Filter and sort",
    "All cohorts",
    "Download these",
    "sorted by",
    "Profile",
    "Representatives",
    "Introductions",
    "on a timeline",
    "A dot is an update",
    "Show part of the network",
    "Most connected cities",
    "cities and their ties",
    "Upcoming events",
    "Times are in",
    "Left out of the filter",
)


def pages(services: Any, path: str) -> dict[str, str]:
    app = dashboard_app(services)
    shown = {}
    for page in PAGES:
        name, _, query = page.partition("?")
        answer: list[str] = []
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path + name, "QUERY_STRING": query}
        body: Iterable[bytes] = app(environ, lambda status, headers, said=answer: said.append(status))
        assert answer == ["200 OK"], page
        shown[page] = b"".join(body).decode()
    return shown


def words(page: str) -> str:
    """What a reader reads: text, titles and labels, without the markup."""
    attributes = " ".join(re.findall(r'(?:aria-label|title)="([^"]*)"', page))
    return html.unescape(re.sub(r"<[^>]+>", " ", page) + " " + attributes)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 8, 30, 9, tzinfo=UTC))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_dashboard_is_in_its_owners_language_and_nothing_is_left_in_english(
    services: Any, clock: FakeClock
) -> None:
    programme.build(services, clock)
    path = programme.link(services, "olga")
    english = pages(services, path)
    read = " ".join(words(page) for page in english.values())
    assert [phrase for phrase in ENGLISH if phrase not in read] == []
    assert all('<html lang="en">' in page for page in english.values())

    say(services, "olga", "/city language xx")
    pseudo = pages(services, path)
    read = " ".join(words(page) for page in pseudo.values())
    assert [phrase for phrase in ENGLISH if phrase in read] == []
    assert "Brno" in read and "trainers hard to find" in read  # values stay values
    assert all('<html lang="xx">' in page for page in pseudo.values())

    say(services, "olga", "/city language pl")
    assert all('<html lang="pl">' in page for page in pages(services, path).values())
