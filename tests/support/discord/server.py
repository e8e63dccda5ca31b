"""The HTTP side of the fake: a threaded server on 127.0.0.1 and the parsing of JSON and multipart bodies."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from tests.support.discord.routes import Upload

if TYPE_CHECKING:
    from tests.support.discord.fake import FakeDiscord


def parse_body(raw: bytes, content_type: str) -> tuple[Any, list[Upload], str]:
    """(JSON body, uploaded files, a problem) of a request."""
    if not raw:
        return None, [], ""
    kind = content_type.split(";")[0].strip().lower()
    if kind == "application/json":
        try:
            return json.loads(raw), [], ""
        except ValueError:
            return None, [], "a body that is not valid JSON"
    if kind == "multipart/form-data":
        boundary = re.search(r'boundary="?([^";]+)"?', content_type)
        if not boundary:
            return None, [], "multipart/form-data without a boundary"
        body: Any = None
        files: list[Upload] = []
        for name, filename, part_type, data in _multipart(raw, boundary.group(1).encode()):
            if name == "payload_json":
                try:
                    body = json.loads(data)
                except ValueError:
                    return None, [], "payload_json is not valid JSON"
            elif filename is not None or name.startswith("files["):
                files.append(Upload(name, filename or "", part_type, data))
            else:
                body = body if isinstance(body, dict) else {}
                body[name] = data.decode("utf-8", "replace")
        return body, files, ""
    return None, [], f"Content-Type {content_type!r}: Discord takes application/json or multipart/form-data"


def _multipart(raw: bytes, boundary: bytes) -> Iterator[tuple[str, str | None, str, bytes]]:
    """(name, filename, content type, data) of each part."""
    for chunk in raw.split(b"--" + boundary)[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, data = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        data = data.removesuffix(b"\r\n")
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        disposition = headers.get("content-disposition", "")
        name = re.search(r'\bname="([^"]*)"', disposition)
        filename = re.search(r'\bfilename="([^"]*)"', disposition)
        yield (
            name.group(1) if name else "",
            filename.group(1) if filename else None,
            headers.get("content-type", "application/octet-stream"),
            data,
        )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default backlog of 5 drops bursts; a dropped SYN costs a 1 s retransmit


def make_server(owner: FakeDiscord) -> ThreadingHTTPServer:
    """A server on a free port of 127.0.0.1 whose every request `owner.serve` answers."""

    class Handler(_Handler):
        fake = owner

    return _Server(("127.0.0.1", 0), Handler)


class _Handler(BaseHTTPRequestHandler):
    fake: FakeDiscord
    protocol_version = "HTTP/1.1"  # keep-alive, as Discord; every answer carries Content-Length

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._serve()

    def do_POST(self) -> None:  # noqa: N802
        self._serve()

    def do_PUT(self) -> None:  # noqa: N802
        self._serve()

    def do_PATCH(self) -> None:  # noqa: N802
        self._serve()

    def do_DELETE(self) -> None:  # noqa: N802
        self._serve()

    def _serve(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, extra, answer = self.fake.serve(self.command, self.path, headers, raw)
        body = b"" if answer is None or status == 204 else json.dumps(answer).encode()
        self.send_response(status)
        if body:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep test output quiet
        pass
