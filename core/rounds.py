"""Matching rounds: who meets whom this round, and a true reason for everyone left out. Pure.

A round is planned in three steps, each with its own promise:

1. **As many cities as possible are paired.** The graph is every pair of cities in the round that has not met
   and where neither marked the other not a fit; a round's matching has the most pairs that graph allows
   (maximum cardinality, proven: after the weighted matching and a greedy pass, Edmonds' blossom search looks for
   an augmenting path from every city still single, over the whole graph, and the result has none: Berge's
   theorem). The graph is dense, so it is never built: a city's neighbours are everyone but the few it has met.
2. **Among those, the best weight.** Weights are the scores of each city's best partners (`RoundEdges`); any
   other allowed pair weighs nothing. Up to `EXACT_ROUND_LIMIT` cities the weighted matching is exact; if
   completing it to the most pairs costs no weight, it is the best among the matchings with the most pairs, and
   when it does cost weight (cities that met most others), rounds of up to `FULL_ROUND_LIMIT` cities are matched
   again exactly over every allowed pair. Larger rounds are matched by parts (`_match_by_parts`) and flagged
   `exact=False`; bench/match_speed.py measures how close they come.
3. **A trio only to place someone left single**, and only in a pair it has met neither member of; when no pair
   takes it, a chain of swaps (it takes a partner's place, who then joins a pair) is tried before giving up.

Everyone not placed gets a `LeftOut` with a code and the values that make it true and specific (met everyone,
its few possible partners are in groups it cannot join, paused until, no representative); handlers word them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

EXACT_ROUND_LIMIT = 2000  # up to this many cities a round's weighted matching is exact (0.7 s for 2,000 on the bench)
FULL_ROUND_LIMIT = 300  # up to this many, every allowed pair can be matched exactly when the quick way costs weight
ROUND_PART_SIZE = 1000  # above EXACT_ROUND_LIMIT, exact matching within parts of at most this many cities
ROUND_PASSES = 10  # repartitions at most; a pass that adds under 0.1 % of the weight ends it
SWAP_DEPTH = 6  # swaps tried at most to make room for a city left single (each a city taking another's place)
SWAP_STATES = 2000  # cities tried at most as the one to move on, per city left single


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


class LeftOutReason(StrEnum):
    NO_REPRESENTATIVE = "no-representative"  # nobody to introduce
    PAUSED = "paused"  # its representatives paused matching (`until`)
    ALONE = "alone"  # the only city the round could pair
    MET_EVERYONE = "met-everyone"  # met, or is marked not a fit with, every other city of the round
    PARTNERS_TAKEN = "partners-taken"  # its few possible partners are in groups it cannot join (`partners`)


@dataclass(frozen=True)
class Taken:
    """A city a left-out city could have met, and why it could not join that city's group."""

    partner: int
    group: tuple[int, ...]  # the partner's group this round
    blockers: tuple[int, ...]  # members of that group the left-out city met or is marked not a fit with
    # a group of three with no blocker is simply full: a trio is never made bigger


@dataclass(frozen=True)
class LeftOut:
    city_id: int
    reason: LeftOutReason
    others: int = 0  # MET_EVERYONE: the other cities the round could pair
    met: int = 0  # of those, the ones met before
    not_fit: int = 0  # of those, the ones marked not a fit (and not met)
    until: datetime | None = None  # PAUSED
    partners: tuple[Taken, ...] = ()  # PARTNERS_TAKEN


@dataclass(frozen=True)
class RoundPlan:
    groups: tuple[tuple[int, ...], ...]  # pairs, and a trio for each city that could be placed no other way
    left_out: tuple[LeftOut, ...]  # everyone not in a group, with the reason
    exact: bool = True  # False when the weight is not proven the best among matchings with the most pairs

    @property
    def left_out_ids(self) -> tuple[int, ...]:
        return tuple(o.city_id for o in self.left_out)


