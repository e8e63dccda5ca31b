"""/goal dashboard's links (hashed, revoked, closed with the role) and the pages' data, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from core.clock import FakeClock
from handlers import dashboard as data
from storage.db import unit_of_work
from storage.models import DashboardLink
from tests.dashboard import programme
from tests.handlers.conversation import say


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 8, 30, 9, tzinfo=UTC))


def token_of(reply: str) -> str:
    [token] = re.findall(r"/dashboard/([A-Za-z0-9_-]+)/", reply)
    return token


def viewer(services, token):
    with unit_of_work(services.engine) as session:
        return data.viewer(session, token, services.settings, services.clock.now())


def test_a_link_is_192_random_bits_of_which_only_the_hash_is_kept(services):
    say(services, "ana", "/city tracks")
    say(services, "ana", "/city role @eve expert")
    reply = say(services, "eve", "/goal dashboard")
    assert reply.startswith("Your private dashboard: http://localhost:3000/dashboard/")
    token = token_of(reply)
    assert len(token) == 32  # 24 bytes, URL-safe base64
    with unit_of_work(services.engine) as session:
        [link] = session.exec(select(DashboardLink)).all()
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in link.token_hash
    assert viewer(services, token).member.external_id == "eve"
    assert token_of(say(services, "eve", "/goal dashboard")) != token  # a second link, the first still works
    assert viewer(services, token) is not None


def test_reset_revokes_every_link_and_losing_the_role_closes_them(services):
    say(services, "ana", "/city tracks")
    say(services, "ana", "/city role @eve expert")
    say(services, "ana", "/city role @olga organiser")
    first, second = (token_of(say(services, "eve", "/goal dashboard")) for _ in range(2))
    assert say(services, "eve", "/goal dashboard reset").startswith("Revoked 2 links")
    assert viewer(services, first) is None and viewer(services, second) is None
    kept = token_of(say(services, "olga", "/goal dashboard"))
    assert viewer(services, kept).organiser
    say(services, "ana", "/city role @olga expert")
    assert not viewer(services, kept).organiser  # read again at every request: now an expert's view
    say(services, "ana", "/city role @olga none")
    assert viewer(services, kept) is None
    say(services, "ana", "/city role @olga organiser")  # revoked when found without the role: it stays closed
    assert viewer(services, kept) is None
    with unit_of_work(services.engine) as session:
        assert all(link.revoked_at is not None for link in session.exec(select(DashboardLink)))
    assert "Only admins, experts and organisers" in say(services, "bob", "/goal dashboard")
    assert viewer(services, "not-a-token") is None and viewer(services, "A" * 32) is None


def test_a_role_taken_away_closes_the_links_even_if_given_back_before_they_are_used(services):
    say(services, "ana", "/city tracks")
    say(services, "ana", "/city role @eve expert")
    link = token_of(say(services, "eve", "/goal dashboard"))
    assert viewer(services, link) is not None
    say(services, "ana", "/city role @eve none")
    say(services, "ana", "/city role @eve expert")  # back at once, before anyone opens the link
    assert viewer(services, link) is None


def test_the_overview_counts_each_goal_once_and_twelve_weeks_of_change(services, clock):
    programme.build(services, clock)
    token = token_of(say(services, "eve", "/goal dashboard"))
    with unit_of_work(services.engine) as session:
        who = data.viewer(session, token, services.settings, clock.now())
        seen = data.overview(session, who, clock.now())
    rows = {(row.cohort, row.track): row for row in seen.rows}
    # each goal counted once: Brno's training goal, at risk and past due, is overdue, not also at risk
    assert rows[("ICC", "upskilling")].counts == {
        "done": 0,
        "on-track": 0,
        "at-risk": 0,
        "new": 0,
        "overdue": 1,
        "dropped": 0,
    }
    green = rows[("ICC", "green-economy")]
    assert (green.counts["on-track"], green.counts["done"], green.counts["overdue"]) == (0, 1, 1)
    assert green.change["done"] == 1 and green.change["new"] == -2  # twelve weeks ago both were not yet reported
    assert rows[("Mission", "upskilling")].counts["new"] == 1  # Tartu's goal, nobody reported on it yet
    assert seen.totals == {"new": 1, "on-track": 0, "at-risk": 1, "done": 1, "dropped": 1, "overdue": 2}
    assert sum(seen.totals.values()) == 6 == sum(row.total for row in seen.rows)  # the goals, each once
    assert len(seen.weeks) == 12 and seen.weeks[-1].counts["overdue"] == 2 and seen.weeks[0].counts["overdue"] == 0
    assert sum(seen.weeks[0].counts.values()) == 5
    assert {c.name for c in seen.no_reps} == {"Turin", "Valencia"}
    assert {c.name for c in seen.no_goals} == {"Aarhus", "Turin", "Valencia"}
    assert {c.name for c in seen.no_introductions} == {"Lyon", "Aarhus", "Turin", "Valencia"}


def test_the_goal_filter_sorts_and_filters_in_the_database(services, clock):
    programme.build(services, clock)
    token = token_of(say(services, "olga", "/goal dashboard"))
    with unit_of_work(services.engine) as session:
        who = data.viewer(session, token, services.settings, clock.now())
        by_city = data.goals_page(session, who, clock.now(), {"sort": "city", "order": "desc"})
        overdue = data.goals_page(session, who, clock.now(), {"status": "overdue"})
        brno = data.goals_page(session, who, clock.now(), {"city": "brn", "due_to": "2026-11-30"})
        wrong = data.goals_page(session, who, clock.now(), {"status": "lost", "due_from": "soon", "cohort": "99"})
    assert [g.city for g in by_city.rows] == ["Tartu", "Porto", "Lyon", "Gdańsk", "Brno", "Brno"]
    assert sorted(g.goal_id for g in overdue.rows) == [1, 2]
    assert [g.goal_id for g in brno.rows] == [1, 2] and brno.rows[1].latest_note == "trainers hard to find"
    assert [h.status for h in brno.rows[1].history] == ["new", "at-risk"]
    assert wrong.total == 6 and len(wrong.errors) == 3  # what cannot be read is named and left out


def get(services, path: str, query: str = "") -> tuple[str, dict[str, str], bytes]:
    from bot.dashboard import dashboard_app

    answer: dict[str, object] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        answer["status"], answer["headers"] = status, dict(headers)

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query}
    body = b"".join(dashboard_app(services)(environ, start_response))
    return answer["status"], answer["headers"], body  # type: ignore[return-value]


def test_what_people_typed_is_shown_never_run(services):
    city = 'Évry "Sud" & Co'  # a city name holds no < or >; goals and notes may
    say(services, "ana", "/city tracks")
    say(services, "ana", f"/city register '{city}' country=FR")
    say(services, "ana", "/city role @eve expert")
    say(services, "bob", f"/city join '{city}'")
    say(services, "ana", f"/city approve @bob '{city}'")
    say(services, "bob", '/goal add Ship <img src=x onerror=alert(1)> "quoted" & more')
    say(services, "bob", '/goal update 1 at-risk <b onmouseover="alert(2)">late</b>')
    base = "/dashboard/" + token_of(say(services, "eve", "/goal dashboard"))
    for page, query in (("/", ""), ("/goals", "city=%C3%89vry"), ("/city/1", ""), ("/network", "")):
        status, headers, body = get(services, base + page, query)
        assert status == "200 OK", page
        text = body.decode()
        assert "<img" not in text and "<b " not in text and city not in text, page
        assert "Évry &#34;Sud&#34; &amp; Co" in text or "Évry &quot;Sud&quot; &amp; Co" in text, page
        if page in ("/goals", "/city/1"):
            assert "Ship &lt;img src=x onerror=alert(1)&gt;" in text and "&lt;b onmouseover=" in text, page
    status, headers, body = get(services, base + "/goals.csv")
    assert headers["Content-Type"].startswith("text/csv")
    assert '<img src=x onerror=alert(1)> ""quoted"" & more' in body.decode()  # a file: kept as typed


def test_the_route_and_the_links_agree_on_the_path():
    import bot.dashboard
    import handlers.dashboard

    assert bot.dashboard.PATH == handlers.dashboard.PATH == "/dashboard/"


def network_of(services, clock, token, **params):
    with unit_of_work(services.engine) as session:
        who = data.viewer(session, token, services.settings, clock.now())
        form = data.read_network_filter(session, who, clock.now(), {k: str(v) for k, v in params.items()})
        page = data.network(session, services.settings, form.wanted, who.zone)
    return form, page


def test_the_network_is_filtered_on_the_server(services, clock):
    programme.build(services, clock)
    say(services, "pia", "/match intro Lyon")  # Brno – Porto – Lyon: a chain, for one and two steps
    token = token_of(say(services, "eve", "/goal dashboard"))
    with unit_of_work(services.engine) as session:
        city_id = {name: i for i, name, _, _ in data.q.cities(session=session)}
        cohort_id = {name: i for i, name in data.q.cohorts(session=session)}

    def names(page) -> set[str]:
        return set(re.findall(r'aria-label="([^"(]+) \(', page.svg.decode()))

    form, everyone = network_of(services, clock, token)
    assert everyone.cities == len(programme.CITIES) and form.described == "every city" and not form.errors
    form, icc = network_of(services, clock, token, cohort=cohort_id["ICC"])
    assert names(icc) == {"Brno", "Porto", "Lyon", "Gdańsk"} and form.described == "cohort ICC"
    form, near = network_of(services, clock, token, city=city_id["Brno"])
    assert names(near) == {"Brno", "Porto"} and near.edges == 1
    form, farther = network_of(services, clock, token, city=city_id["Brno"], steps=2)
    assert names(farther) == {"Brno", "Porto", "Lyon"} and form.described == "Brno and the cities within two ties"
    form, outside = network_of(services, clock, token, cohort=cohort_id["ICC"], city=city_id["Tartu"])
    assert outside.cities == 0  # Tartu is not in ICC: nothing to draw, and the page says so
    form, new = network_of(services, clock, token, since=clock.now().date().isoformat())
    assert (new.new_edges, new.joined) == (1, ["Lyon"]) and new.cities == len(programme.CITIES)
    form, wrong = network_of(services, clock, token, cohort=99, city=12345, since="2999-01-01", track="moon")
    assert len(form.errors) == 4 and wrong.cities == len(programme.CITIES)  # named, left out, never an error page
