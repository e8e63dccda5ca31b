"""Sample programme for `citypeers console --demo`: real cities named in the seed documents.

The cities, countries and programmes are real (ICC City Lab 2020 and Mayors' Summit; the Eurocities
working group Smart Social Inclusion's Milan study visit, 2017). Populations are rounded public figures.
The tracks, offers and needs are illustrative sample declarations, not statements by those cities; the
events are samples dated from today, modelled on the City Labs, summits and working-group meetings of the seeds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from sqlmodel import Session

from storage import event_queries, queries
from storage.models import Event

ICC = "ICC 2020"
WG = "Eurocities WG Smart Social Inclusion"

# name, country, population, cohort, mentor, tracks, offers, needs
CITIES: tuple[tuple[str, str, int, str, bool, tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = (
    ("Brno", "CZ", 380_000, WG, False, ("public-administration", "upskilling"),
     ("open data portal for city services",), ("social entrepreneurship support programme",)),
    ("Milan", "IT", 1_370_000, WG, True, ("upskilling", "green-economy"),
     ("social entrepreneurship strategy",), ("data on energy use in public buildings",)),
    ("Porto", "PT", 230_000, ICC, True, ("green-economy", "tourism", "public-administration"),
     ("open data platform", "urban innovation lab"), ("tourism flow monitoring",)),
    ("Gdansk", "PL", 470_000, ICC, False, ("green-economy", "supply-chains"),
     ("port logistics know-how",), ("open data platform", "local green deal template")),
    ("Pori", "FI", 84_000, ICC, False, ("upskilling", "supply-chains"),
     ("reskilling programme for industrial workers",), ("smart logistics pilots",)),
    ("Thessaloniki", "GR", 320_000, ICC, False, ("tourism", "public-administration"),
     ("digital tourism strategy",), ("citizen participation platform",)),
    ("Leuven", "BE", 102_000, ICC, False, ("green-economy", "public-administration"),
     ("climate neutrality roadmap", "citizen participation platform"), ("reskilling programme",)),
    ("Rijeka", "HR", 108_000, ICC, False, ("tourism", "green-economy"),
     ("port area regeneration",), ("tourism flow monitoring", "local green deal template")),
    ("Nice", "FR", 342_000, ICC, False, ("tourism", "public-administration"),
     ("smart tourism services",), ("open data platform",)),
    ("Barcelona", "ES", 1_620_000, ICC, True, ("public-administration", "green-economy"),
     ("local green deal template", "digital participation platform"), ("tourism flow monitoring",)),
    ("Utrecht", "NL", 360_000, WG, False, ("upskilling",),
     ("inclusive jobs programme",), ("social entrepreneurship strategy",)),
    ("Katowice", "PL", 290_000, WG, False, ("green-economy", "upskilling"),
     ("post-industrial site regeneration",), ("reskilling programme for industrial workers",)),
)  # fmt: skip


# title, weeks from now, weekday (0 = Monday), start hour, duration in hours, where, repeat: sample events
# modelled on the seeds (a five-day online City Lab from a Monday, a summit, a monthly working-group meeting).
EVENTS: tuple[tuple[str, int, int, int, int, str, str | None], ...] = (
    ("ICC City Lab (five days online)", 3, 0, 9, 4 * 24 + 8, "Online", None),
    ("ICC Mayors' Summit", 5, 2, 10, 6, "Brussels", None),
    ("WG Smart Social Inclusion meeting", 1, 3, 14, 2, "Brno", "FREQ=MONTHLY;BYDAY=1TH"),
)  # fmt: skip


def load_demo(*, session: Session, now: datetime) -> int:
    """Add the sample cities and events unless any city exists; returns how many cities were added."""
    if queries.list_cities(session=session):
        return 0
    load_demo_events(session=session, now=now)
    tracks = {track.key: track.stored_id for track in queries.active_tracks(session=session)}
    for name, country, population, cohort_name, mentor, track_keys, offers, needs in CITIES:
        cohort = queries.get_or_add_cohort(session=session, name=cohort_name, now=now)
        city = queries.add_city(
            session=session, name=name, country=country, population=population, mentor=mentor, cohort=cohort, now=now
        )
        queries.set_city_tracks(
            session=session, city_id=city.stored_id, track_ids=[tracks[k] for k in track_keys if k in tracks]
        )
        for kind, texts in (("offer", offers), ("need", needs)):
            for text in texts:
                queries.add_city_item(
                    session=session, city_id=city.stored_id, kind=kind, text=text, member_id=None, now=now
                )
    return len(CITIES)


def load_demo_events(*, session: Session, now: datetime) -> None:
    zone = ZoneInfo("Europe/Brussels")
    today = now.astimezone(zone)
    for title, weeks, weekday, hour, hours, where, rule in EVENTS:
        day = today + timedelta(weeks=weeks, days=(weekday - today.weekday()) % 7)
        local = day.replace(hour=hour, minute=0, second=0, microsecond=0)
        if rule:  # a repeating event starts on its rule's first date, as calendars count it (RFC 5545)
            first = next(iter(rrulestr(rule, dtstart=local.replace(tzinfo=None))))
            local = first.replace(tzinfo=zone)
        event_queries.add_event(
            session=session,
            event=Event(
                title=title,
                start_at=local.astimezone(UTC),
                end_at=(local + timedelta(hours=hours)).astimezone(UTC),
                tz=zone.key,
                location=where,
                rrule=rule,
                remind="7d, 1d, 1h",
                created_at=now,
            ),
        )