def plan_round(
    city_ids: Sequence[int],
    weights: Mapping[tuple[int, int], float] | RoundEdges,
    *,
    met: Collection[frozenset[int]] = (),
    not_fit: Collection[frozenset[int]] = (),
    paused: Mapping[int, datetime] | None = None,
    unrepresented: Collection[int] = (),
    exact_limit: int | None = None,
    part_size: int | None = None,
    full_limit: int | None = None,
) -> RoundPlan:
    """Groups for a round of `city_ids` (see the module's docstring), never a pair in `met` or `not_fit`.

    Cities in `unrepresented` or `paused` (city id: until when) are not paired and are reported as such.
    """
    import numpy as np

    paused = paused or {}
    unrepresented = set(unrepresented)
    cities = list(dict.fromkeys(city_ids))
    away: dict[int, LeftOut] = {}
    for city in cities:
        if city in unrepresented:
            away[city] = LeftOut(city, LeftOutReason.NO_REPRESENTATIVE)
        elif city in paused:
            away[city] = LeftOut(city, LeftOutReason.PAUSED, until=paused[city])
    cities = sorted(c for c in cities if c not in away)  # by id: the same round whatever order the ids come in
    n = len(cities)
    index = {city: i for i, city in enumerate(cities)}
    met_local = _local_pairs(met, index)
    not_fit_local = _local_pairs(not_fit, index) - met_local
    graph = _Allowed(n, met_local | not_fit_local)

    edges = weights if isinstance(weights, RoundEdges) else RoundEdges.from_mapping(weights)
    a, b = _local(cities, edges.a), _local(cities, edges.b)
    # rustworkx wants integer weights: thousandths keep the order of any two scores that differ visibly
    w = np.maximum(1, np.round(np.asarray(edges.w, dtype=np.float64) * 1000)).astype(np.int64)
    usable = (a >= 0) & (b >= 0) & (a != b)
    a, b, w = np.minimum(a, b)[usable], np.maximum(a, b)[usable], w[usable]
    if len(a):
        usable = ~graph.forbidden_pairs(a, b)
        a, b, w = a[usable], b[usable], w[usable]
        a, b, w = _dedupe(n, a, b, w)
    weight = _PairWeights(n, a, b, w)

    exact = n <= (EXACT_ROUND_LIMIT if exact_limit is None else exact_limit)
    if exact:
        mate = np.asarray(_max_weight_mate(n, a, b, w, max_cardinality=False), dtype=np.int64)
    else:
        mate = np.asarray(
            _match_by_parts(n, a, b, w, ROUND_PART_SIZE if part_size is None else part_size), dtype=np.int64
        )
    best = weight.of_matching(mate)  # exact: no matching of the round weighs more
    _complete(mate, graph)
    if exact and weight.of_matching(mate) < best:
        if n <= (FULL_ROUND_LIMIT if full_limit is None else full_limit):
            mate = _max_weight_full(n, graph, weight)
        else:
            exact = False
    before_swaps = weight.of_matching(mate)
    groups = [[x, int(mate[x])] for x in range(n) if mate[x] > x]
    single = [x for x in range(n) if mate[x] < 0]
    left: list[int] = []
    for city in single:
        if not _place(city, groups, graph, weight):
            left.append(city)
    if exact and weight.of_groups([g[:2] for g in groups]) < before_swaps:
        exact = False
    groups = [sorted(g[:2], key=cities.__getitem__) + g[2:] for g in groups]  # a pair by id, then its trio's third
    group_of = {x: i for i, group in enumerate(groups) for x in group}
    left_out = dict(away)
    for city in left:
        left_out[cities[city]] = _why_left_out(city, cities, groups, group_of, graph, met_local)
    ordered = sorted(tuple(cities[x] for x in g) for g in groups)
    return RoundPlan(tuple(ordered), tuple(left_out[c] for c in dict.fromkeys(city_ids) if c in left_out), exact)


# --- the graph of allowed pairs ------------------------------------------------------------------------------


