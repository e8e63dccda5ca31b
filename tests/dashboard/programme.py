"""A small programme for the dashboard's tests, built through the real commands over twelve weeks of goal history.

ana is the admin (the first user), olga an organiser, eve an expert; bob, pia, lou, gus, tim and ada represent
Brno, Porto, Lyon, Gdańsk, Tartu and Aarhus. Turin and Valencia have no representative, no goal and no
introduction.
"""

from __future__ import annotations

import re
from datetime import timedelta

from sqlmodel import select

from core.clock import FakeClock
from handlers.types import Services
from storage import match_queries
from storage.db import unit_of_work
from storage.models import Member
from tests.handlers.conversation import say

CITIES = {
    "Brno": ("CZ", "ICC"),
    "Porto": ("PT", "ICC"),
    "Lyon": ("FR", "ICC"),
    "Gdańsk": ("PL", "ICC"),
    "Tartu": ("EE", "Mission"),
    "Aarhus": ("DK", "Mission"),
    "Turin": ("IT", "Mission"),
    "Valencia": ("ES", None),
}
REPS = {"bob": "Brno", "pia": "Porto", "lou": "Lyon", "gus": "Gdańsk", "tim": "Tartu", "ada": "Aarhus"}
INTERESTS = {
    "bob": "green-economy, upskilling",
    "pia": "tourism",
    "lou": "green-economy",
    "gus": "supply-chains",
    "tim": "upskilling",
    "ada": "public-administration",
}


def build(services: Services, clock: FakeClock) -> None:
    say(services, "ana", "/city tracks")  # ana is first: the admin
    for name, (country, cohort) in CITIES.items():
        line = f'/city register "{name}" country={country}' + (f" cohort={cohort}" if cohort else "")
        say(services, "ana", line)
    say(services, "ana", "/city role @eve expert")
    say(services, "ana", "/city role @olga organiser")
    for user, city in REPS.items():
        say(services, user, f'/city join "{city}"')
        say(services, "ana", f'/city approve @{user} "{city}"')
        say(services, user, f"/city interests {INTERESTS[user]}")
    say(services, "bob", "/city offer Open data portal on energy use")
    say(services, "bob", "/city need Help with retrofitting schools")
    # Twelve weeks ago: the first goals.
    clock.advance(timedelta(days=1))
    say(services, "bob", "/goal add Retrofit ten schools track=green-economy with=Porto")
    say(services, "bob", "/goal add Train 200 civil servants in data skills track=upskilling")
    say(services, "pia", "/goal add Tourism data dashboard track=tourism due=2026-12-20")
    say(services, "lou", "/goal add Green procurement rules track=green-economy")
    say(services, "gus", "/goal add Port logistics pilot track=supply-chains")
    say(services, "bob", "/match intro Porto")
    say(services, "gus", "/match intro Tartu")
    clock.advance(timedelta(weeks=3))
    say(services, "bob", "/goal update 1 on-track contractor chosen")
    say(services, "pia", "/goal update 3 at-risk the data provider is late")
    clock.advance(timedelta(weeks=3))
    say(services, "lou", '/goal update 4 done learned="start with one department"')
    say(services, "gus", "/goal update 5 dropped port authority left the project")
    say(services, "tim", "/goal add Digital skills week track=upskilling")
    clock.advance(timedelta(weeks=3))
    say(services, "bob", "/goal update 2 at-risk trainers hard to find")
    with unit_of_work(services.engine) as session:
        [first, *_] = match_queries.introductions(session=session)
        member = session.exec(select(Member).where(Member.external_id == "bob")).one()
        match_queries.set_outcome(
            session=session,
            introduction_id=first.id,
            city_id=first.city_a_id,
            met=True,
            outcome="shared-practice",
            member_id=member.id,
            now=clock.now(),
        )
    clock.advance(timedelta(weeks=5))  # now past the first goals' due date: two of them are overdue
    say(services, "ana", '/event add "City Lab Lisbon" start="2027-06-10 09:00" tz=Europe/Lisbon where="Lisbon"')
    say(services, "ana", '/event add "Mayors summit" start="2027-09-01 10:00" tz=Europe/Brussels')
    say(services, "bob", "/event rsvp 1")
    say(services, "pia", "/event rsvp 1")


def link(services: Services, user: str) -> str:
    """The path of a new dashboard link of `user` (/dashboard/<token>/)."""
    reply = say(services, user, "/goal dashboard")
    [path] = re.findall(r"https?://[^/\s]+(/dashboard/[A-Za-z0-9_-]+/)", reply)
    return path
