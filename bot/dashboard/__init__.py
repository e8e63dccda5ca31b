"""The experts' and organisers' web dashboard, mounted at /dashboard/ on the one web app (see bot.dashboard.app).

Its pages, templates and their imports (Jinja2, the page data) load with the first request, not when
`citypeers run` starts.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.web import Route, StartResponse, WsgiApp
from handlers.types import Services

PATH = "/dashboard/"  # handlers.dashboard.PATH, which the links /goal dashboard gives point at


def dashboard_route(services: Services) -> Route:
    return Route("GET", PATH, dashboard_app(services))


def dashboard_app(services: Services) -> WsgiApp:
    built: list[WsgiApp] = []

    def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if not built:
            from bot.dashboard.app import dashboard_app as build

            built.append(build(services))
        return built[0](environ, start_response)

    return application
