"""How often a city's real partners come first: recall@5 and MRR on published groupings of real cities.

The data (bench/data/city_groups.json, sources cited there) are nine groupings: the lighthouse and
follower cities of eight EU smart-city projects and the cities at one EUROCITIES working-group study
visit. Each city's profile is built from what its programmes published: its groups' themes as tracks;
lighthouse cities and hosts offer their group's solutions, follower and visiting cities need them.
For every city we rank all the others and ask where its own group partners land.

- recall@5: the share of its partners in its top 5 (out of at most 5, so a group of 8 can still score 1);
- MRR: the mean of 1 / the rank of its first partner (0 when no partner is ranked at all).

The baseline counts shared tracks, with no weighting and no text (ties broken by name).

    python bench/match_quality.py
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.matching import MatchIndex, Profile, Weights  # noqa: E402

DATA = Path(__file__).parent / "data" / "city_groups.json"
GIVES = {"lighthouse", "host"}  # roles that offer the group's solutions; the others need them
TOP = 5


@dataclass
class CityData:
    name: str
    country: str
    tracks: set[str] = field(default_factory=set)
    offers: list[str] = field(default_factory=list)
    needs: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)


def load(path: Path = DATA) -> tuple[list[CityData], dict[str, set[str]]]:
    """Cities with their declared profiles, and each city's partners (everyone it shared a group with)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    cities: dict[str, CityData] = {}
    members: dict[str, list[str]] = {}
    for group in data["groups"]:
        members[group["name"]] = [m["city"] for m in group["members"]]
        for member in group["members"]:
            city = cities.setdefault(member["city"], CityData(member["city"], member["country"]))
            city.tracks.update(group["tracks"])
            (city.offers if member["role"] in GIVES else city.needs).extend(group["solutions"])
            city.groups.append(group["name"])
    partners = {name: {p for g in city.groups for p in members[g] if p != name} for name, city in cities.items()}
    return list(cities.values()), partners


def profiles(cities: Sequence[CityData]) -> list[Profile]:
    return [
        Profile(
            city_id=i,
            name=c.name,
            tracks=frozenset(c.tracks),
            offers=tuple(dict.fromkeys(c.offers)),
            needs=tuple(dict.fromkeys(c.needs)),
        )
        for i, c in enumerate(cities)
    ]


Ranker = Callable[[int], list[int]]


def citypeers(cities: Sequence[CityData], weights: Weights) -> Ranker:
    index = MatchIndex(profiles(cities), weights=weights)
    return lambda i: [m.city_id for m in index.matches(i, limit=len(cities))]


def baseline(cities: Sequence[CityData]) -> Ranker:
    """Shared tracks counted, nothing else; cities sharing none are not ranked."""

    def rank(i: int) -> list[int]:
        shared = [(len(cities[i].tracks & c.tracks), c.name, j) for j, c in enumerate(cities) if j != i]
        return [j for count, _, j in sorted(shared, key=lambda s: (-s[0], s[1])) if count > 0]

    return rank


def evaluate(cities: Sequence[CityData], partners: dict[str, set[str]], rank: Ranker) -> tuple[float, float]:
    recalls, reciprocal = [], []
    for i, city in enumerate(cities):
        wanted = {j for j, c in enumerate(cities) if c.name in partners[city.name]}
        ranking = rank(i)
        recalls.append(len(wanted & set(ranking[:TOP])) / min(TOP, len(wanted)))
        first = next((r for r, j in enumerate(ranking, start=1) if j in wanted), None)
        reciprocal.append(1 / first if first else 0.0)
    return sum(recalls) / len(recalls), sum(reciprocal) / len(reciprocal)


def main() -> int:
    cities, partners = load()
    groups = len({g for c in cities for g in c.groups})
    print(f"{len(cities)} cities in {groups} published groupings; partners per city: "
          f"{min(len(p) for p in partners.values())}-{max(len(p) for p in partners.values())}")  # fmt: skip
    tracks_only = Weights(they_answer_need=0.0, i_answer_need=0.0, similar_goal=0.0, mentor=0.0, not_introduced=0.0)
    rankers = [
        ("baseline: shared tracks counted", baseline(cities)),
        ("CityPeers, tracks by rarity only", citypeers(cities, tracks_only)),
        ("CityPeers, full score", citypeers(cities, Weights())),
    ]
    print(f"{'ranker':<36} {'recall@5':>9} {'MRR':>6}")
    for label, rank in rankers:
        recall, mrr = evaluate(cities, partners, rank)
        print(f"{label:<36} {recall:>9.3f} {mrr:>6.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