class _Allowed:
    """Every pair of the round's cities but the forbidden ones (met, not a fit), without listing the pairs."""

    def __init__(self, n: int, forbidden: set[tuple[int, int]]) -> None:
        import numpy as np

        self.n = n
        self.forbidden = forbidden
        self.blocked: list[list[int]] = [[] for _ in range(n)]
        for x, y in forbidden:
            self.blocked[x].append(y)
            self.blocked[y].append(x)
        self._keys = np.asarray(sorted(x * n + y for x, y in forbidden), dtype=np.int64)

    def allows(self, x: int, y: int) -> bool:
        return x != y and (min(x, y), max(x, y)) not in self.forbidden

    def forbidden_pairs(self, a: Any, b: Any) -> Any:
        """For arrays a < b: whether each pair is forbidden."""
        import numpy as np

        if not len(self._keys):
            return np.zeros(len(a), dtype=bool)
        keys = a * self.n + b
        place = np.minimum(np.searchsorted(self._keys, keys), len(self._keys) - 1)
        return self._keys[place] == keys

    def neighbours(self, x: int) -> Any:
        """A boolean mask of the cities x may be paired with."""
        import numpy as np

        mask = np.ones(self.n, dtype=bool)
        mask[self.blocked[x]] = False
        mask[x] = False
        return mask

    def degree(self, x: int) -> int:
        return self.n - 1 - len(self.blocked[x])


def _local_pairs(pairs: Collection[frozenset[int]], index: Mapping[int, int]) -> set[tuple[int, int]]:
    found: set[tuple[int, int]] = set()
    for pair in pairs:
        if len(pair) == 2:
            x, y = (index.get(c, -1) for c in pair)
            if x >= 0 and y >= 0:
                found.add((min(x, y), max(x, y)))
    return found


class _PairWeights:
    """The weight of any allowed pair: its score if it is among the weighted edges, else 0."""

    def __init__(self, n: int, a: Any, b: Any, w: Any) -> None:
        import numpy as np

        self.n = n
        keys = a * n + b
        order = np.argsort(keys, kind="stable")
        self._keys, self._w = keys[order], w[order]
        self.a, self.b, self.w = a, b, w

    def pairs(self, x: Any, y: Any) -> Any:
        import numpy as np

        x, y = np.asarray(x, dtype=np.int64), np.asarray(y, dtype=np.int64)
        out = np.zeros(len(x), dtype=np.int64)
        if not len(self._keys) or not len(x):
            return out
        keys = np.minimum(x, y) * self.n + np.maximum(x, y)
        place = np.minimum(np.searchsorted(self._keys, keys), len(self._keys) - 1)
        hit = self._keys[place] == keys
        out[hit] = self._w[place[hit]]
        return out

    def of(self, x: int, y: int) -> int:
        return int(self.pairs([x], [y])[0])

    def of_matching(self, mate: Any) -> int:
        import numpy as np

        x = np.flatnonzero(mate > np.arange(len(mate)))
        return int(self.pairs(x, mate[x]).sum())

    def of_groups(self, groups: Sequence[Sequence[int]]) -> int:
        return sum(self.of(g[i], g[j]) for g in groups for i in range(len(g)) for j in range(i + 1, len(g)))


def _dedupe(n: int, a: Any, b: Any, w: Any) -> tuple[Any, Any, Any]:
    """One edge per pair (the heaviest), in the order of the pairs."""
    import numpy as np

    order = np.lexsort((-w, b, a))
    a, b, w = a[order], b[order], w[order]
    first = np.ones(len(a), dtype=bool)
    first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    return a[first], b[first], w[first]


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


# --- the most pairs: a greedy pass, then Edmonds' augmenting paths over the implicit graph -------------------


def _complete(mate: Any, graph: _Allowed) -> None:
    """Turn `mate` into a matching with the most pairs the graph allows, keeping its pairs where it can.

    Single cities are first paired with each other (no weight is lost: two singles of a maximum-weight matching
    share no weighted edge); then, from each city still single, Edmonds' search for an augmenting path.
    A search that finds none from a city never finds one from it later, so one search per city suffices, and at
    the end no augmenting path is left: the matching is maximum (Berge).
    """
    waiting: list[int] = []
    for city in (int(x) for x in (mate < 0).nonzero()[0]):
        other = next((o for o in waiting if graph.allows(city, o)), None)
        if other is None:
            waiting.append(city)
        else:
            waiting.remove(other)
            mate[city], mate[other] = other, city
    for root in waiting:
        if mate[root] < 0 and graph.degree(root) > 0:
            _augment_from(root, mate, graph)


