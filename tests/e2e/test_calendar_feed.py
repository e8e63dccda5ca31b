"""The calendar feed over real HTTP: a person subscribes in Slack, a calendar app polls the URL it was given."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from datetime import UTC, datetime
from email.message import Message

from icalendar import Calendar
from sqlmodel import select

from storage.db import unit_of_work
from storage.models import Member
from tests.core.test_calendar import read_both
from tests.e2e.conftest import ANA, BOB, Bot
from tests.e2e.test_slack_http import answer, words


def subscribe(bot: Bot, user: str, line: str = "/event subscribe") -> str:
    """The feed's path, from the link in the reply (its host is CITYPEERS_PUBLIC_URL's, here the default)."""
    text = words(answer(bot, user, line))
    assert "webcal://localhost:3000/calendar/" in text
    [path] = set(re.findall(r"/calendar/[A-Za-z0-9_-]+\.ics", text))
    return path


def organiser(bot: Bot, user: str) -> str:
    """Make `user` an organiser directly, so this test depends on no particular admin set-up."""
    answer(bot, user, "/city tracks")
    with unit_of_work(bot.services.engine) as session:
        for member in session.exec(select(Member)):
            if member.display_name == "bob":
                member.role = "organiser"
    return user


def fetch(bot: Bot, path: str, **headers: str) -> tuple[int, Message, bytes]:
    request = urllib.request.Request(f"{bot.sender.bot_url}{path}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def events(body: bytes) -> dict[str, tuple[str, int]]:
    return {str(e["SUMMARY"]): (str(e["STATUS"]), int(e["SEQUENCE"])) for e in Calendar.from_ical(body).walk("VEVENT")}


def test_a_subscribed_calendar_sees_edits_and_cancellations_and_a_reset_link_is_gone(bot: Bot) -> None:
    staff = organiser(bot, BOB)
    answer(bot, staff, '/event add City Lab start="2040-07-02 09:30" end="2040-07-02 11:00" tz=Europe/Prague')
    today = bot.services.clock.now()
    bot.services.clock.set(datetime(2017, 5, 1, tzinfo=UTC))  # an event of long ago, added when it was ahead
    answer(bot, staff, '/event add Forum start="2017-06-01 09:30" tz=Europe/Lisbon')
    bot.services.clock.set(today)
    answer(bot, ANA, "/event rsvp 1")
    path = subscribe(bot, ANA)

    status, headers, body = fetch(bot, path)
    assert status == 200 and headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert events(body) == {"City Lab": ("CONFIRMED", 0)}
    for read in read_both(body):  # summer 2040 in Prague is +02:00 for both parsers
        [(start, end, _)] = read.values()
        assert (start, end) == (datetime(2040, 7, 2, 7, 30, tzinfo=UTC), datetime(2040, 7, 2, 9, 0, tzinfo=UTC))

    # A client that polls again costs a 304, by ETag or by date.
    assert fetch(bot, path, **{"If-None-Match": headers["ETag"]})[0] == 304
    assert fetch(bot, path, **{"If-Modified-Since": headers["Last-Modified"]})[0] == 304

    answer(bot, staff, '/event edit 1 start="2040-07-02 10:00"')
    status, edited_headers, body = fetch(bot, path, **{"If-None-Match": headers["ETag"]})
    assert status == 200 and edited_headers["ETag"] != headers["ETag"]
    assert events(body) == {"City Lab": ("CONFIRMED", 1)}
    for read in read_both(body):
        [(start, _, _)] = read.values()
        assert start == datetime(2040, 7, 2, 8, 0, tzinfo=UTC)

    answer(bot, staff, "/event cancel 1")
    assert events(fetch(bot, path)[2]) == {"City Lab": ("CANCELLED", 2)}

    every = subscribe(bot, ANA, "/event subscribe all=yes")
    assert set(events(fetch(bot, every)[2])) == {"City Lab", "Forum"}

    assert "Revoked 2 feed links" in words(answer(bot, ANA, "/event subscribe reset"))
    unknown = fetch(bot, "/calendar/" + "x" * 32 + ".ics")
    for gone in (fetch(bot, path), fetch(bot, every)):
        assert (gone[0], gone[2]) == (404, unknown[2]) == (404, b'{"ok": false, "error": "not_found"}')
