"""GET /calendar/<token>.ics: a person's private calendar feed, for calendar apps that subscribe and poll.

An unknown or revoked token gets the same 404 as any unknown path. The feed carries an ETag and Last-Modified;
a client that sends If-None-Match or If-Modified-Since gets 304 while nothing changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from bot.web import Route, StartResponse, WsgiApp
from handlers.event import FEED_PATH, FeedFile, feed_file
from handlers.types import Services
from storage.db import run_transaction

NOT_FOUND = b'{"ok": false, "error": "not_found"}'


def feed_route(services: Services) -> Route:
    """The route for every feed URL (a path prefix)."""
    return Route("GET", FEED_PATH, feed_app(services))


def feed_app(services: Services) -> WsgiApp:
    def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "")
        name = environ.get("PATH_INFO", "").removeprefix(FEED_PATH)
        found = None
        if method in ("GET", "HEAD") and name.endswith(".ics"):
            now = services.clock.now()
            found = run_transaction(
                services.engine, lambda session: feed_file(session, name[: -len(".ics")], now, services.settings)
            )
        if found is None:
            start_response(
                "404 Not Found", [("Content-Type", "application/json"), ("Content-Length", str(len(NOT_FOUND)))]
            )
            return [NOT_FOUND]
        headers = [
            ("ETag", found.etag),
            ("Last-Modified", format_datetime(found.modified, usegmt=True)),
            ("Cache-Control", "private, no-cache"),  # keep it, but ask each time: a 304 costs little
        ]
        if not_modified(environ, found):
            start_response("304 Not Modified", headers)
            return []
        headers += [
            ("Content-Type", "text/calendar; charset=utf-8"),
            ("Content-Disposition", 'inline; filename="citypeers.ics"'),
            ("Content-Length", str(len(found.body))),
        ]
        start_response("200 OK", headers)
        return [] if method == "HEAD" else [found.body]

    return application


def not_modified(environ: dict[str, Any], found: FeedFile) -> bool:
    """RFC 9110: If-None-Match decides when present (weak comparison); else If-Modified-Since."""
    tags = environ.get("HTTP_IF_NONE_MATCH")
    if tags is not None:
        wanted = {tag.strip().removeprefix("W/") for tag in tags.split(",")}
        return "*" in wanted or found.etag in wanted
    since = environ.get("HTTP_IF_MODIFIED_SINCE")
    if since is None:
        return False
    try:
        moment: datetime = parsedate_to_datetime(since)
    except (TypeError, ValueError, IndexError):
        return False
    if moment.tzinfo is None:
        return False
    return found.modified <= moment