def _augment_from(root: int, mate: Any, graph: _Allowed) -> bool:
    """Edmonds' blossom search from `root` (Edmonds 1965, in the O(n^3) form of e-maxx's "Edmonds' algorithm").

    Each scan of an outer city handles its neighbours a whole array at a time: a single one ends the search;
    unlabelled matched ones become inner (their mates outer, queued); outer ones in another blossom contract one.
    Returns whether the matching grew by one pair.
    """
    import numpy as np

    n = graph.n
    parent = np.full(n, -1, dtype=np.int64)
    base = np.arange(n, dtype=np.int64)
    queued = np.zeros(n, dtype=bool)
    queued[root] = True
    queue = deque([root])
    everyone = np.arange(n)

    def outer() -> Any:
        mated = np.maximum(mate, 0)
        return (everyone == root) | ((mate >= 0) & (parent[mated] >= 0))

    def lowest_common_base(x: int, y: int) -> int:
        seen = set()
        while True:
            x = int(base[x])
            seen.add(x)
            if mate[x] < 0:
                break
            x = int(parent[mate[x]])
        while True:
            y = int(base[y])
            if y in seen:
                return y
            y = int(parent[mate[y]])

    def mark_path(x: int, common: int, child: int, blossom: Any) -> None:
        while base[x] != common:
            blossom[base[x]] = blossom[base[mate[x]]] = True
            parent[x] = child
            child = int(mate[x])
            x = int(parent[mate[x]])

    while queue:
        v = queue.popleft()
        near = graph.neighbours(v)
        if mate[v] >= 0:
            near[mate[v]] = False
        found = np.flatnonzero(near & (mate < 0) & (parent < 0) & (everyone != root))
        if len(found):
            _flip(int(found[0]), v, mate, parent)
            return True
        fresh = np.flatnonzero(near & (parent < 0) & ~outer() & (base != base[v]))
        if len(fresh):
            # both ends of one pair next to v: label one, its mate turns outer and makes a blossom below
            in_fresh = np.zeros(n, dtype=bool)
            in_fresh[fresh] = True
            fresh = fresh[~(in_fresh[mate[fresh]] & (mate[fresh] < fresh))]
            parent[fresh] = v
            mates = mate[fresh]
            queued[mates] = True
            queue.extend(mates.tolist())
        while True:
            hit = np.flatnonzero(near & outer() & (base != base[v]))
            if not len(hit):
                break
            to = int(hit[0])
            common = lowest_common_base(v, to)
            blossom = np.zeros(n, dtype=bool)
            mark_path(v, common, to, blossom)
            mark_path(to, common, v, blossom)
            inside = blossom[base]
            base[inside] = common
            joined = np.flatnonzero(inside & ~queued)
            queued[joined] = True
            queue.extend(joined.tolist())
    return False


def _flip(end: int, via: int, mate: Any, parent: Any) -> None:
    """Augment along the path found: `end` (single) reached from the outer city `via`."""
    parent[end] = via
    x = end
    while x != -1:
        previous = int(parent[x])
        after = int(mate[previous])
        mate[x], mate[previous] = previous, x
        x = after


def _max_weight_full(n: int, graph: _Allowed, weight: _PairWeights) -> Any:
    """The best weight among the matchings with the most pairs, over every allowed pair (small rounds only)."""
    import numpy as np

    x, y = np.triu_indices(n, 1)
    keep = ~graph.forbidden_pairs(x.astype(np.int64), y.astype(np.int64))
    x, y = x[keep], y[keep]
    return np.asarray(_max_weight_mate(n, x, y, weight.pairs(x, y), max_cardinality=True), dtype=np.int64)


def _max_weight_mate(size: int, a: Any, b: Any, w: Any, *, max_cardinality: bool = True) -> list[int]:
    """Exact maximum-weight matching of nodes 0..size-1 (integer weights): each node's mate, or -1."""
    mate = [-1] * size
    if size < 2 or not len(a):
        return mate
    import numpy as np
    import rustworkx as rx  # loaded with the first round

    graph = rx.PyGraph()
    graph.add_nodes_from(range(size))
    weights = np.asarray(w, dtype=np.int64).tolist()
    graph.add_edges_from(list(zip(np.asarray(a).tolist(), np.asarray(b).tolist(), weights, strict=True)))
    for x, y in rx.max_weight_matching(graph, max_cardinality=max_cardinality, weight_fn=int):
        mate[x], mate[y] = y, x
    return mate


