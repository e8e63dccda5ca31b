"""`citypeers run`: Socket Mode with an app token, else bolt over HTTP on waitress with a health check."""

from __future__ import annotations

import json
import logging
import signal
import threading
from collections.abc import Callable, Iterable
from types import FrameType
from typing import Any

import waitress
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import text
from waitress.server import BaseWSGIServer

from bot.config import Settings
from bot.slack.app import build_slack_app
from handlers.types import Services

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def make_wsgi_app(slack_app: App, services: Services) -> WsgiApp:
    """POST /slack/events goes to bolt, GET /healthz checks the database, anything else is 404."""
    bolt = SlackRequestHandler(slack_app, path=EVENTS_PATH)

    def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method, path = environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", "")
        if path == EVENTS_PATH and method == "POST":
            return bolt(environ, start_response)
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            status, body = health(services)
            return _json(start_response, status, body)
        return _json(start_response, "404 Not Found", {"ok": False, "error": "not_found"})

    return application


def health(services: Services) -> tuple[str, dict[str, object]]:
    """200 when the database answers `SELECT 1`, 503 with the reason otherwise."""
    try:
        with services.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001 - any failure means "not ready", and we say which
        log.warning("health check: database unavailable (%s)", type(error).__name__)
        return "503 Service Unavailable", {"ok": False, "reason": f"database unavailable ({type(error).__name__})"}
    return "200 OK", {"ok": True}


def create_http_server(
    settings: Settings, services: Services, host: str, port: int, *, slack_app: App | None = None
) -> BaseWSGIServer:
    """A bound waitress server (port 0 picks a free one: see `.effective_port`); call `.run()` to serve."""
    slack_app = slack_app or build_slack_app(settings, services)
    return waitress.create_server(
        make_wsgi_app(slack_app, services), host=host, port=port, threads=settings.web_threads, ident="citypeers"
    )


def stop_http_server(server: BaseWSGIServer) -> None:
    """Stop a server whose run() loop is in another thread: the loop closes its own sockets, then ends."""
    server.trigger.pull_trigger(lambda: server.asyncore.close_all(server._map))  # type: ignore[attr-defined]
    server.task_dispatcher.shutdown()


def serve(settings: Settings, services: Services) -> None:
    """Serve until SIGTERM or SIGINT, then finish the requests and listeners under way."""
    slack_app = build_slack_app(settings, services)
    try:
        if settings.slack_app_token:
            _serve_socket_mode(settings, slack_app)
        else:
            _serve_http(settings, services, slack_app)
    finally:
        # Commands already acknowledged still get their reply and notices before we exit.
        slack_app.listener_runner.listener_executor.shutdown(wait=True)  # type: ignore[attr-defined]
        services.engine.dispose()
        log.info("stopped")


def _serve_http(settings: Settings, services: Services, slack_app: App) -> None:
    server = create_http_server(settings, services, settings.host, settings.port, slack_app=slack_app)

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


def _json(start_response: StartResponse, status: str, body: dict[str, object]) -> list[bytes]:
    payload = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
    return [payload]
