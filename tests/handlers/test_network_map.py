"""/match map: the collaboration network as a picture and in words, on SQLite and PostgreSQL.

Cities come in through the CSV import, ties straight through the storage queries with the dates a test needs
(introductions on request and from rounds, met or not, goals shared with with=), so each graph is exactly the one
the test reasons about: isolated cities, bridges, articulation cities, several clusters; 10 cities and 500.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from handlers.city_import import import_cities
from handlers.types import Services
from storage import goal_queries
from storage import match_queries as mq
from storage.db import unit_of_work
from storage.models import City
from tests.handlers.conversation import ask, say
from tests.handlers.test_goal import PNG_MAGIC

pytestmark = pytest.mark.slow  # maps of 500 cities and two console processes

OLD = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)  # before the City Lab of 1 November
NEW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)

TEN = """\
name,country,cohort,tracks
Brno,CZ,ICC 2020,tourism
Porto,PT,ICC 2020,tourism
Graz,AT,ICC 2020,tourism
Turku,FI,ICC 2020,upskilling
Gdańsk,PL,ICC 2020,upskilling
Lyon,FR,Mission,tourism
Bilbao,ES,Mission,tourism
Aarhus,DK,Mission,upskilling
Tartu,EE,ICC 2020,upskilling
Cork,IE,Mission,
"""


def load_cities(services: Services, tmp_path: Path, content: str) -> dict[str, int]:
    path = tmp_path / "cities.csv"
    path.write_text(content, encoding="utf-8")
    import_cities(services, path)
    with unit_of_work(services.engine) as session:
        return {c.name: c.id for c in session.exec(select(City))}  # type: ignore[misc]


def tie(services: Services, ids: dict[str, int], a: str, b: str, kind: str, at: datetime) -> None:
    with unit_of_work(services.engine) as session:
        add_tie(session, ids, a, b, kind, at)


def add_tie(session: Session, ids: dict[str, int], a: str, b: str, kind: str, at: datetime) -> None:
    """One tie: met (an introduction one side said they met at), introduced, paired (a round) or goal (with=)."""
    if kind == "goal":
        due = (at + timedelta(days=90)).date()
        goal = goal_queries.add_goal(
            session=session, city_id=ids[a], text=f"{a} with {b}", track_id=None, due_on=due, member_id=None, now=at
        )
        goal_queries.set_collaborators(session=session, goal_id=goal.id, city_ids=[ids[b]])  # type: ignore[arg-type]
        return
    round_id = mq.add_round(session=session, cohort_id=None, member_id=None, now=at).id if kind == "paired" else None
    intro = mq.add_introduction(
        session=session,
        city_id=ids[a],
        other_city_id=ids[b],
        member_id=None,
        reasons=[],
        now=at,
        followup_due_at=at + timedelta(days=14),
        round_id=round_id,
    )
    if kind == "met":
        mq.set_outcome(
            session=session,
            introduction_id=intro.id,  # type: ignore[arg-type]
            city_id=ids[a],
            met=True,
            outcome="site-visit",
            member_id=None,  # type: ignore[arg-type]
            now=at,
        )


@pytest.fixture
def ten(services: Services, tmp_path: Path) -> Services:
    """Ten cities: a triangle Brno–Porto–Graz hanging Turku and then Gdańsk off Graz (two bridges, two
    articulation cities), Lyon–Bilbao apart (a second cluster, one bridge), Aarhus, Tartu and Cork alone.
    ana is admin, eve an expert, olga an organiser, bob Brno's representative."""
    say(services, "ana", "/city tracks")
    ids = load_cities(services, tmp_path, TEN)
    tie(services, ids, "Brno", "Porto", "met", OLD)
    tie(services, ids, "Porto", "Graz", "introduced", OLD)
    tie(services, ids, "Graz", "Brno", "goal", OLD)
    tie(services, ids, "Graz", "Turku", "paired", OLD)
    tie(services, ids, "Turku", "Gdańsk", "introduced", NEW)
    tie(services, ids, "Lyon", "Bilbao", "goal", NEW)
    say(services, "ana", "/city role @eve expert")
    say(services, "ana", "/city role @olga organiser")
    say(services, "bob", "/city join Brno")
    say(services, "ana", "/city approve @bob Brno")
    return services


