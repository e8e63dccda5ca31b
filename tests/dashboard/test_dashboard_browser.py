"""The web dashboard driven in a real headless browser through Playwright (conftest.py finds the browser). One
programme (tests/dashboard/programme.py) on SQLite behind the real web app on 127.0.0.1, read by an expert and an
organiser."""

from __future__ import annotations

import csv
import io
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import urlparse

import pytest
from sqlmodel import select

from bot.app import build_services
from bot.dashboard import dashboard_route
from bot.web import create_server, make_wsgi_app, stop_http_server
from core.clock import FakeClock
from handlers.dashboard import token_hash
from handlers.types import Services
from storage import dashboard_queries
from storage.db import unit_of_work
from storage.models import Member
from tests.conftest import make_settings
from tests.dashboard import programme
from tests.handlers.conversation import say

pytestmark = pytest.mark.slow  # a real browser

PAGES = ("", "goals", "city/1", "network", "events")


class Site:
    def __init__(self, services: Services, clock: FakeClock, origin: str) -> None:
        self.services, self.clock, self.origin = services, clock, origin
        self.links = {user: programme.link(services, user) for user in ("eve", "olga")}

    def url(self, user: str, page: str = "") -> str:
        return self.origin + self.links[user] + page

    def new_link(self, user: str) -> str:
        return self.origin + programme.link(self.services, user)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    clock = FakeClock(datetime(2026, 8, 30, 9, tzinfo=UTC))
    database = tmp_path_factory.mktemp("dashboard") / "citypeers.db"
    services = build_services(make_settings(f"sqlite:///{database}"), clock=clock, first_user_is_admin=True)
    programme.build(services, clock)
    server = create_server(make_wsgi_app([dashboard_route(services)], []), "127.0.0.1", 0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield Site(services, clock, f"http://127.0.0.1:{server.effective_port}")
    stop_http_server(server)
    thread.join(timeout=10)
    services.engine.dispose()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context()  # type: ignore[attr-defined]
    opened = context.new_page()
    yield opened
    context.close()


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


# --- each page, for an expert and for an organiser ------------------------------------------------------


@pytest.mark.parametrize("user", ["eve", "olga"])
def test_each_page_loads_with_its_content(site: Site, page, user: str) -> None:
    page.goto(site.url(user))
    assert page.locator("h1").inner_text() == "Overview"
    assert page.get_attribute("html", "lang") == "en"
    by_track = page.locator("table", has=page.locator("caption", has_text="per cohort and track"))
    row = by_track.locator("tr", has=page.locator("th", has_text="ICC")).filter(has_text="upskilling")
    assert row.count() == 1
    # Brno's "Train 200 civil servants" was reported at risk and is overdue: counted as overdue, once;
    # Tartu's skills week not yet reported.
    assert "overdue" in by_track.inner_text() and "not yet reported" in by_track.inner_text()
    weeks = page.locator("table", has=page.locator("caption", has_text="end of each week")).locator("tbody tr")
    assert weeks.count() == 12
    left_out = page.locator("main").inner_text()
    assert "Cities with no representative (2)" in left_out and "Turin" in left_out and "Valencia" in left_out

    page.get_by_role("link", name="Goals", exact=True).click()
    assert page.locator("h1").inner_text() == "Goals"
    table = page.locator("table.goals")
    assert table.locator("tbody tr").count() == 6
    assert "trainers hard to find" in table.inner_text()  # the latest note
    assert table.locator("strong.overdue").count() == 2
    page.get_by_role("link", name="Brno").first.click()
    assert page.locator("h1").inner_text() == "Brno"
    main = page.locator("main").inner_text()
    for expected in ("Open data portal on energy use", "bob", "Retrofit ten schools", "Porto", "City Lab Lisbon"):
        assert expected in main
    assert "met, a shared practice" in main  # Brno's answer about its introduction to Porto

    page.get_by_role("link", name="Network", exact=True).click()
    assert page.locator("svg.network a.city").count() == len(programme.CITIES)
    assert "Turin" in page.locator("main").inner_text()  # named among the isolated cities

    page.get_by_role("link", name="Events", exact=True).click()
    events = page.locator("main table").inner_text()
    assert "City Lab Lisbon" in events and "Mayors summit" in events
    if user == "olga":
        assert "bob (Brno)" in events and "pia (Porto)" in events
    else:
        assert "bob" not in events and "Who" not in events


def test_the_goals_form_filters_and_the_csv_holds_exactly_what_is_shown(site: Site, page) -> None:
    page.goto(site.url("eve", "goals"))
    page.get_by_label("Status").select_option("overdue")
    page.get_by_label("Sort by").select_option("city")
    page.get_by_role("button", name="Show").click()
    assert "status=overdue" in page.url
    shown = page.locator("table.goals tbody tr td:first-child").all_inner_texts()
    assert sorted(shown) == ["1", "2"]
    href = page.get_by_role("link", name="Download these 2 goals as CSV").get_attribute("href")
    status, headers, body = fetch(site.origin + href)
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert [row["id"] for row in rows] == shown
    assert {row["overdue"] for row in rows} == {"yes"}


def test_keyboard_focus_reaches_every_city_of_the_network(site: Site, page) -> None:
    page.goto(site.url("eve", "network"))
    focused: set[str] = set()
    for _ in range(len(programme.CITIES) + 40):
        page.keyboard.press("Tab")
        name = page.evaluate(
            "() => { const e = document.activeElement;"
            " return e && e.matches('svg a.city') ? e.querySelector('title').textContent : null; }"
        )
        if name:
            focused.add(name.split(" (")[0])
    assert focused == set(programme.CITIES)
    titles = page.locator("svg a.city title").all_text_contents()
    assert any(t.startswith("Brno (CZ, ICC") and "Porto" in t for t in titles)  # name and ties
    assert page.locator("svg a.city[tabindex='0']").count() == len(programme.CITIES)


def test_no_request_leaves_the_bots_own_origin(site: Site, page) -> None:
    requested: list[str] = []
    complaints: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("console", lambda message: complaints.append(message.text) if message.type == "error" else None)
    for user in ("eve", "olga"):
        for path in PAGES:
            page.goto(site.url(user, path))
    assert requested
    assert {urlparse(url).hostname for url in requested} == {"127.0.0.1"}
    assert any(url.endswith("/dashboard/static/dashboard.css") for url in requested)
    assert complaints == []  # nothing the Content-Security-Policy refused (an inline style would be)


@pytest.mark.parametrize("user", ["eve", "olga"])
def test_axe_finds_no_serious_or_critical_violation(site: Site, page, user: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    found = {}
    for path in (*PAGES, "goals?status=at-risk", "city/7", "network?cohort=1&city=1&steps=2&since=2026-08-01"):
        page.goto(site.url(user, path))
        violations = axe.run(page).response["violations"]
        bad = [(v["id"], v["impact"], len(v["nodes"])) for v in violations if v["impact"] in ("serious", "critical")]
        if bad:
            found[path] = bad
    assert found == {}


# --- the pictures ---------------------------------------------------------------------------------------


def test_the_pictures_say_what_they_show_and_keep_their_numbers_beside_them(site: Site, page) -> None:
    page.goto(site.url("eve"))
    weeks = page.locator("svg.chart-weeks")
    assert weeks.get_attribute("role") == "img"
    assert page.get_by_role("img", name="Goals at the end of each of the last twelve weeks").count() == 1
    desc = weeks.locator("desc").text_content()
    assert "in the week ending" in desc and "the table below gives every number" in desc
    bars = weeks.locator("rect title").all_text_contents()
    assert bars and all(t.startswith("Week ending ") for t in bars)
    # the same numbers as the table below it: the last week's overdue count, in the bar's title and in the table
    table = page.locator("table", has=page.locator("caption", has_text="end of each week"))
    last = table.locator("tbody tr").last.locator("td").all_inner_texts()
    overdue_column = [h.strip() for h in table.locator("thead th").all_inner_texts()].index("overdue") - 1
    ending = table.locator("tbody tr").last.locator("th").inner_text()
    assert f"Week ending {ending}: {last[overdue_column]} overdue" in bars
    small = page.locator("td.small-chart svg[role='img']")
    rows = page.locator("table", has=page.locator("caption", has_text="per cohort and track")).locator("tbody tr")
    assert small.count() == rows.count() > 0
    assert page.get_by_role("img", name="ICC · upskilling: twelve weeks").count() == 1

    page.goto(site.url("eve", "city/1"))  # Brno, two goals
    timeline = page.get_by_role("img", name="The city's goals on a timeline")
    assert timeline.count() == 1
    goals = page.locator("svg.chart-timeline > g > title").all_text_contents()
    assert len(goals) == 2 and all(t.startswith("#") for t in goals)
    assert any("overdue" in t and "Train 200 civil servants" in t for t in goals)
    updates = page.locator("svg.chart-timeline circle title").all_text_contents()
    assert any("at-risk: trainers hard to find" in t for t in updates)
    assert all(re.match(r"#\d+, \d{4}-\d\d-\d\d \d\d:\d\d CES?T: ", t) for t in updates)  # times say their zone


def test_the_network_filter_works_from_the_keyboard(site: Site, page) -> None:
    page.goto(site.url("eve", "network"))
    everyone = page.locator("svg.network a.city").count()
    page.locator("#n-cohort").focus()
    page.keyboard.press("ArrowDown")  # the first cohort: ICC
    for _ in range(3):  # track, city, reach
        page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "n-since"  # reached in order, by Tab alone
    page.locator("#n-since").fill("2026-08-01")  # typing a date's digits depends on the browser's locale
    page.keyboard.press("Enter")
    page.wait_for_url("**/network?*")
    assert "cohort=" in page.url and "since=2026-08-01" in page.url
    shown = page.locator("svg.network a.city").count()
    assert 0 < shown < everyone and page.locator("#shown").inner_text().startswith("Showing cohort ICC")
    assert "days begin at midnight" in page.locator("#shown").inner_text()


def test_names_never_lie_over_circles_on_a_map_of_500_cities(page) -> None:
    """A 500-city network drawn as the dashboard draws it, measured by the browser that shows it."""
    import random

    from core.network import City, Tie, TieKind, analyse
    from handlers.files.network import NetworkWords, network_map

    rng = random.Random(500)
    when = datetime(2026, 1, 1, tzinfo=UTC)
    cities = [City(i, f"{rng.choice(['Bra', 'Lu', 'Porto', 'Gri', 'Saen'])}{rng.choice(['sa', 'ka', 'no'])} {i}", "EU",
                   (f"track-{i % 5}",)) for i in range(1, 501)]  # fmt: skip
    ties = [Tie(*rng.sample(range(1, 501), 2), rng.choice(list(TieKind)), when) for _ in range(2000)]
    network = analyse(cities, ties)
    words = NetworkWords(tie="tie", bridge="bridge", new="", articulation="articulation city", joined="")
    groups = {c.id: c.tracks[0] for c in cities}
    svg = network_map(network, title="500 cities", words=words, groups=groups,
                      group_order=sorted(set(groups.values())), fmt="svg",
                      titles={c.id: c.name for c in cities}).decode()  # fmt: skip
    page.set_content(f"<!doctype html><html lang='en'><body>{svg[svg.index('<svg') :]}</body></html>")
    boxes = page.evaluate(
        """() => {
            const box = e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
            return {
                labels: [...document.querySelectorAll('[id^="label-"]')].map(box),
                circles: [...document.querySelectorAll('[id^="city-"] path')].map(box),
            };
        }"""
    )
    labels, circles = boxes["labels"], boxes["circles"]

    def overlap(one: list[float], other: list[float]) -> bool:
        return one[0] < other[2] and other[0] < one[2] and one[1] < other[3] and other[1] < one[3]

    assert len(circles) == 500 and len(labels) >= 40  # names are written where there is room
    assert overlap(labels[0], labels[0]) and overlap(labels[0], [labels[0][0] - 5, labels[0][1], labels[0][0] + 1,
                                                                 labels[0][3]])  # fmt: skip
    over_circles = [
        (i, j) for i, label in enumerate(labels) for j, circle in enumerate(circles) if overlap(label, circle)
    ]
    over_names = [(i, j) for i, a in enumerate(labels) for j, b in enumerate(labels) if i < j and overlap(a, b)]
    assert over_circles == [] and over_names == []


# --- access ---------------------------------------------------------------------------------------------


def test_headers_forbid_other_origins_inline_code_framing_referrers_and_caching(site: Site) -> None:
    for user in ("eve", "olga"):
        for path in (*PAGES, "goals.csv"):
            status, headers, _ = fetch(site.url(user, path))
            assert status == 200, path
            policy = headers["Content-Security-Policy"]
            assert "unsafe-inline" not in policy and "default-src 'none'" in policy
            assert "frame-ancestors 'none'" in policy and "style-src 'self'" in policy
            assert headers["Referrer-Policy"] == "no-referrer"
            assert headers["Cache-Control"] == "no-store"


def test_a_reps_revoked_or_unknown_link_gets_the_same_404_as_any_unknown_path(site: Site, page) -> None:
    services = site.services
    unknown_path = fetch(site.origin + "/no/such/page")
    assert unknown_path[0] == 404

    say(services, "ana", "/city role @max expert")
    demoted = site.new_link("max")
    assert fetch(demoted)[0] == 200
    say(services, "ana", "/city role @max none")  # losing the role closes the link at the next request
    say(services, "max", "/city join Turin")
    say(services, "ana", "/city approve @max Turin")  # now a rep, who may not have a dashboard
    assert "Only admins, experts and organisers" in say(services, "max", "/goal dashboard")
    token = "r" * 32  # a link a rep holds (written straight to the table: no command gives one)
    with unit_of_work(services.engine) as session:
        bob = session.exec(select(Member).where(Member.external_id == "bob")).one()
        hashed = token_hash(token)
        dashboard_queries.add_link(session=session, member_id=bob.id, token_hash=hashed, now=site.clock.now())
    reps_link = f"{site.origin}/dashboard/{token}/"

    say(services, "ana", "/city role @kim organiser")
    revoked = site.new_link("kim")
    assert fetch(revoked + "events")[0] == 200
    assert "Revoked 1 link" in say(services, "kim", "/goal dashboard reset")

    forged = site.origin + "/dashboard/" + "A" * 32 + "/"
    closed = (demoted, demoted + "goals", reps_link, reps_link + "goals", revoked, revoked + "events", forged)
    for url in (*closed, site.url("eve", "city/999")):
        status, headers, body = fetch(url)
        assert (status, body) == (unknown_path[0], unknown_path[2]), url
        assert headers["Content-Type"] == unknown_path[1]["Content-Type"]
    response = page.goto(revoked)
    assert response is not None and response.status == 404
