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

EXACT_ROUND_LIMIT = 2000  # up to this many cities a round's matching is exact (0.7 s for 2,000 on the bench)
ROUND_PART_SIZE = 1000  # above it, exact matching within parts of at most this many cities (0.1-0.2 s each)
ROUND_PASSES = 10  # repartitions at most; a pass that adds under 0.1 % of the weight ends it
FALLBACK_EXACT_LIMIT = 400  # cities without a weighted partner are paired exactly up to this many


@dataclass(frozen=True)
class RoundEdges:
    """A round's weighted pairs as parallel arrays (numpy in practice): a[i] < b[i] are city ids."""

    a: Any
    b: Any
    w: Any

    @classmethod
    def empty(cls) -> RoundEdges:
        import numpy as np

        return cls(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))

    @classmethod
    def from_mapping(cls, weights: Mapping[tuple[int, int], float]) -> RoundEdges:
        import numpy as np

        pairs = [(min(a, b), max(a, b), w) for (a, b), w in weights.items() if a != b]
        if not pairs:
            return cls.empty()
        a, b, w = zip(*pairs, strict=True)
        return cls(np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64), np.asarray(w, dtype=np.float64))

    def __len__(self) -> int:
        return len(self.a)


@dataclass(frozen=True)
class RoundPlan:
    groups: tuple[tuple[int, ...], ...]  # pairs, and at most one trio
    left_out: tuple[int, ...]  # cities that have already met every possible partner
    exact: bool = True  # False when the round was too large for exact matching and was matched by parts


def plan_round(
    city_ids: Sequence[int],
    weights: Mapping[tuple[int, int], float] | RoundEdges,
    *,
    met: Collection[frozenset[int]] = (),
    exact_limit: int | None = None,
    part_size: int | None = None,
) -> RoundPlan:
    """Pair every city so the total weight is as high as possible, never a pair that has met before.

    Up to `exact_limit` cities (default `EXACT_ROUND_LIMIT`), maximum-weight matching (rustworkx's blossom
    algorithm, exact) over the weighted pairs. Above it the exact algorithm grows too slow (about n^2.5:
    minutes for 10,000 cities), so the round is matched by parts of at most `part_size` (`_match_by_parts`);
    bench/match_speed.py compares its total with the exact one.
    Cities left single are paired among themselves (also never repeating a pair), and an odd one out joins
    the trio where it fits best.
    """
    import numpy as np

    cities = list(dict.fromkeys(city_ids))
    met_pairs = {frozenset(p) for p in met}
    edges = weights if isinstance(weights, RoundEdges) else RoundEdges.from_mapping(weights)
    index = {city: i for i, city in enumerate(cities)}
    a, b = _local(cities, edges.a), _local(cities, edges.b)
    w = np.asarray(edges.w, dtype=np.float64)
    usable = (a >= 0) & (b >= 0) & (a != b)
    if met_pairs and usable.any():
        usable[usable] = [
            frozenset((cities[x], cities[y])) not in met_pairs
            for x, y in zip(a[usable].tolist(), b[usable].tolist(), strict=True)
        ]
    a, b, w = np.minimum(a, b)[usable], np.maximum(a, b)[usable], w[usable]
    exact = len(cities) <= (EXACT_ROUND_LIMIT if exact_limit is None else exact_limit)
    if exact:
        mate = _max_weight_mate(len(cities), a, b, w)
    else:
        part_size = ROUND_PART_SIZE if part_size is None else part_size
        mate = _match_by_parts(len(cities), a, b, w, part_size)
        single = [c for c, m in zip(cities, mate, strict=True) if m < 0]
        unpaired = set(single) - {c for group in _pair_the_rest(single, met_pairs) for c in group}
        if len(unpaired) >= 2:  # exact matching would have paired them: see `_pair_the_single`
            mates = np.asarray(mate, dtype=np.int64)
            _pair_the_single(mates, np.asarray(sorted(index[c] for c in unpaired)), a, b, w, part_size)
            mate = mates.tolist()
    groups: list[tuple[int, ...]] = sorted(tuple(sorted((cities[x], cities[y]))) for x, y in enumerate(mate) if y > x)
    single = [c for c, m in zip(cities, mate, strict=True) if m < 0]
    groups += sorted(tuple(sorted(g)) for g in _pair_the_rest(single, met_pairs))
    paired = {c for group in groups for c in group}
    left_out: list[int] = []
    for city in (c for c in cities if c not in paired):
        mine = (a == index[city]) | (b == index[city])
        partners = {
            cities[int(x if x != index[city] else y)]: float(v)
            for x, y, v in zip(a[mine], b[mine], w[mine], strict=True)
        }
        trio = _best_trio(city, groups, partners, met_pairs)
        if trio is None:
            left_out.append(city)
        else:
            groups[trio] = (*groups[trio], city)
    return RoundPlan(tuple(groups), tuple(left_out), exact)


