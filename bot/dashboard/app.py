"""GET /dashboard/<token>/…: the experts' and organisers' read-only web dashboard (see handlers.dashboard).

Pages: `/` overview, `/goals` (and `/goals.csv`, the same filter), `/city/<id>`, `/network`, `/events`; the
stylesheet is `/dashboard/static/dashboard.css`. An unknown or revoked token, an owner who lost the role, or an
unknown page gets the same 404 as any unknown path of the web app. Every page forbids inline scripts and styles
and anything from another origin (Content-Security-Policy), sends no Referer (the token is in the URL), cannot be
framed and is not stored by caches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from importlib.resources import files
from typing import Any
from urllib.parse import parse_qsl

from bot.dashboard import pages
from bot.dashboard.network import MapCache, for_reader
from bot.web import StartResponse, WsgiApp
from core import i18n
from core.i18n import N_
from handlers import dashboard as data
from handlers import languages
from handlers.types import Services
from storage.db import run_transaction

NOT_FOUND = b'{"ok": false, "error": "not_found"}'
STATIC = "static/"
SECURITY_HEADERS = [
    (
        "Content-Security-Policy",
        "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'self'",
    ),
    ("Referrer-Policy", "no-referrer"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
]
MAX_QUERY = 2000
MAP_TITLE = N_("The collaboration network: cities and their ties: {shown}")
Page = tuple[str, bytes]  # content type, body


def _not_found(start_response: StartResponse) -> list[bytes]:
    start_response("404 Not Found", [("Content-Type", "application/json"), ("Content-Length", str(len(NOT_FOUND)))])
    return [NOT_FOUND]


def stylesheet() -> bytes:
    return files("bot.dashboard").joinpath("static/dashboard.css").read_bytes()


def dashboard_app(services: Services) -> WsgiApp:
    css = stylesheet()
    maps = MapCache()

    def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "")
        rest = environ.get("PATH_INFO", "").removeprefix(data.PATH)
        if method not in ("GET", "HEAD"):
            return _not_found(start_response)
        if rest == STATIC + "dashboard.css":
            return _send(start_response, method, ("text/css; charset=utf-8", css), "public, max-age=3600")
        token, _, page = rest.partition("/")
        query = environ.get("QUERY_STRING", "")[:MAX_QUERY]
        params = dict(parse_qsl(query, keep_blank_values=False))
        found = run_transaction(services.engine, lambda session: _page(session, services, maps, token, page, params))
        if found is None:
            return _not_found(start_response)
        return _send(start_response, method, found, "no-store")

    return application


def _send(start_response: StartResponse, method: str, page: Page, cache: str) -> list[bytes]:
    content_type, body = page
    headers = [("Content-Type", content_type), ("Content-Length", str(len(body))), ("Cache-Control", cache)]
    if content_type.startswith("text/csv"):
        headers.append(("Content-Disposition", 'attachment; filename="goals.csv"'))
    start_response("200 OK", headers + SECURITY_HEADERS)
    return [] if method == "HEAD" else [body]


HTML = "text/html; charset=utf-8"


def network_page(
    session: Any, services: Services, maps: MapCache, base: str, who: data.Viewer, params: dict[str, str]
) -> bytes:
    signature = data.network_signature(session)
    form = data.read_network_filter(session, who, services.clock.now(), params, cities=signature[0])
    # a map is kept per state of the network and filter (and zone, which sets the day since= begins), and per
    # language, which its title is written in
    key = (signature, form.wanted, str(who.zone) if form.wanted.since else "", i18n.current().code)
    drawn, svg = maps.get(
        key,
        lambda: data.network(session, services.settings, form.wanted, who.zone),
        title=MAP_TITLE.format(shown=form.described),
    )
    return pages.network_html(base, who, drawn, for_reader(svg, base), form)


def _page(
    session: Any, services: Services, maps: MapCache, token: str, page: str, params: dict[str, str]
) -> Page | None:
    now = services.clock.now()
    who = data.viewer(session, token, services.settings, now)
    if who is None:
        return None
    base = f"{data.PATH}{token}"
    # The page is in its owner's language: the one they chose, else the one their platform last reported.
    with i18n.reading(languages.for_member(who.member, None, services.settings)):
        return _view(session, services, maps, who, base, page, params)


def _view(
    session: Any,
    services: Services,
    maps: MapCache,
    who: data.Viewer,
    base: str,
    page: str,
    params: dict[str, str],
) -> Page | None:
    now = services.clock.now()
    views: dict[str, Callable[[], Page]] = {
        "": lambda: (HTML, pages.overview_html(base, who, data.overview(session, who, now))),
        "goals": lambda: (HTML, pages.goals_html(base, who, data.goals_page(session, who, now, params))),
        "goals.csv": lambda: (
            "text/csv; charset=utf-8",
            pages.goals_csv(data.goals_page(session, who, now, params, every=True)),
        ),
        "network": lambda: (HTML, network_page(session, services, maps, base, who, params)),
        "events": lambda: (HTML, pages.events_html(base, who, data.events_page(session, who, now))),
    }
    if page in views:
        return views[page]()
    city_id = page.removeprefix("city/")
    if page.startswith("city/") and city_id.isdecimal() and len(city_id) < 10:
        city = data.city_page(session, who, now, int(city_id))
        return None if city is None else (HTML, pages.city_html(base, who, city))
    return None
