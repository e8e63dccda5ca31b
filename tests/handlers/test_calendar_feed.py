"""/event subscribe: a private feed per person, hashed tokens, revocation, and the content an edit changes."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from icalendar import Calendar
from sqlmodel import select

from handlers.event import feed_file
from storage.db import unit_of_work
from storage.models import CalendarFeed
from tests.core.test_calendar import read_both
from tests.handlers.conversation import say

LAB = '/event add City Lab start="2030-09-28 10:00" end="2030-09-28 12:00" tz=Europe/Prague'
FORUM = '/event add Forum start="2040-07-02 09:00" tz=Europe/Lisbon'


def token_of(reply: str) -> str:
    [token] = set(re.findall(r"/calendar/([A-Za-z0-9_-]+)\.ics", reply))
    return token


def fetch(services, token):
    with unit_of_work(services.engine) as session:
        return feed_file(session, token, services.clock.now())


def summaries(found) -> dict[str, tuple[str, int]]:
    events = Calendar.from_ical(found.body).walk("VEVENT")
    return {str(e["SUMMARY"]): (str(e["STATUS"]), int(e["SEQUENCE"])) for e in events}


def test_subscribe_gives_a_webcal_link_and_stores_only_the_hash(services):
    say(services, "ana", LAB)
    reply = say(services, "bob", "/event subscribe")
    assert reply.startswith("Your private calendar feed of the events you attend: webcal://localhost:3000/calendar/")
    assert "http://localhost:3000/calendar/" in reply and "/event subscribe reset revokes it" in reply
    token = token_of(reply)
    assert len(token) >= 32  # 192 random bits, URL-safe
    with unit_of_work(services.engine) as session:
        [feed] = session.exec(select(CalendarFeed)).all()
    assert feed.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in feed.token_hash
    assert feed.scope == "rsvp"


def test_the_rsvp_feed_follows_rsvps_edits_and_cancellations(services, clock):
    say(services, "ana", LAB)
    say(services, "ana", FORUM)
    token = token_of(say(services, "bob", "/event subscribe"))
    empty = fetch(services, token)
    assert summaries(empty) == {}
    say(services, "bob", "/event rsvp 1")
    clock.advance(timedelta(minutes=5))
    attending = fetch(services, token)
    assert summaries(attending) == {"City Lab": ("CONFIRMED", 0)}
    assert attending.etag != empty.etag and attending.modified > empty.modified
    clock.advance(timedelta(minutes=5))
    again = fetch(services, token)
    assert (again.etag, again.modified, again.body) == (attending.etag, attending.modified, attending.body)

    say(services, "ana", '/event edit 1 start="2030-09-28 11:00"')
    clock.advance(timedelta(minutes=5))
    edited = fetch(services, token)
    assert summaries(edited) == {"City Lab": ("CONFIRMED", 1)} and edited.etag != attending.etag
    for read in read_both(edited.body):
        [(start, end, _)] = read.values()
        assert (start.isoformat(), end.isoformat()) == ("2030-09-28T09:00:00+00:00", "2030-09-28T11:00:00+00:00")

    say(services, "ana", "/event cancel 1")
    assert summaries(fetch(services, token)) == {"City Lab": ("CANCELLED", 2)}


def test_all_yes_feeds_every_event(services):
    say(services, "ana", LAB)
    say(services, "ana", FORUM)
    reply = say(services, "bob", "/event subscribe all=yes")
    assert reply.startswith("Your private calendar feed of every programme event: webcal://")
    found = fetch(services, token_of(reply))
    assert set(summaries(found)) == {"City Lab", "Forum"}
    calendar = Calendar.from_ical(found.body)
    assert calendar["X-WR-CALNAME"] == "CityPeers: all events"
    assert calendar["REFRESH-INTERVAL"].to_ical() == b"PT1H" and str(calendar["X-PUBLISHED-TTL"]) == "PT1H"


def test_reset_revokes_every_link_and_unknown_tokens_open_nothing(services):
    first = token_of(say(services, "bob", "/event subscribe"))
    second = token_of(say(services, "bob", "/event subscribe all=yes"))
    other = token_of(say(services, "cy", "/event subscribe"))
    assert say(services, "bob", "/event subscribe reset").startswith("Revoked 2 feed links;")
    assert fetch(services, first) is None and fetch(services, second) is None
    assert fetch(services, other) is not None
    assert fetch(services, "A" * 32) is None and fetch(services, "../../etc/passwd") is None
    fresh = token_of(say(services, "bob", "/event subscribe"))
    assert fetch(services, fresh) is not None
    assert say(services, "bob", "/event subscribe reset").startswith("Revoked 1 feed link;")


def test_subscribe_usage(services):
    assert "Expected: /event subscribe [all=yes] | /event subscribe reset" in say(services, "bob", "/event subscribe x")
    assert "all" in say(services, "bob", "/event subscribe all=maybe")


def test_a_feed_is_named_in_its_owners_language(services):
    """The calendar's name (what a calendar app lists) is written for whoever subscribed, not the programme."""
    import locales

    say(services, "ana", LAB)
    say(services, "bob", "/city language pl")
    token = token_of(say(services, "bob", "/event subscribe all=yes"))
    with unit_of_work(services.engine) as session:
        found = feed_file(session, token, services.clock.now(), services.settings)
    polish = locales.language("pl").gettext("CityPeers: all events")
    assert polish != "CityPeers: all events"  # there is a Polish name, so an English one would be seen
    assert str(Calendar.from_ical(found.body)["X-WR-CALNAME"]) == polish
    assert str(Calendar.from_ical(fetch(services, token).body)["X-WR-CALNAME"]) == "CityPeers: all events"