def test_the_map_names_isolated_cities_bridges_articulation_cities_clusters_and_track_shares(ten):
    reply = ask(ten, "eve", "/match map")
    assert not reply.error
    lines = reply.plain().splitlines()
    assert lines[0] == (
        "Collaboration network of all cities · all tracks · 2026-11-22: 10 cities, 6 ties between them: "
        "network-map-2026-11-22.png."
    )
    assert lines[1] == (
        "Ties: 1 introductions that met, 2 introduced and 1 paired in rounds not met yet, 2 goals shared with with=."
    )
    # Clusters, largest first, their cities the most connecting first.
    assert lines[2] == "Clusters (2): 5 cities: Graz, Turku, Brno, Porto, Gdańsk; 2 cities: Bilbao, Lyon."
    assert lines[3] == "Isolated, with no tie (3): Aarhus, Cork, Tartu."
    assert lines[4] == (
        "Bridges, ties whose loss would split the network (3): Graz–Turku (cuts off 2 cities), "
        "Bilbao–Lyon (cuts off 1 city), Gdańsk–Turku (cuts off 1 city)."
    )
    assert lines[5] == "Articulation cities, whose loss would split the network (2): Graz, Turku."
    assert lines[6] == "Connecting most others (betweenness): Graz, Turku."
    # tourism: 5 ties touch it, Graz–Turku leaves it; upskilling: 2 touch it, the same one leaves.
    assert lines[7] == "Share of each track's ties that leave it: upskilling 1/2 (50 %); tourism 1/5 (20 %)."
    assert len(lines) == 8
    [picture] = reply.files
    assert picture.filename == "network-map-2026-11-22.png" and picture.mime_type == "image/png"
    assert picture.content.startswith(PNG_MAGIC) and picture.content.endswith(b"IEND\xaeB`\x82")


def test_the_same_data_gives_the_same_png_bytes(ten):
    first = ask(ten, "eve", "/match map").files[0].content
    second = ask(ten, "olga", "/match map").files[0].content
    assert first == second
    assert ask(ten, "eve", "/match map since=2026-11-01").files[0].content != first  # new ties drawn apart


def test_since_says_how_many_ties_are_new_and_which_cities_joined(ten):
    lines = say(ten, "olga", "/match map since=2026-11-01").splitlines()
    assert lines[-1] == "Since 2026-11-01: 2 new ties; joined the network: Bilbao, Gdańsk, Lyon."
    assert say(ten, "olga", "/match map since=2026-12-01").splitlines()[0] == (
        "since= is a day up to today (2026-11-22), not 2026-12-01."
    )
    lines = say(ten, "olga", "/match map since=2026-11-21").splitlines()
    assert lines[-1] == "Since 2026-11-21: 0 new ties; no city joined the network."


def test_a_cohort_or_a_track_narrows_the_map(ten):
    lines = say(ten, "eve", '/match map cohort="icc 2020"').splitlines()
    assert lines[0].startswith("Collaboration network of cohort ICC 2020 · all tracks · 2026-11-22: 6 cities, 5 ties")
    assert "Isolated, with no tie (1): Tartu." in lines
    assert "One cluster joins every tied city (5): Graz, Turku, Brno, Porto, Gdańsk." in lines
    lines = say(ten, "eve", "/match map track=upskilling").splitlines()
    assert lines[0].startswith("Collaboration network of all cities · track upskilling · 2026-11-22: 4 cities, 1 tie ")
    assert "Isolated, with no tie (2): Aarhus, Tartu." in lines
    assert "Bridges, ties whose loss would split the network (1): Gdańsk–Turku (cuts off 1 city)." in lines
    assert say(ten, "eve", "/match map track=supply-chains") == (
        "There are no cities to draw in all cities · track supply-chains yet."
    )


@pytest.mark.parametrize(
    "user, line, expected",
    [
        ("bob", "/match map", "Only admins, experts and organisers can see the collaboration network."),
        ("sam", "/match map", "Only admins, experts and organisers can see the collaboration network."),
        ("eve", "/match map cohort=Nope", "No cohort called `Nope`."),
        ("eve", "/match map since=soon", "`soon` is not a date"),
        ("eve", "/match map track=space", "`space` is not a track."),
        ("eve", "/match map everything", "Expected: /match map [cohort=<name>] [track=<track>] [since=<date>]"),
    ],
)
def test_refusals_and_mistakes_are_one_line(ten, user, line, expected):
    reply = ask(ten, user, line)
    assert reply.error and expected in reply.plain()
    assert len(reply.plain().splitlines()) == 1 and reply.files == []


def test_help_names_the_map(ten):
    assert "/match map [cohort=<name>] [track=<track>] [since=<date>]" in say(ten, "eve", "/match help")


