"""Slack on the one web app: bolt's route, and a server of Slack alone for tests (`citypeers run` builds its server
from every adapter: see bot/cli.py and bot/web.py)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress.server import BaseWSGIServer

from bot.calendar_feed import feed_route
from bot.slack.app import build_slack_app
from bot.slack.settings import SlackSettings
from bot.web import HealthCheck, Route, create_server, database_check, make_wsgi_app
from handlers.types import Services

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


def slack_routes(slack_app: App) -> list[Route]:
    """Slash commands, interactivity and events all arrive as POST /slack/events."""
    return [Route("POST", EVENTS_PATH, SlackRequestHandler(slack_app, path=EVENTS_PATH))]


def create_http_server(
    settings: SlackSettings,
    services: Services,
    host: str,
    port: int,
    *,
    slack_app: App | None = None,
    health_checks: Sequence[HealthCheck] = (),
) -> BaseWSGIServer:
    """A bound waitress server (port 0 picks a free one: see `.effective_port`); call `.run()` to serve.
    /healthz checks the database, then `health_checks` (the runtime's)."""
    slack_app = slack_app or build_slack_app(settings, services)
    checks = [database_check(services.engine), *health_checks]
    routes = [*slack_routes(slack_app), feed_route(services)]  # and each person's calendar feed
    return create_server(make_wsgi_app(routes, checks), host, port, threads=settings.web_threads)