# --- trios: placing a city left single -----------------------------------------------------------------------


def _place(city: int, groups: list[list[int]], graph: _Allowed, weight: _PairWeights) -> bool:
    """Put a single city into a pair it has met neither member of (the one it adds most to); if there is none,
    make room by a chain of swaps: it takes the place of a partner in a pair, who joins a pair itself (or takes
    another's place, up to `SWAP_DEPTH` swaps). Breadth first, so the shortest chain wins."""
    import numpy as np

    pairs = [i for i, g in enumerate(groups) if len(g) == 2]
    if not pairs:
        return False
    first = np.asarray([groups[i][0] for i in pairs], dtype=np.int64)
    second = np.asarray([groups[i][1] for i in pairs], dtype=np.int64)
    where = {x: k for k, i in enumerate(pairs) for x in groups[i]}

    def joinable(x: int, used: set[int]) -> int | None:
        """The pair (by its place in `pairs`) x can join, not among `used`, adding most weight."""
        near = graph.neighbours(x)
        ok = near[first] & near[second]
        if used:
            ok[list(used)] = False
        options = np.flatnonzero(ok)
        if not len(options):
            return None
        gains = weight.pairs(np.full(len(options), x), first[options]) + weight.pairs(
            np.full(len(options), x), second[options]
        )
        return int(options[np.argmax(gains)])

    # a state: the city now single, and the swaps so far: (pair k, the partner who stays, the newcomer)
    frontier: deque[tuple[int, tuple[tuple[int, int, int], ...]]] = deque([(city, ())])
    seen = {city}
    while frontier:
        single, swaps = frontier.popleft()
        used = {k for k, _, _ in swaps}
        target = joinable(single, used)
        if target is None:  # or a pair changed on the way
            target = next((k for k, *now in swaps if all(graph.allows(single, x) for x in now)), None)
        if target is not None:
            for k, partner, newcomer in swaps:
                groups[pairs[k]][:] = [partner, newcomer]
            groups[pairs[target]].append(single)
            return True
        if len(swaps) >= SWAP_DEPTH or len(seen) > SWAP_STATES:
            continue
        for partner in graph.neighbours(single).nonzero()[0].tolist():
            place = where.get(partner)
            if place is None or place in used:
                continue
            pair = groups[pairs[place]]
            leaver = pair[1] if pair[0] == partner else pair[0]
            if leaver in seen:
                continue
            seen.add(leaver)
            frontier.append((leaver, (*swaps, (place, partner, single))))
    return False


# --- why someone is left out -------------------------------------------------------------------------------


def _why_left_out(
    city: int,
    cities: list[int],
    groups: list[list[int]],
    group_of: Mapping[int, int],
    graph: _Allowed,
    met: set[tuple[int, int]],
) -> LeftOut:
    others = graph.n - 1
    if others == 0:
        return LeftOut(cities[city], LeftOutReason.ALONE)
    partners = graph.neighbours(city).nonzero()[0].tolist()
    if not partners:
        met_count = sum(1 for o in graph.blocked[city] if (min(city, o), max(city, o)) in met)
        return LeftOut(cities[city], LeftOutReason.MET_EVERYONE, others=others, met=met_count,
                       not_fit=others - met_count)  # fmt: skip
    taken = []
    for partner in partners:
        group = groups[group_of[partner]]
        blockers = tuple(cities[x] for x in group if x != partner and not graph.allows(city, x))
        taken.append(Taken(cities[partner], tuple(cities[x] for x in group), blockers))
    return LeftOut(cities[city], LeftOutReason.PARTNERS_TAKEN, partners=tuple(taken))


# --- large rounds: exact matching by parts -------------------------------------------------------------------


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
    a, b, w = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64), np.asarray(w, dtype=np.int64)
    crossing = np.ones(len(a), dtype=bool)
    priority = w.astype(np.float64)
    total = 0
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
        now = int(w[paired].sum())
        if now <= total * 1.001:
            break
        total = now
        crossing = part[a] != part[b]
        current = np.zeros(size)
        np.add.at(current, a[paired], w[paired])
        np.add.at(current, b[paired], w[paired])
        priority = w - (current[a] + current[b]) / 2
    return mate.tolist()


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