def five_hundred(services: Services, tmp_path: Path) -> dict[str, int]:
    """500 cities: clusters of 120, 60, 30, 16 and many pairs and trios, chains between them (bridges), and 40
    isolated cities; ties of every kind, some before and some after 1 November."""
    tracks = ["tourism", "upskilling", "green-economy", "supply-chains", "public-administration"]
    rows = [f"City {i:03d},PL,ICC 2020,{tracks[i % 5]}" for i in range(500)]
    ids = load_cities(services, tmp_path, "name,country,cohort,tracks\n" + "\n".join(rows) + "\n")
    rng = random.Random(16)
    kinds = ["met", "introduced", "paired", "goal"]
    ties: list[tuple[str, str, str, datetime]] = []
    start = 0
    for size in [120, 60, 30, 16] + [3] * 30 + [2] * 72:
        members = [f"City {i:03d}" for i in range(start, start + size)]
        for i in range(1, size):  # a random tree keeps the cluster in one piece
            ties.append((members[i], members[rng.randrange(i)], rng.choice(kinds), rng.choice([OLD, NEW])))
        for _ in range(size // 2):  # and some cycles
            a, b = rng.sample(members, 2)
            ties.append((a, b, rng.choice(kinds), OLD))
        start += size
    assert start == 460  # the last 40 stay alone
    with unit_of_work(services.engine) as session:
        for a, b, kind, at in ties:
            add_tie(session, ids, a, b, kind, at)
    return ids


def test_a_map_of_500_cities_names_its_clusters_and_isolated_cities_and_is_the_same_twice(services, tmp_path):
    say(services, "ana", "/city tracks")
    five_hundred(services, tmp_path)
    reply = ask(services, "ana", "/match map since=2026-11-01")
    lines = reply.plain().splitlines()
    assert lines[0].startswith("Collaboration network of all cities · all tracks · 2026-11-22: 500 cities, ")
    clusters = next(line for line in lines if line.startswith("Clusters"))
    assert clusters.startswith("Clusters (106): 120 cities: ")
    assert "; 60 cities: " in clusters and "; 30 cities: " in clusters and "; 16 cities: " in clusters
    assert clusters.endswith("…and 100 more.")
    isolated = next(line for line in lines if line.startswith("Isolated"))
    assert isolated.startswith("Isolated, with no tie (40): City 460, City 461, ") and "…and 28 more" in isolated
    assert any(line.startswith("Bridges, ties whose loss would split the network (") for line in lines)
    assert any(line.startswith("Articulation cities, whose loss would split the network (") for line in lines)
    shares = next(line for line in lines if line.startswith("Share of each track's ties"))
    assert all(track in shares for track in ("green-economy", "public-administration", "upskilling", "tourism"))
    assert lines[-1].startswith("Since 2026-11-01: ") and "new ties; joined the network: " in lines[-1]
    [picture] = reply.files
    assert picture.content.startswith(PNG_MAGIC)
    assert ask(services, "ana", "/match map since=2026-11-01").files[0].content == picture.content


CONSOLE_SESSION = """\
/city register Brno country=CZ cohort="ICC 2020"
/city register Porto country=PT cohort="ICC 2020"
/city register Graz country=AT
/city register Turku country=FI
/city register Cork country=IE
/as @bob
/city join Brno
/as @pia
/city join Porto
/as @ana
/city approve @bob Brno
/city approve @pia Porto
/city role @eve expert
/as @bob
/city interests tourism
/goal add Open a tourism data hub with=Graz;Turku
/match intro Porto
/as @eve
/match map
"""


def test_two_console_processes_save_the_same_map_bytes(tmp_path):
    from tests.console.test_console import run

    database = str(tmp_path / "network.db")
    places = [tmp_path / name for name in ("first", "second", "third")]
    for place in places:
        place.mkdir()
    made = run("console", "--user", "ana", "--db", database, stdin=CONSOLE_SESSION, cwd=places[0])
    assert made.returncode == 0, made.stderr
    assert "Isolated, with no tie (1): Cork." in made.stdout
    for place in places[1:]:
        again = run("console", "--user", "eve", "--db", database, stdin="/match map\n", cwd=place)
        assert again.returncode == 0, again.stderr
    saved = [next(place.glob("network-map-*.png")).read_bytes() for place in places]
    assert saved[0].startswith(PNG_MAGIC)
    assert saved[0] == saved[1] == saved[2]


def test_the_svg_for_a_page_makes_every_city_a_focusable_link_and_needs_no_inline_style(ten):
    from handlers.files.network import NetworkWords, inline_svg, network_map
    from handlers.match import load_network, map_groups

    with unit_of_work(ten.engine) as session:
        network = load_network(session, track_order=["tourism", "upskilling"])
    groups, order = map_groups(network, by_country=False)
    words = NetworkWords("tie", "bridge", "new", "articulation city", "joined")
    titles = {c.id: f"{c.name}: {network.strength[c.id]} tie weight" for c in network.cities}
    links = {c.id: f"/dashboard/t/city/{c.id}" for c in network.cities}

    def svg() -> bytes:
        return network_map(network, title="Network", words=words, groups=groups, group_order=order, fmt="svg",
                           titles=titles, links=links)  # fmt: skip

    drawn = svg()
    assert drawn == svg()  # the same data, the same bytes
    page = inline_svg(drawn)
    assert page.startswith("<svg") and "style=" not in page and "<style" not in page
    assert page.count('<a id="city-') == 10
    graz = next(c.id for c in network.cities if c.name == "Graz")
    assert f'<a id="city-{graz}" href="/dashboard/t/city/{graz}" aria-label="Graz: 4 tie weight">' in page
    assert "<title>Graz: 4 tie weight</title>" in page
