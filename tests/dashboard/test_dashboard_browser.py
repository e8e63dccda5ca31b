"""The web dashboard driven in a real headless browser through Playwright (conftest.py finds the browser). One
programme (tests/dashboard/programme.py) on SQLite behind the real web app on 127.0.0.1, read by an expert and an
organiser."""

from __future__ import annotations

import csv
import io
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
    for path in (*PAGES, "goals?status=at-risk", "city/7"):
        page.goto(site.url(user, path))
        violations = axe.run(page).response["violations"]
        bad = [(v["id"], v["impact"], len(v["nodes"])) for v in violations if v["impact"] in ("serious", "critical")]
        if bad:
            found[path] = bad
    assert found == {}


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
