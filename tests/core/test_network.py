"""core.network reads a graph of cities and ties: the same reading /match map says, on graphs small enough to check
by hand."""

from __future__ import annotations

from datetime import UTC, datetime

from core.network import Bridge, City, Tie, TieKind, analyse

OLD = datetime(2026, 1, 1, tzinfo=UTC)
NEW = datetime(2026, 6, 1, tzinfo=UTC)


def cities(*names: str, track: str = "t") -> list[City]:
    return [City(i, name, "PL", (track,)) for i, name in enumerate(names, start=1)]


def test_a_path_has_every_edge_a_bridge_and_every_inner_city_an_articulation_city():
    # A – B – C – D, and E alone
    network = analyse(cities("A", "B", "C", "D", "E"), [Tie(1, 2, TieKind.MET, OLD), Tie(2, 3, TieKind.GOAL, OLD),
                                                         Tie(3, 4, TieKind.PAIRED, OLD)])  # fmt: skip
    assert network.isolated == [5]
    assert network.clusters == [[1, 2, 3, 4]]
    assert network.bridges == [Bridge(2, 3, 2), Bridge(1, 2, 1), Bridge(3, 4, 1)]
    assert network.articulation == [2, 3]
    assert network.strength == {1: 3, 2: 5, 3: 3, 4: 1, 5: 0}


def test_ties_between_the_same_cities_add_up_and_a_cycle_has_no_bridge():
    ties = [Tie(1, 2, TieKind.MET, OLD), Tie(2, 1, TieKind.GOAL, OLD), Tie(2, 3, TieKind.INTRODUCED, OLD),
            Tie(3, 1, TieKind.INTRODUCED, OLD), Tie(1, 1, TieKind.GOAL, OLD), Tie(1, 99, TieKind.MET, OLD)]  # fmt: skip
    network = analyse(cities("A", "B", "C"), ties)
    assert [(e.a, e.b, e.weight, e.kinds) for e in network.edges] == [
        (1, 2, 5, (TieKind.MET, TieKind.GOAL)),
        (1, 3, 1, (TieKind.INTRODUCED,)),
        (2, 3, 1, (TieKind.INTRODUCED,)),
    ]
    assert network.bridges == [] and network.articulation == []
    assert network.ties[TieKind.GOAL] == 1  # a city tied to itself, or to a city not shown, is left out


def test_since_marks_new_edges_and_the_cities_they_brought_in():
    ties = [Tie(1, 2, TieKind.MET, OLD), Tie(2, 3, TieKind.GOAL, NEW), Tie(1, 2, TieKind.GOAL, NEW),
            Tie(4, 5, TieKind.INTRODUCED, NEW)]  # fmt: skip
    network = analyse(cities("A", "B", "C", "D", "E"), ties, since=NEW)
    assert [(e.a, e.b, e.new) for e in network.edges] == [(1, 2, False), (2, 3, True), (4, 5, True)]
    assert network.new_edges == 2 and network.joined == [3, 4, 5]


def test_the_share_of_a_tracks_edges_that_leave_it():
    towns = [City(1, "A", "PL", ("x",)), City(2, "B", "PL", ("x", "y")), City(3, "C", "PL", ("y",))]
    network = analyse(towns, [Tie(1, 2, TieKind.MET, OLD), Tie(2, 3, TieKind.MET, OLD), Tie(1, 3, TieKind.MET, OLD)])
    # x: A–B stays on it, B–C and A–C leave it; y: B–C stays on it, A–B and A–C leave it.
    assert network.track_edges == {"x": (2, 3), "y": (2, 3)}


def test_a_neighbourhood_reaches_one_or_two_ties_through_the_cities_kept() -> None:
    from core.network import neighbourhood

    at = datetime(2026, 1, 1, tzinfo=UTC)
    chain = [
        Tie(1, 2, TieKind.MET, at),
        Tie(2, 3, TieKind.GOAL, at),
        Tie(3, 4, TieKind.PAIRED, at),
        Tie(5, 5, TieKind.MET, at),
    ]
    assert neighbourhood(chain, 1, 1, among=range(1, 6)) == {1, 2}
    assert neighbourhood(chain, 1, 2, among=range(1, 6)) == {1, 2, 3}
    assert neighbourhood(chain, 3, 1, among=range(1, 6)) == {2, 3, 4}
    assert neighbourhood(chain, 1, 2, among=[1, 3, 4]) == {1}  # 2 is filtered out, so 3 is out of reach
    assert neighbourhood(chain, 9, 2, among=range(1, 6)) == set()  # a centre outside the cities kept