def _local(cities: list[int], ids: Any) -> Any:
    """Each id's place in `cities`, or -1: vectorised, as a round has hundreds of thousands of edges."""
    import numpy as np

    ids = np.asarray(ids, dtype=np.int64)
    if not cities:
        return np.full(len(ids), -1, dtype=np.int64)
    known = np.asarray(cities, dtype=np.int64)
    order = np.argsort(known, kind="stable")
    place = np.minimum(np.searchsorted(known[order], ids), len(known) - 1)
    return np.where(known[order][place] == ids, order[place], -1)


def _pair_the_rest(single: list[int], met: set[frozenset[int]]) -> list[tuple[int, ...]]:
    """Cities with no weighted partner left: paired in any order that does not repeat a meeting."""
    groups: list[tuple[int, ...]] = []
    if len(single) > FALLBACK_EXACT_LIMIT:  # too many for the exact pairing below: neighbours first
        waiting: list[int] = []
        for city in single:
            other = next((o for o in waiting if frozenset((city, o)) not in met), None)
            if other is None:
                waiting.append(city)
            else:
                waiting.remove(other)
                groups.append((other, city))
        single = waiting
    if len(single) < 2 or len(single) > FALLBACK_EXACT_LIMIT:
        return groups
    import numpy as np

    pairs = [
        (i, j)
        for i in range(len(single))
        for j in range(i + 1, len(single))
        if frozenset((single[i], single[j])) not in met
    ]
    if not pairs:
        return groups
    x, y = (np.asarray(side, dtype=np.int64) for side in zip(*pairs, strict=True))
    mate = _max_weight_mate(len(single), x, y, np.ones(len(pairs)))
    return groups + [(single[i], single[j]) for i, j in enumerate(mate) if j > i]


def _max_weight_mate(size: int, a: Any, b: Any, w: Any, *, max_cardinality: bool = True) -> list[int]:
    """Exact maximum-weight matching of nodes 0..size-1: each node's mate, or -1."""
    mate = [-1] * size
    if size < 2 or not len(a):
        return mate
    import numpy as np
    import rustworkx as rx  # loaded with the first round

    graph = rx.PyGraph()
    graph.add_nodes_from(range(size))
    # rustworkx wants integer weights: thousandths keep the order of any two scores that differ visibly.
    thousandths = np.maximum(1, np.round(np.asarray(w, dtype=np.float64) * 1000)).astype(np.int64)
    graph.add_edges_from(list(zip(np.asarray(a).tolist(), np.asarray(b).tolist(), thousandths.tolist(), strict=True)))
    for x, y in rx.max_weight_matching(graph, max_cardinality=max_cardinality, weight_fn=int):
        mate[x], mate[y] = y, x
    return mate


def _match_by_parts(size: int, a: Any, b: Any, w: Any, part_size: int) -> list[int]:
    """A matching of a round too large for exact matching: exact within parts, repartitioned a few times.

    Each pass cuts the cities into parts of at most `part_size`, keeping every current pair inside one part,
    and replaces the matching within each part by the exact maximum-weight matching of that part. A part's
    current pairs are one of its matchings, so no pass lowers the total. Parts grow along edges, best first
    (Kruskal's order; a part stops growing at the size): in the first pass by weight; afterwards only along
    edges that crossed the last parts (what that pass could not join), by how much an edge outweighs the
    mean of its two cities' current pairs, so cities that would gain from meeting end up in one part. It
    stops when a pass adds less than 0.1 %. Deterministic: ties go by the cities' order.
    """
    import numpy as np

    mate = np.full(size, -1, dtype=np.int64)
    if size < 2 or not len(a):
        return mate.tolist()
    a, b, w = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64), np.asarray(w, dtype=np.float64)
    crossing = np.ones(len(a), dtype=bool)
    priority = w
    total = 0.0
    for _ in range(ROUND_PASSES):
        unit = np.arange(size)
        matched = mate >= 0
        unit[matched] = np.minimum(unit, mate)[matched]
        order = np.lexsort((b, a, -priority))
        order = order[crossing[order]]
        part = _parts(size, unit, a[order], b[order], part_size)
        inside = np.flatnonzero(part[a] == part[b])
        inside = inside[np.argsort(part[a[inside]], kind="stable")]
        bounds = np.searchsorted(part[a[inside]], np.arange(part.max() + 2))
        local = np.zeros(size, dtype=np.int64)
        for p in range(part.max() + 1):
            nodes = np.flatnonzero(part == p)
            local[nodes] = np.arange(len(nodes))
            edges = inside[bounds[p] : bounds[p + 1]]
            found = np.asarray(
                _max_weight_mate(len(nodes), local[a[edges]], local[b[edges]], w[edges], max_cardinality=False)
            )
            mate[nodes] = np.where(found >= 0, nodes[np.maximum(found, 0)], -1)
        paired = mate[a] == b
        now = float(w[paired].sum())
        if now <= total * 1.001:
            break
        total = now
        crossing = part[a] != part[b]
        current = np.zeros(size)
        np.add.at(current, a[paired], w[paired])
        np.add.at(current, b[paired], w[paired])
        priority = w - (current[a] + current[b]) / 2
    return mate.tolist()


