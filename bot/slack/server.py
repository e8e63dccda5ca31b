"""`citypeers run`: Socket Mode with an app token, else bolt over HTTP on waitress (see `bot.web`)."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Sequence
from types import FrameType

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress.server import BaseWSGIServer

from bot.calendar_feed import feed_route
from bot.config import Settings
from bot.slack.app import build_slack_app
from bot.web import HEALTH_PATH, HealthCheck, Route, create_server, database_check, make_wsgi_app
from handlers.types import Services

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


def slack_routes(slack_app: App) -> list[Route]:
    """Slash commands, interactivity and events all arrive as POST /slack/events."""
    return [Route("POST", EVENTS_PATH, SlackRequestHandler(slack_app, path=EVENTS_PATH))]


def create_http_server(
    settings: Settings,
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


def serve(settings: Settings, services: Services, *, health_checks: Sequence[HealthCheck] = ()) -> None:
    """Serve until SIGTERM or SIGINT, then finish the requests and listeners under way."""
    slack_app = build_slack_app(settings, services)
    try:
        if settings.slack_app_token:
            _serve_socket_mode(settings, slack_app)
        else:
            _serve_http(settings, services, slack_app, health_checks)
    finally:
        # Commands already acknowledged still get their reply and notices before we exit.
        slack_app.listener_runner.listener_executor.shutdown(wait=True)  # type: ignore[attr-defined]
        services.engine.dispose()
        log.info("stopped")


def _serve_http(settings: Settings, services: Services, slack_app: App, health_checks: Sequence[HealthCheck]) -> None:
    server = create_http_server(
        settings, services, settings.host, settings.port, slack_app=slack_app, health_checks=health_checks
    )

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("%s received; finishing requests under way", signal.Signals(signum).name)
        raise SystemExit(0)  # waitress's loop catches it and drains its worker threads

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("listening on http://%s:%s%s (health: %s)", settings.host, server.effective_port, EVENTS_PATH, HEALTH_PATH)
    try:
        server.run()
    finally:
        server.close()


def _serve_socket_mode(settings: Settings, slack_app: App) -> None:
    handler = SocketModeHandler(slack_app, settings.slack_app_token)
    stopped = threading.Event()

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("%s received; closing the Socket Mode connection", signal.Signals(signum).name)
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    handler.connect()
    log.info("connected to Slack in Socket Mode (no public URL needed)")
    stopped.wait()
    handler.close()
