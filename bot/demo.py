"""Sample programme for `citypeers console --demo`: real cities named in the seed documents.

The cities, countries and programmes are real (ICC City Lab 2020 and Mayors' Summit; the Eurocities
working group Smart Social Inclusion's Milan study visit, 2017). Populations are rounded public figures.
The tracks, offers and needs are illustrative sample declarations, not statements by those cities.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from storage import queries

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


def load_demo(*, session: Session, now: datetime) -> int:
    """Add the sample cities unless any city exists; returns how many were added."""
    if queries.list_cities(session=session):
        return 0
    tracks = {track.key: track.id for track in queries.active_tracks(session=session)}
    for name, country, population, cohort_name, mentor, track_keys, offers, needs in CITIES:
        cohort = queries.get_or_add_cohort(session=session, name=cohort_name, now=now)
        city = queries.add_city(
            session=session, name=name, country=country, population=population, mentor=mentor, cohort=cohort, now=now
        )
        queries.set_city_tracks(
            session=session, city_id=city.id, track_ids=[tracks[k] for k in track_keys if k in tracks]
        )
        for kind, texts in (("offer", offers), ("need", needs)):
            for text in texts:
                queries.add_city_item(session=session, city_id=city.id, kind=kind, text=text, member_id=None, now=now)
    return len(CITIES)