def _pair_the_single(mate: Any, single: Any, a: Any, b: Any, w: Any, part_size: int) -> None:
    """Cities that neither the parts nor the pairing of the rest could pair, re-matched with their partners.

    Exact matching of the whole round maximises the number of pairs first; parts maximise only weight, and
    can leave cities single that have met each other, whose possible partners sit in other parts' pairs.
    So these cities, their weighted partners and those partners' mates (heaviest first, about `part_size`
    cities) are matched again, exactly, with the most pairs first, as the exact path would.
    """
    import numpy as np

    region = dict.fromkeys(single.tolist())
    touching = np.flatnonzero(np.isin(a, single) | np.isin(b, single))
    for e in touching[np.lexsort((b[touching], a[touching], -w[touching]))].tolist():
        if len(region) >= part_size:
            break
        for city in (int(a[e]), int(b[e])):
            region.setdefault(city)
            if mate[city] >= 0:
                region.setdefault(int(mate[city]))
    nodes = np.asarray(sorted(region), dtype=np.int64)
    local = np.full(len(mate), -1, dtype=np.int64)
    local[nodes] = np.arange(len(nodes))
    inside = np.flatnonzero((local[a] >= 0) & (local[b] >= 0))
    found = np.asarray(_max_weight_mate(len(nodes), local[a[inside]], local[b[inside]], w[inside]))
    mate[nodes] = np.where(found >= 0, nodes[np.maximum(found, 0)], -1)


_PARTS_SLICE = 16_384


def _parts(size: int, unit: Any, a: Any, b: Any, part_size: int) -> Any:
    """Each node's part: units joined along the edges in their order while a part stays within the size."""
    import numpy as np

    parent = list(range(size))
    count = np.bincount(unit, minlength=size).tolist()

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    units = unit.tolist()
    # a slice of edges at a time as Python ints: the whole of them as two lists would cost ~20 MB at 10,000 cities
    for start in range(0, len(a), _PARTS_SLICE):
        stop = start + _PARTS_SLICE
        for x, y in zip(a[start:stop].tolist(), b[start:stop].tolist(), strict=True):
            rx_, ry = root(units[x]), root(units[y])
            if rx_ != ry and count[rx_] + count[ry] <= part_size:
                if ry < rx_:
                    rx_, ry = ry, rx_
                parent[ry] = rx_
                count[rx_] += count[ry]
    roots = np.asarray([root(u) for u in units])
    # pack the clusters, largest first, into parts of at most part_size
    ids, sizes = np.unique(roots, return_counts=True)
    cluster_part = {}
    part, filled = 0, 0
    for i in np.lexsort((ids, -sizes)).tolist():
        if filled and filled + sizes[i] > part_size:
            part, filled = part + 1, 0
        cluster_part[int(ids[i])] = part
        filled += int(sizes[i])
    return np.asarray([cluster_part[r] for r in roots.tolist()], dtype=np.int64)


def _best_trio(
    city: int,
    groups: list[tuple[int, ...]],
    partners: Mapping[int, float],
    met: set[frozenset[int]],
) -> int | None:
    """The index of the pair this city adds most to, among pairs it has met neither member of."""
    best, best_weight = None, -1.0
    for i, group in enumerate(groups):
        if len(group) != 2 or any(frozenset((city, other)) in met for other in group):
            continue
        weight = sum(partners.get(other, 0.0) for other in group)
        if weight > best_weight:
            best, best_weight = i, weight
    return best


def __getattr__(name: str) -> Any:
    """`core.matching.MatchIndex` still works, loading the index module (and numpy, scipy) then."""
    if name == "MatchIndex":
        from core.match_index import MatchIndex

        return MatchIndex
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
