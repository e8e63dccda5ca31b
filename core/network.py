"""The collaboration network: cities are nodes, what joins them are ties, and what an expert reads off it.

A tie is an introduction (met, or not yet; made on request or by a round) or a goal shared with `with=`. Ties
between the same two cities add up to one weighted edge. The reading: isolated cities, clusters (connected
components), bridges (edges whose loss splits a cluster) and articulation cities (cities whose loss does), the
cities through which most shortest paths run (betweenness), and per track the share of its edges that leave it.
rustworkx does the graph work; it is imported with the first map, not at start-up.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import cast

from core.text import fold_name


class TieKind(StrEnum):
    MET = "met"  # an introduction either side said they met at
    GOAL = "goal"  # a goal that names the other city in with=
    INTRODUCED = "introduced"  # introduced on request, not met yet
    PAIRED = "paired"  # paired by a matching round, not met yet


# How much each kind of tie counts: having met counts most, a commitment together next.
WEIGHTS: dict[TieKind, int] = {TieKind.MET: 3, TieKind.GOAL: 2, TieKind.INTRODUCED: 1, TieKind.PAIRED: 1}


@dataclass(frozen=True)
class City:
    id: int
    name: str
    country: str
    tracks: tuple[str, ...] = ()  # track keys, in the programme's order


@dataclass(frozen=True)
class Tie:
    a: int
    b: int
    kind: TieKind
    at: datetime  # when it was made (the introduction, the goal)


@dataclass(frozen=True)
class Edge:
    """Every tie between two cities (`a` < `b`), as one weighted edge."""

    a: int
    b: int
    weight: int
    kinds: tuple[TieKind, ...]
    first_at: datetime
    new: bool = False  # every tie of the pair was made since the date asked for


@dataclass(frozen=True)
class Bridge:
    a: int
    b: int
    cut_off: int  # cities on the smaller side, were the edge lost


@dataclass
class Network:
    cities: list[City]  # in reading order: folded name, then id
    edges: list[Edge]  # by (a, b) in reading order of the cities
    ties: dict[TieKind, int]  # how many ties of each kind
    strength: dict[int, int]  # each city's weighted degree
    isolated: list[int]
    clusters: list[list[int]]  # connected components of two cities or more, largest first
    bridges: list[Bridge]  # most cut off first
    articulation: list[int]  # most between first
    betweenness: dict[int, float]
    track_edges: dict[str, tuple[int, int]]  # track key -> (edges leaving it, edges touching it)
    since: datetime | None = None
    new_edges: int = 0
    joined: list[int] = field(default_factory=list)  # cities whose every edge is new

    def city(self, city_id: int) -> City:
        return self._by_id[city_id]

    def __post_init__(self) -> None:
        self._by_id = {c.id: c for c in self.cities}


def reading_order(cities: Iterable[City]) -> list[City]:
    return sorted(cities, key=lambda c: (fold_name(c.name), c.id))


def neighbourhood(ties: Iterable[Tie], centre: int, steps: int, *, among: Iterable[int]) -> set[int]:
    """The cities at most `steps` ties away from `centre` (itself included), going only through cities in
    `among`; empty when the centre is not among them."""
    kept = set(among)
    if centre not in kept:
        return set()
    near: dict[int, set[int]] = defaultdict(set)
    for tie in ties:
        if tie.a in kept and tie.b in kept and tie.a != tie.b:
            near[tie.a].add(tie.b)
            near[tie.b].add(tie.a)
    found, frontier = {centre}, {centre}
    for _ in range(steps):
        frontier = {other for city in frontier for other in near[city]} - found
        found |= frontier
    return found


def analyse(cities: Iterable[City], ties: Iterable[Tie], *, since: datetime | None = None) -> Network:
    """Read the network of `cities`; ties with an end outside them, or a city tied to itself, are left out."""
    import rustworkx as rx  # loaded with the first map

    ordered = reading_order(cities)
    index = {c.id: i for i, c in enumerate(ordered)}
    grouped: dict[tuple[int, int], list[Tie]] = defaultdict(list)
    counts: dict[TieKind, int] = dict.fromkeys(TieKind, 0)
    for tie in ties:
        if tie.a == tie.b or tie.a not in index or tie.b not in index:
            continue
        a, b = sorted((tie.a, tie.b), key=index.__getitem__)
        grouped[(a, b)].append(tie)
        counts[tie.kind] += 1
    edges = []
    for (a, b), found in sorted(grouped.items(), key=lambda item: (index[item[0][0]], index[item[0][1]])):
        first = min(t.at for t in found)
        kinds = tuple(sorted({t.kind for t in found}, key=list(TieKind).index))
        weight = sum(WEIGHTS[t.kind] for t in found)
        edges.append(Edge(a, b, weight, kinds, first, new=since is not None and first >= since))

    graph = rx.PyGraph(multigraph=False)
    graph.add_nodes_from([c.id for c in ordered])
    graph.add_edges_from([(index[e.a], index[e.b], e.weight) for e in edges])
    strength = {c.id: 0 for c in ordered}
    for e in edges:
        strength[e.a] += e.weight
        strength[e.b] += e.weight
    ids = [c.id for c in ordered]
    components = sorted((sorted(part) for part in rx.connected_components(graph)), key=lambda p: (-len(p), p[0]))
    isolated = [ids[i] for part in components if len(part) == 1 for i in part]
    clusters = [[ids[i] for i in part] for part in components if len(part) > 1]
    between = rx.betweenness_centrality(graph, normalized=True)
    betweenness = {ids[i]: round(float(between[i]), 9) for i in graph.node_indices()}

    def most_between(city_id: int) -> tuple[float, int]:
        return (-betweenness[city_id], index[city_id])

    articulation = sorted((ids[i] for i in rx.articulation_points(graph)), key=most_between)
    sizes = _cut_sizes(len(ordered), [(index[e.a], index[e.b]) for e in edges])
    # rustworkx's stub says one-element tuples; the function returns (u, v) pairs.
    pairs = cast("set[tuple[int, int]]", rx.bridges(graph))
    bridges = [Bridge(ids[min(u, v)], ids[max(u, v)], sizes[frozenset((u, v))]) for u, v in pairs]
    bridges.sort(key=lambda br: (-br.cut_off, index[br.a], index[br.b]))

    track_edges: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_id = {c.id: c for c in ordered}
    for e in edges:
        one, other = set(by_id[e.a].tracks), set(by_id[e.b].tracks)
        for track in one | other:
            track_edges[track][1] += 1
            if (track in one) != (track in other):
                track_edges[track][0] += 1
    joined: list[int] = []
    if since is not None:
        old = {c for e in edges if not e.new for c in (e.a, e.b)}
        joined = [c.id for c in ordered if strength[c.id] and c.id not in old]
    return Network(
        cities=ordered,
        edges=edges,
        ties=counts,
        strength=strength,
        isolated=isolated,
        clusters=clusters,
        bridges=bridges,
        articulation=articulation,
        betweenness=betweenness,
        track_edges={track: (leaving, touching) for track, (leaving, touching) in track_edges.items()},
        since=since,
        new_edges=sum(1 for e in edges if e.new),
        joined=joined,
    )


def _cut_sizes(count: int, edges: Sequence[tuple[int, int]]) -> dict[frozenset[int], int]:
    """For each edge of a spanning tree, the cities on the smaller side were it cut. Every bridge is in every
    spanning tree, and cutting it leaves the tree's two sides, so this answers for each bridge in one pass."""
    neighbours: list[list[int]] = [[] for _ in range(count)]
    for u, v in edges:
        neighbours[u].append(v)
        neighbours[v].append(u)
    parent = [-1] * count
    below = [1] * count
    seen = [False] * count
    sizes: dict[frozenset[int], int] = {}
    for root in range(count):
        if seen[root]:
            continue
        seen[root] = True
        order = [root]
        stack = [root]
        while stack:
            node = stack.pop()
            for nxt in neighbours[node]:
                if not seen[nxt]:
                    seen[nxt] = True
                    parent[nxt] = node
                    order.append(nxt)
                    stack.append(nxt)
        for node in reversed(order):
            if parent[node] >= 0:
                below[parent[node]] += below[node]
        total = below[root]
        for node in order[1:]:
            sizes[frozenset((node, parent[node]))] = min(below[node], total - below[node])
    return sizes
