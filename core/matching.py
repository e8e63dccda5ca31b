"""Matching scores, their reasons, and matching rounds. Pure: profiles in, matches and groups out.

A city's score for another adds up, with the weights of `Weights`:
- the tracks both work on, each weighted by its rarity (an IDF: a track few cities share counts more);
- the other city's offers that answer this city's needs, and this city's offers that answer the other's
  needs (TF-IDF over character n-grams, so any language and any accent is just text);
- goals that read alike;
- a bonus when the other is a mentor city on a shared track and this city has needs;
- a small bonus when the two have not been introduced yet.

Cities with nothing in common (no shared track, no answered need, no similar goal) are never returned.
`MatchIndex` (in `core.match_index`, with the numerical stack it needs, loaded on first use) is built once and
kept current with `upsert`; a change costs one city's vectors plus a vectorised re-weighting on the next query,
never a rebuild from the database. This module holds the profiles, reasons and rounds, and imports nothing heavy.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Weights:
    """Every knob of the score, in one place."""

    shared_track: float = 1.0  # per shared track, times the track's rarity (1 for a track every city has)
    they_answer_need: float = 3.0  # per need of mine, times how well their best offer answers it
    i_answer_need: float = 1.5  # per need of theirs, times how well my best offer answers it
    similar_goal: float = 1.5  # per goal of mine, times how close their closest goal is
    mentor: float = 1.0  # they are a mentor city on a track we share and I have needs
    not_introduced: float = 0.25  # a small push towards new acquaintances
    min_relevance: float = 0.2  # text similarity below this is shared letters, not shared meaning
    round_candidates: int = 30  # best partners per city kept as edges of a round's graph


DEFAULT_WEIGHTS = Weights()


@dataclass(frozen=True)
class Profile:
    """What a city declared. `goals` are its open goals' texts (empty until goals are recorded)."""

    city_id: int
    name: str
    tracks: frozenset[str] = frozenset()
    offers: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    goals: tuple[str, ...] = ()
    mentor: bool = False
    cohort: int | None = None


# --- reasons: structured, so each platform and language words them its own way ----------------------


@dataclass(frozen=True)
class SharedTracks:
    tracks: tuple[str, ...]  # track keys, rarest first


@dataclass(frozen=True)
class TheyOffer:
    """The candidate offers something the asker needs."""

    offer: str
    need: str
    relevance: float


@dataclass(frozen=True)
class YouOffer:
    """The asker offers something the candidate needs."""

    offer: str
    need: str
    relevance: float


@dataclass(frozen=True)
class SimilarGoals:
    mine: str
    theirs: str
    relevance: float


@dataclass(frozen=True)
class MentorOn:
    tracks: tuple[str, ...]


@dataclass(frozen=True)
class NotYetIntroduced:
    pass


Reason = SharedTracks | TheyOffer | YouOffer | SimilarGoals | MentorOn | NotYetIntroduced


@dataclass(frozen=True)
class Match:
    city_id: int
    name: str
    score: float
    reasons: tuple[Reason, ...]


# --- rounds: maximum-weight matching -----------------------------------------------------------------


@dataclass(frozen=True)
class RoundPlan:
    groups: tuple[tuple[int, ...], ...]  # pairs, and at most one trio
    left_out: tuple[int, ...]  # cities that have already met every possible partner


def plan_round(
    city_ids: Sequence[int],
    weights: Mapping[tuple[int, int], float],
    *,
    met: Collection[frozenset[int]] = (),
) -> RoundPlan:
    """Pair every city so the total weight is as high as possible, never a pair that has met before.

    Maximum-weight matching (rustworkx's blossom algorithm, exact) over the weighted pairs; cities it
    leaves single are paired among themselves (also never repeating a pair), and an odd one out joins
    the trio where it fits best.
    """
    cities = list(dict.fromkeys(city_ids))
    met_pairs = {frozenset(p) for p in met}
    groups = _max_weight_pairs(cities, {p: w for p, w in weights.items() if frozenset(p) not in met_pairs})
    paired = {c for group in groups for c in group}
    single = [c for c in cities if c not in paired]
    # What is left has no weighted partner: pair it in any order that does not repeat a meeting.
    fallback = {
        (a, b): 1.0
        for i, a in enumerate(single)
        for b in single[i + 1 :]
        if frozenset((a, b)) not in met_pairs and len(single) <= 400
    }
    groups += _max_weight_pairs(single, fallback)
    paired = {c for group in groups for c in group}
    single = [c for c in cities if c not in paired]
    left_out: list[int] = []
    for city in single:
        trio = _best_trio(city, groups, weights, met_pairs)
        if trio is None:
            left_out.append(city)
        else:
            groups[trio] = (*groups[trio], city)
    return RoundPlan(tuple(groups), tuple(left_out))


def _max_weight_pairs(cities: Sequence[int], weights: Mapping[tuple[int, int], float]) -> list[tuple[int, ...]]:
    if len(cities) < 2 or not weights:
        return []
    import rustworkx as rx  # loaded with the first round

    index = {city: i for i, city in enumerate(cities)}
    graph = rx.PyGraph()
    graph.add_nodes_from(cities)
    # rustworkx wants integer weights: thousandths keep the order of any two scores that differ visibly.
    graph.add_edges_from(
        [(index[a], index[b], max(1, round(w * 1000))) for (a, b), w in weights.items() if a in index and b in index]
    )
    matching = rx.max_weight_matching(graph, max_cardinality=True, weight_fn=int)
    return sorted(tuple(sorted((cities[a], cities[b]))) for a, b in matching)


def _best_trio(
    city: int,
    groups: list[tuple[int, ...]],
    weights: Mapping[tuple[int, int], float],
    met: set[frozenset[int]],
) -> int | None:
    """The index of the pair this city adds most to, among pairs it has met neither member of."""
    best, best_weight = None, -1.0
    for i, group in enumerate(groups):
        if len(group) != 2 or any(frozenset((city, other)) in met for other in group):
            continue
        weight = sum(weights.get(tuple(sorted((city, other))), 0.0) for other in group)  # type: ignore[arg-type]
        if weight > best_weight:
            best, best_weight = i, weight
    return best


def __getattr__(name: str) -> Any:
    """`core.matching.MatchIndex` still works, loading the index module (and numpy, scipy) then."""
    if name == "MatchIndex":
        from core.match_index import MatchIndex

        return MatchIndex
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
