"""The only code of ours that calls Discord's REST API: a small synchronous client that keeps Discord's limits.

Discord limits per route ("buckets", told in the `X-RateLimit-*` headers of every answer) and globally (50 requests
a second per bot). A bucket is counted apart for each major parameter (channel, guild, webhook and its token): one
channel's spent bucket holds back no other channel. The client waits before a request whose bucket is spent (holding
no global slot while it waits), paces itself under the global limit, and after a 429 waits `retry_after` (a float,
in seconds) for that bucket, or for everything when the answer says `global`. It never retries a refused request on
its own except after a 429 or a 5xx where the caller asks it to (`retries`), so invalid requests never pile up
(Discord bans an IP after 10,000 401/403/429 answers in 10 minutes).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

USER_AGENT = "DiscordBot (https://github.com/citypeers/citypeers, 0.1)"
GLOBAL_PER_SECOND = 50.0
TIMEOUT = 15.0
# Ids that are part of a route's bucket; any other id in a path is not (a message id, a user id).
_MAJOR = re.compile(r"^/(channels|guilds|webhooks)/(\d+)")
_SNOWFLAKE = re.compile(r"/\d{5,}")
_WEBHOOK = re.compile(r"^/webhooks/\d+/[^/]+")


class DiscordError(Exception):
    """Discord refused a request (or could not be reached: status 0). `code` is Discord's JSON error code."""

    def __init__(self, status: int, code: int | None, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after


@dataclass(frozen=True)
class File:
    """An attachment sent with a message (multipart `files[n]`)."""

    filename: str
    content: bytes
    content_type: str = "application/octet-stream"


@dataclass
class _Bucket:
    remaining: int = 1
    reset_at: float = 0.0  # monotonic time when `remaining` refills


def route_key(method: str, path: str) -> str:
    """The bucket a request counts against: its method and path with ids other than the major one dropped."""
    major = _MAJOR.match(path)
    head = major.group(0) if major else ""
    rest = path[len(head) :]
    return f"{method} {head}{_SNOWFLAKE.sub('/{id}', rest)}"


def major_of(key: str) -> str:
    """The major parameter of a route key (`POST /channels/123/messages` -> `channels/123`; a webhook's id and
    token), which splits a bucket: Discord counts each channel, guild and webhook apart."""
    path = key.partition(" ")[2]
    webhook = _WEBHOOK.match(path)
    if webhook:
        return webhook.group(0).lstrip("/")
    major = _MAJOR.match(path)
    return major.group(0).lstrip("/") if major else ""


class DiscordClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        per_second: float = GLOBAL_PER_SECOND,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        timeout: float = TIMEOUT,
        on_rate_limited: Callable[[], None] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.on_rate_limited = on_rate_limited  # told of every 429 (for GET /metrics)
        self.token = token
        self.sleep = sleep
        self.clock = clock
        self.timeout = timeout
        self._interval = 1.0 / per_second
        self._lock = threading.Lock()
        self._next_slot = 0.0  # the global pacer: the earliest moment the next request may go
        self._global_until = 0.0  # after a global 429
        self._buckets: dict[str, _Bucket] = {}  # "bucket-hash major" (or a route key, before its hash is known)
        self._route_bucket: dict[str, str] = {}  # route key -> "bucket-hash major", learnt from the headers

    # --- requests ----------------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | list[Any] | None = None,
        files: Sequence[File] = (),
        auth: bool = True,
        retries: int = 0,
    ) -> Any:
        """Send one request, keeping the limits; the decoded JSON answer (None for 204). Raises DiscordError.

        `retries` > 0 waits out that many 429s or 5xx answers before giving up (for interaction replies, which
        must arrive; the delivery engine retries through its ledger instead). Webhook routes (`auth=False`)
        carry their token in the path and do not count against the global limit.
        """
        key = route_key(method, path)
        for attempt in range(retries + 1):
            self._wait_for(key, global_limit=auth)
            try:
                return self._send(method, path, key, body, files, auth)
            except DiscordError as error:
                transient = error.status == 429 or error.status >= 500 or error.status == 0
                if attempt >= retries or not transient:
                    raise
                self.sleep(error.retry_after if error.retry_after is not None else min(2.0**attempt, 10.0))
        raise AssertionError("unreachable")

    def _wait_for(self, key: str, *, global_limit: bool) -> None:
        """Wait until the request's own bucket has room, then for its slot under the global limit. A request
        waiting on its bucket holds no global slot meanwhile, so it keeps back no other channel's requests."""
        while True:
            with self._lock:
                now = self.clock()
                bucket = self._buckets.get(self._route_bucket.get(key, key))
                if bucket is None or bucket.remaining > 0 or bucket.reset_at <= now:
                    if bucket is not None and bucket.remaining > 0:
                        bucket.remaining -= 1  # counted now, so threads sharing the client do not overrun it
                    break
                wait = bucket.reset_at - now
            self.sleep(wait)
        if not global_limit:
            return
        with self._lock:
            now = self.clock()
            ready = max(now, self._global_until, self._next_slot)
            self._next_slot = ready + self._interval
        if ready > now:
            self.sleep(ready - now)

    def _send(self, method: str, path: str, key: str, body: Any, files: Sequence[File], auth: bool) -> Any:
        headers = {"User-Agent": USER_AGENT}
        if auth:
            headers["Authorization"] = f"Bot {self.token}"
        if files:
            data, content_type = _multipart(body, files)
        elif body is not None:
            data, content_type = json.dumps(body).encode(), "application/json"
        else:
            data, content_type = None, None
        if content_type:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                self._learn(key, response.headers)
                raw = response.read()
                return json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            self._learn(key, error.headers)
            raw = error.read()
            answer = _json_or_empty(raw)
            retry_after = None
            if error.code == 429:
                if self.on_rate_limited is not None:
                    self.on_rate_limited()
                retry_after = float(answer.get("retry_after") or error.headers.get("Retry-After") or 1.0)
                self._limited(key, retry_after, bool(answer.get("global")))
            raise DiscordError(
                error.code, answer.get("code"), str(answer.get("message") or error.reason), retry_after=retry_after
            ) from None
        except (urllib.error.URLError, OSError) as error:
            raise DiscordError(0, None, f"unreachable: {type(error).__name__}") from None

    # --- what the answers teach ----------------------------------------------------------------------------

    def _learn(self, key: str, headers: Any) -> None:
        bucket_id = headers.get("X-RateLimit-Bucket") if headers else None
        if not bucket_id:
            return
        try:
            remaining = int(headers.get("X-RateLimit-Remaining", "1"))
            reset_after = float(headers.get("X-RateLimit-Reset-After", "0"))
        except ValueError:
            return
        with self._lock:
            # A bucket hash names a limit shared by routes; each channel, guild or webhook has its own count of it.
            state = self._route_bucket[key] = f"{bucket_id} {major_of(key)}"
            bucket = self._buckets.setdefault(state, _Bucket())
            bucket.remaining = remaining
            bucket.reset_at = self.clock() + reset_after

    def _limited(self, key: str, retry_after: float, is_global: bool) -> None:
        with self._lock:
            until = self.clock() + retry_after
            if is_global:
                self._global_until = max(self._global_until, until)
                log.warning("Discord's global rate limit: waiting %.2f s", retry_after)
                return
            bucket = self._buckets.setdefault(self._route_bucket.get(key, key), _Bucket())
            bucket.remaining = 0
            bucket.reset_at = max(bucket.reset_at, until)


def _json_or_empty(raw: bytes) -> dict[str, Any]:
    try:
        answer = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _multipart(body: Any, files: Sequence[File]) -> tuple[bytes, str]:
    """`payload_json` plus `files[n]` parts, as Discord takes messages with attachments."""
    boundary = uuid.uuid4().hex
    parts: list[bytes] = []

    def part(headers: str, content: bytes) -> None:
        parts.append(f"--{boundary}\r\n{headers}\r\n\r\n".encode() + content + b"\r\n")

    part(
        'Content-Disposition: form-data; name="payload_json"\r\nContent-Type: application/json',
        json.dumps(body or {}).encode(),
    )
    for index, file in enumerate(files):
        name = file.filename.replace('"', "'")
        disposition = f'Content-Disposition: form-data; name="files[{index}]"; filename="{name}"'
        part(f"{disposition}\r\nContent-Type: {file.content_type}", file.content)
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
