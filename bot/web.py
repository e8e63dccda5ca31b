"""The one WSGI app: each adapter's routes and GET /healthz, served by waitress.

/healthz answers 200 `{"ok": true}` when every health check passes, else 503 `{"ok": false, "reason": …}` with
the first failing check's reason, so a load balancer or supervisor takes the process out or restarts it. The
checks are the database (`SELECT 1`) and the runtime (scheduler and delivery alive, see `bot.scheduler`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import waitress
from sqlalchemy import Engine, text
from waitress.server import BaseWSGIServer

log = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
# None when all is well, else the reason: what is wrong, then after a colon any details that change from probe to probe.
HealthCheck = Callable[[], str | None]


@dataclass(frozen=True)
class Route:
    """One adapter's endpoint: `method path` goes to `app` (e.g. Slack's POST /slack/events to bolt)."""

    method: str
    path: str
    app: WsgiApp


def database_check(engine: Engine) -> HealthCheck:
    def check() -> str | None:
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as error:  # noqa: BLE001 - any failure means "not ready", and we say which
            return f"database unavailable: {type(error).__name__}"
        return None

    return check


class Health:
    """Runs the checks for each probe; a new kind of trouble is logged once as an error, not at every probe."""

    def __init__(self, checks: Sequence[HealthCheck]) -> None:
        self.checks = list(checks)
        self._reported: str | None = None  # the kind of trouble last logged (the reason up to its colon)
        self._lock = threading.Lock()

    def reason(self) -> str | None:
        reason = next((found for found in (check() for check in self.checks) if found), None)
        kind = None if reason is None else reason.split(":", 1)[0]
        with self._lock:
            if kind != self._reported:
                if reason is not None:
                    log.error("unhealthy: %s", reason)
                else:
                    log.info("healthy again after: %s", self._reported)
                self._reported = kind
        return reason

    def status(self) -> tuple[str, dict[str, object]]:
        reason = self.reason()
        if reason is None:
            return "200 OK", {"ok": True}
        return "503 Service Unavailable", {"ok": False, "reason": reason}


def make_wsgi_app(routes: Iterable[Route], checks: Sequence[HealthCheck]) -> WsgiApp:
    """Each route to its adapter, GET /healthz to the checks, anything else 404. A route whose path ends with
    `/` takes every path under it (a GET one HEAD too), e.g. /calendar/<token>.ics."""
    routes = list(routes)
    table = {(route.method, route.path): route.app for route in routes}
    prefixes = [route for route in routes if route.path.endswith("/")]
    health = Health(checks)

    def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method, path = environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", "")
        target = table.get((method, path))
        for route in prefixes if target is None else ():
            if path.startswith(route.path) and method in (route.method, "HEAD" if route.method == "GET" else None):
                target = route.app
                break
        if target is not None:
            return target(environ, start_response)
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            status, body = health.status()
            return _json(start_response, status, body)
        return not_found(start_response)

    return application


def not_found(start_response: StartResponse) -> list[bytes]:
    """What any unknown path is told; a route that is off (GET /metrics without its token) says the same."""
    return _json(start_response, "404 Not Found", {"ok": False, "error": "not_found"})


def create_server(app: WsgiApp, host: str, port: int, *, threads: int) -> BaseWSGIServer:
    """A bound waitress server (port 0 picks a free one: see `.effective_port`); call `.run()` to serve."""
    return waitress.create_server(app, host=host, port=port, threads=threads, ident="citypeers")


def stop_http_server(server: BaseWSGIServer) -> None:
    """Stop a server whose run() loop is in another thread: the loop closes its own sockets, then ends."""
    with contextlib.suppress(OSError):  # a closed trigger: the loop has already ended and closed its sockets
        server.trigger.pull_trigger(lambda: server.asyncore.close_all(server._map))
    server.task_dispatcher.shutdown()


def _json(start_response: StartResponse, status: str, body: dict[str, object]) -> list[bytes]:
    payload = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
    return [payload]


def serve(host: str, port: int, *, threads: int, routes: Iterable[Route], checks: Sequence[HealthCheck]) -> None:
    """Serve the one app until SIGTERM or SIGINT, then finish the requests under way."""
    server = create_server(make_wsgi_app(routes, checks), host, port, threads=threads)

    def stop(signum: int, _frame: object) -> None:
        log.info("%s received; finishing requests under way", signal.Signals(signum).name)
        raise SystemExit(0)  # waitress's loop catches it and drains its worker threads

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("listening on http://%s:%s (health: %s)", host, server.effective_port, HEALTH_PATH)
    try:
        server.run()
    finally:
        server.close()
