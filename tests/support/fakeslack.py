"""A fake Slack over real HTTP: the Web API methods CityPeers calls, response URLs, and signed requests to the bot.

`FakeSlack` listens on 127.0.0.1 at a free port; point `WebClient(base_url=fake.api_url)` (our setting
SLACK_API_URL) at it. It records every call, checks every blocks payload with slack_sdk's models (see
`problems`), and misbehaves on demand (`fail_next`). `FakeSlack(rate_limits=RateLimits())` also enforces
Slack's published chat.postMessage limits, answering 429 with Retry-After (counted in `rate_limited`).
`SlackSender` posts commands, button clicks and events to the bot signed as Slack signs them. Tests and
bench scripts both use it; it imports nothing of the bot.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import math
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.support.blockkit import MESSAGE_BLOCKS, VIEW_BLOCKS, block_problems

TEAM_ID = "T0CITYPEERS"
BOT_USER_ID = "U0BOT"
DEFAULT_TZ = "Europe/Brussels"
JSON_FIELDS = ("blocks", "view", "attachments", "metadata")


@dataclass(frozen=True)
class Call:
    """One request the fake received: `method` is a Web API method, or `response` for a response_url."""

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    at: float
    status: int = 200
    ok: bool = True
    token: str = ""  # the response_url token, for method == "response"
    wall: float = field(default_factory=time.time)  # `at` is monotonic; this compares with stored instants


@dataclass(frozen=True)
class RateLimits:
    """Slack's published limits for posting messages, for `FakeSlack(rate_limits=RateLimits())`.

    Slack allows chat.postMessage "1 message per second" per channel with short bursts tolerated, and a
    workspace-wide limit of "several hundred messages per minute"; we take 300 a minute (5 a second). Both are
    token buckets: `*_burst` messages may go at once, then they refill at the rate. A call over either limit is
    answered 429 with Retry-After (whole seconds, at least 1, as Slack sends) and does not count against them.
    """

    per_channel_per_second: float = 1.0
    channel_burst: int = 3
    workspace_per_minute: float = 300.0
    workspace_burst: int = 10
    methods: tuple[str, ...] = ("chat.postMessage",)


@dataclass
class _Bucket:
    rate: float  # tokens per second
    capacity: float
    tokens: float
    stamp: float

    def wait(self, now: float) -> float:
        """Seconds until a token is available (0 if one is), after refilling up to `now`."""
        now = max(now, self.stamp)  # requests on other threads may have read the clock a moment earlier
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        missing = 1.0 - self.tokens
        return 0.0 if missing <= 1e-9 else missing / self.rate  # a tolerance: refills are sums of floats


class _Limiter:
    """Per-channel and workspace token buckets; a message takes one token from each or is refused."""

    def __init__(self, limits: RateLimits, now: float) -> None:
        self.limits = limits
        burst = limits.workspace_burst
        self._workspace = _Bucket(limits.workspace_per_minute / 60.0, burst, burst, now)
        self._channels: dict[str, _Bucket] = {}

    def take(self, channel: str, now: float) -> float:
        """0 if the message may go (tokens taken), else the seconds to wait before trying again."""
        bucket = self._channels.get(channel)
        if bucket is None:
            burst = self.limits.channel_burst
            bucket = self._channels[channel] = _Bucket(self.limits.per_channel_per_second, burst, burst, now)
        wait = max(bucket.wait(now), self._workspace.wait(now))
        if wait > 0:
            return wait
        bucket.tokens -= 1.0
        self._workspace.tokens -= 1.0
        return 0.0


@dataclass
class _Failure:
    status: int
    retry_after: int | None
    error: str | None
    times: int


class _Hold:
    """A call kept waiting for its answer (see FakeSlack.hold_next)."""

    def __init__(self, accept: bool) -> None:
        self.accept = accept
        self.reached = threading.Event()  # the call arrived and is being held
        self._released = threading.Event()

    def wait(self) -> None:
        self.reached.set()
        self._released.wait(timeout=300)

    def release(self) -> None:
        self._released.set()


@dataclass
class _User:
    name: str
    tz: str = DEFAULT_TZ
    locale: str = "en-US"  # given only to a users.info call with include_locale, as Slack does


class FakeSlack:
    """`with FakeSlack() as slack:` … `slack.wait_for_calls("chat.postMessage")`."""

    def __init__(
        self, *, rate_limits: RateLimits | None = None, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._calls: list[Call] = []
        self.rate_limits = rate_limits
        self.monotonic = monotonic  # the clock the limits and the calls' `at` are kept on (a bench's may be fake)
        self._limiter = _Limiter(rate_limits, monotonic()) if rate_limits is not None else None
        self.rate_limited = 0  # 429s answered because a call went over `rate_limits` (not fail_next's)
        self._changed = threading.Condition()
        self._failures: dict[str, deque[_Failure]] = defaultdict(deque)
        self._users: dict[str, _User] = {}
        self._channels: dict[tuple[str, ...], str] = {}
        self._ts = itertools.count(1)
        self.problems: list[str] = []
        self.uploads: dict[str, bytes] = {}
        self._messages: list[dict[str, Any]] = []  # accepted chat.postMessage: channel as given, ts, text, metadata
        self._holds: dict[str, _Hold] = {}
        self._clicked: dict[str, Call] = {}  # response_url token -> the posted message whose button gave it
        self._replaced: dict[int, dict[str, Any]] = {}  # id() of a chat.postMessage call -> text and blocks now
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- life cycle ---------------------------------------------------------------------------------

    def start(self) -> FakeSlack:
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-slack", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def url_for_response(self, token: object) -> str:
        return f"{self.url}/response/{token}"

    # --- set-up -------------------------------------------------------------------------------------

    def set_user(self, user_id: str, name: str | None = None, tz: str = DEFAULT_TZ, locale: str = "en-US") -> None:
        with self._changed:
            self._users[user_id] = _User(name or user_id.lower(), tz, locale)

    def fail_next(
        self, method: str, status: int = 429, retry_after: int | None = 2, times: int = 1, error: str | None = None
    ) -> None:
        """The next `times` calls of `method` answer `status` (429 with Retry-After), or 200 ok:false `error`."""
        with self._changed:
            self._failures[method].append(_Failure(200 if error else status, retry_after, error, times))

    def hold_next(self, method: str, *, accept: bool = True) -> _Hold:
        """Hold the next call of `method` without answering until `release()` (or the caller dies): with `accept`
        Slack has already acted on it (a message is posted) when the hold begins, as when an answer is lost;
        without, it never gets through (answered 503 on release, nothing posted)."""
        hold = _Hold(accept)
        with self._changed:
            self._holds[method] = hold
        return hold

    # --- what happened ------------------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        with self._changed:
            return [c for c in self._calls if method is None or c.method == method]

    def responses(self, token: object) -> list[dict[str, Any]]:
        """The bodies respond() posted to `url_for_response(token)`."""
        return [c.params for c in self.calls("response") if c.token == str(token)]

    def channel_of(self, *user_ids: str) -> str | None:
        """The conversation conversations.open gave for these users, if it was opened."""
        with self._changed:
            return self._channels.get(tuple(sorted(user_ids)))

    def messages_in(self, channel: str | None) -> list[dict[str, Any]]:
        """Messages Slack accepted (ok) in `channel`, as they stand: one a button's response_url replaced (with
        replace_original) has that response's text and blocks."""
        return self._posted({channel})

    def _posted(self, channels: set[str | None]) -> list[dict[str, Any]]:
        with self._changed:
            posted = [c for c in self._calls if c.method == "chat.postMessage"]
            replaced = dict(self._replaced)
        return [
            {**c.params, **replaced[id(c)]} if id(c) in replaced else c.params
            for c in posted
            if c.ok and c.params.get("channel") in channels
        ]

    def clicked(self, token: str, message: dict[str, Any]) -> None:
        """A button in `message` was pressed with response_url `token` (SlackSender.click calls this): a response
        with replace_original replaces that message where it was posted."""
        with self._changed:
            posted = next(
                (c for c in self._calls if c.method == "chat.postMessage" and c.ok and c.params == message), None
            )
            if posted is not None:
                self._clicked[token] = posted

    def dms_to(self, user_id: str) -> list[dict[str, Any]]:
        """Messages in the person's DM with the app: posted to the opened DM, or with their user id as channel
        (which Slack delivers to the same conversation)."""
        return self._posted({user_id, self.channel_of(user_id)})

    def wait_for(self, predicate: Callable[[], Any], *, timeout: float = 5.0, what: str = "a condition") -> Any:
        """Wait until `predicate()` is truthy (re-checked on every request received); returns its value."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                value = predicate()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    methods = [c.method for c in self._calls]
                    raise AssertionError(f"timed out after {timeout}s waiting for {what}; calls so far: {methods}")
                self._changed.wait(left)

    def wait_for_calls(
        self,
        method: str,
        count: int = 1,
        *,
        where: Callable[[Call], bool] = lambda _c: True,
        timeout: float = 5.0,
    ) -> list[Call]:
        def found() -> list[Call]:
            matching = [c for c in self._calls if c.method == method and where(c)]
            return matching if len(matching) >= count else []

        return self.wait_for(found, timeout=timeout, what=f"{count} x {method}")

    def wait_for_response(self, token: object, count: int = 1, *, timeout: float = 5.0) -> list[dict[str, Any]]:
        calls = self.wait_for_calls("response", count, where=lambda c: c.token == str(token), timeout=timeout)
        return [c.params for c in calls]

    def wait_for_dm(self, user_id: str, count: int = 1, *, timeout: float = 5.0) -> list[dict[str, Any]]:
        def found() -> list[dict[str, Any]]:
            channels = {user_id, self._channels.get((user_id,))}
            messages = [
                c.params
                for c in self._calls
                if c.method == "chat.postMessage" and c.ok and c.params.get("channel") in channels
            ]
            return messages if len(messages) >= count else []

        return self.wait_for(found, timeout=timeout, what=f"{count} DM(s) to {user_id}")

    # --- serving ------------------------------------------------------------------------------------

    def _record_upload(self, file_id: str, content: bytes) -> bytes:
        with self._changed:
            self.uploads[file_id] = content
            self._changed.notify_all()
        return f"OK - {len(content)}".encode()

    def files_in(self, channel: str | None) -> list[tuple[str, bytes]]:
        """(title, bytes) of every file shared into `channel` with files.completeUploadExternal."""
        found = []
        for call in self.calls("files.completeUploadExternal"):
            if call.ok and call.params.get("channel_id") == channel:
                files = call.params.get("files")
                files = json.loads(files) if isinstance(files, str) else files
                found.extend((f.get("title", ""), self.uploads.get(f["id"], b"")) for f in files)
        return found

    def _answer(self, path: str, headers: dict[str, str], params: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        parts = path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "response":
            return self._record_response(parts[1], headers, params)
        if len(parts) == 2 and parts[0] == "api":
            return self._record_api(parts[1], headers, params)
        return 404, {}, b"not found"

    def _record_response(
        self, token: str, headers: dict[str, str], params: dict[str, Any]
    ) -> tuple[int, dict[str, str], bytes]:
        problems = block_problems(params.get("blocks"), limit=MESSAGE_BLOCKS)
        replace = params.get("replace_original") in (True, "true")
        with self._changed:
            posted = self._clicked.get(token)
            if replace and posted is not None and not problems:
                self._replaced[id(posted)] = {k: params[k] for k in ("text", "blocks") if k in params}
        self._record(
            Call("response", params, headers, time.monotonic(), 400 if problems else 200, not problems, token), problems
        )
        return (400, {}, b"invalid_blocks") if problems else (200, {}, b"ok")

    def _record_api(
        self, method: str, headers: dict[str, str], params: dict[str, Any]
    ) -> tuple[int, dict[str, str], bytes]:
        with self._changed:
            queue = self._failures.get(method)
            failure = queue[0] if queue else None
            if failure is not None:
                failure.times -= 1
                if failure.times <= 0:
                    queue.popleft()  # type: ignore[union-attr]
        now = self.monotonic()
        if failure is None and self._limiter is not None and method in self._limiter.limits.methods:
            with self._changed:
                wait = self._limiter.take(str(params.get("channel", "")), now)
                if wait > 0:
                    self.rate_limited += 1
            if wait > 0:
                failure = _Failure(429, max(1, math.ceil(wait)), None, 0)
        with self._changed:
            hold = self._holds.pop(method, None) if failure is None else None
        if hold is not None and not hold.accept:
            # The request never gets through: when released, it is answered 503 and nothing is posted.
            hold.wait()
            self._record(Call(method, params, headers, now, 503, False), [])
            return 503, {}, json.dumps({"ok": False, "error": "service_unavailable"}).encode()
        if failure is not None and failure.error is None:
            self._record(Call(method, params, headers, now, failure.status, False), [])
            extra = {"Retry-After": str(failure.retry_after)} if failure.status == 429 and failure.retry_after else {}
            body = (
                {"ok": False, "error": "ratelimited"}
                if failure.status == 429
                else {"ok": False, "error": "fatal_error"}
            )
            return failure.status, extra, json.dumps(body).encode()
        if failure is not None:
            answer: dict[str, Any] = {"ok": False, "error": failure.error}
            problems: list[str] = []
        elif not headers.get("authorization", "").startswith("Bearer xox"):
            answer, problems = {"ok": False, "error": "not_authed"}, []
        else:
            answer, problems = self._method(method, params)
        self._record(Call(method, params, headers, now, 200, bool(answer.get("ok"))), problems)
        if hold is not None and hold.accept:
            hold.wait()
        return 200, {}, json.dumps(answer).encode()

    def _method(self, method: str, params: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """Slack's answer to one call, and anything about it Slack would refuse."""
        if method in ("chat.postMessage", "chat.postEphemeral", "chat.update"):
            problems = block_problems(params.get("blocks"), limit=MESSAGE_BLOCKS)
            if problems:
                return {"ok": False, "error": "invalid_blocks"}, problems
            if not params.get("channel"):
                return {"ok": False, "error": "channel_not_found"}, []
            if not params.get("text") and not params.get("blocks"):
                return {"ok": False, "error": "no_text"}, []
            ts = params.get("ts") or f"{int(time.time())}.{next(self._ts):06d}"
            if method == "chat.postEphemeral":
                return {"ok": True, "message_ts": ts}, []
            message = {"type": "message", "text": params.get("text", ""), "blocks": params.get("blocks", []), "ts": ts}
            if method == "chat.postMessage":
                with self._changed:
                    self._messages.append({**message, "channel": params["channel"], "metadata": params.get("metadata")})
            return {"ok": True, "channel": params["channel"], "ts": ts, "message": message}, []
        if method == "conversations.history":
            return self._history(params), []
        if method in ("views.publish", "views.open"):
            view = params.get("view")
            if not isinstance(view, dict):
                return {"ok": False, "error": "invalid_arguments"}, ["a view that is not an object"]
            problems = block_problems(view.get("blocks"), limit=VIEW_BLOCKS)
            if problems:
                return {"ok": False, "error": "invalid_arguments"}, problems
            return {"ok": True, "view": {"id": f"V{next(self._ts):08d}", **view}}, []
        if method == "conversations.open":
            users = tuple(sorted(u for u in str(params.get("users", "")).split(",") if u))
            if not users:
                return {"ok": False, "error": "users_list_not_supplied"}, []
            with self._changed:
                channel = self._channels.setdefault(
                    users, f"{'D' if len(users) == 1 else 'G'}{len(self._channels) + 1:08d}"
                )
            return {"ok": True, "channel": {"id": channel}}, []
        if method == "files.getUploadURLExternal":
            if not params.get("filename") or not str(params.get("length", "")).isdigit():
                return {"ok": False, "error": "invalid_arguments"}, ["no filename or length"]
            file_id = f"F{next(self._ts):08d}"
            return {"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}, []
        if method == "files.completeUploadExternal":
            files = params.get("files")
            files = json.loads(files) if isinstance(files, str) else files
            with self._changed:
                missing = [f["id"] for f in files or [] if f.get("id") not in self.uploads]
            if not files or missing:
                return {"ok": False, "error": "invalid_arguments"}, [f"completing files never uploaded: {missing}"]
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title", "")} for f in files]}, []
        if method == "users.info":
            user_id = str(params.get("user", ""))
            with self._changed:
                user = self._users.get(user_id, _User(user_id.lower()))
            profile = {"display_name": user.name, "real_name": user.name.title()}
            answer = {"id": user_id, "name": user.name, "tz": user.tz, "profile": profile}
            if str(params.get("include_locale", "")).lower() in ("true", "1"):
                answer["locale"] = user.locale
            return {"ok": True, "user": answer}, []
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://citypeers-test.slack.com/",
                "team": "CityPeers Test",
                "user": "citypeers",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": "B0BOT",
                "is_enterprise_install": False,
            }, []
        return {"ok": False, "error": "unknown_method"}, [f"unexpected call to {method}"]

    def _history(self, params: dict[str, Any]) -> dict[str, Any]:
        """A conversation's messages, newest first, from `oldest`; metadata only with include_all_metadata."""
        channel = str(params.get("channel", ""))
        with self._changed:
            opened_for = [users for users, opened in self._channels.items() if opened == channel]
            # A DM posted to with the user's id as channel is that user's DM conversation.
            names = {channel} | {users[0] for users in opened_for if len(users) == 1}
            found = [dict(m) for m in self._messages if m["channel"] in names]
        if not opened_for and not channel.startswith(("C", "G")):
            return {"ok": False, "error": "channel_not_found"}
        oldest = float(params.get("oldest") or 0)
        with_metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        messages = []
        for message in sorted(found, key=lambda m: float(m["ts"]), reverse=True):
            if float(message["ts"]) < oldest:
                continue
            metadata = message.pop("metadata")
            message.pop("channel")
            if with_metadata and metadata:
                message["metadata"] = json.loads(metadata) if isinstance(metadata, str) else metadata
            messages.append(message)
        return {"ok": True, "messages": messages, "has_more": False, "response_metadata": {"next_cursor": ""}}

    def _record(self, call: Call, problems: list[str]) -> None:
        with self._changed:
            self._calls.append(call)
            self.problems.extend(f"{call.method}: {p}" for p in problems)
            self._changed.notify_all()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default backlog of 5 drops bursts; a dropped SYN costs a 1 s retransmit


class _Handler(BaseHTTPRequestHandler):
    owner: FakeSlack

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._serve()

    def do_POST(self) -> None:  # noqa: N802
        self._serve()

    def _serve(self) -> None:
        url = urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if url.path.startswith("/upload/"):  # files.uploadV2's second step: the file's bytes, as sent
            body = self.owner._record_upload(url.path.rsplit("/", 1)[-1], raw)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        params: dict[str, Any] = {k: v[0] for k, v in parse_qs(url.query).items()}
        params.update(_parse_body(raw, self.headers.get("Content-Type", "")))
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, extra, body = self.owner._answer(url.path, headers, params)
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if body.startswith(b"{") else "text/plain")
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep test output quiet
        pass


def _parse_body(raw: bytes, content_type: str) -> dict[str, Any]:
    if not raw:
        return {}
    if "json" in content_type:
        return dict(json.loads(raw))
    params: dict[str, Any] = {k: v[0] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
    for key in JSON_FIELDS:  # form posts carry structured fields as JSON strings
        if isinstance(params.get(key), str) and params[key][:1] in "[{":
            params[key] = json.loads(params[key])
    return params


# --- requests to the bot, signed like Slack's -----------------------------------------------------------


def slack_signature(secret: str, timestamp: str, body: bytes) -> str:
    """`v0=` + HMAC-SHA256 of `v0:{timestamp}:{body}`, written out here so it checks bolt, not itself."""
    digest = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return f"v0={digest}"


@dataclass(frozen=True)
class Sent:
    status: int
    body: str
    elapsed: float
    response_token: str = ""


# One counter for every sender, so two bots talking to one fake Slack never share a response_url.
_RESPONSE_TOKENS = itertools.count()


@dataclass
class SlackSender:
    """Posts what Slack would post to the bot: slash commands, block_actions, events; signed."""

    bot_url: str
    signing_secret: str
    slack: FakeSlack
    _tokens: Iterator[int] = field(default_factory=lambda: _RESPONSE_TOKENS)

    def command(
        self, user_id: str, line: str, *, user_name: str | None = None, age: float = 0.0, secret: str | None = None
    ) -> Sent:
        """`line` is what Slack sends: `/city offer <!channel> &amp; more` (should_escape on)."""
        command, _, text = line.partition(" ")
        token = f"c{next(self._tokens)}"
        form = {
            "token": "unused-verification-token",
            "team_id": TEAM_ID,
            "team_domain": "citypeers-test",
            "channel_id": "C0GENERAL",
            "channel_name": "general",
            "user_id": user_id,
            "user_name": user_name or user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": "A0CITYPEERS",
            "is_enterprise_install": "false",
            "response_url": self.slack.url_for_response(token),
            "trigger_id": f"{token}.trigger",
        }
        sent = self.post(urlencode(form).encode(), "application/x-www-form-urlencoded", age=age, secret=secret)
        return Sent(sent.status, sent.body, sent.elapsed, token)

    def click(
        self,
        user_id: str,
        message: dict[str, Any],
        label: str,
        *,
        user_name: str | None = None,
        ephemeral: bool | None = None,
    ) -> Sent:
        """Press the button labelled `label` in `message` (a chat.postMessage the fake received, or a reply posted
        to a response_url). `container.is_ephemeral` is `ephemeral`, by default whether the message was an
        ephemeral reply; a message posted to a user id or a `D…` id is in that person's DM, as Slack says with
        the channel name `directmessage`."""
        buttons = [
            (block, element)
            for block in message.get("blocks", [])
            if block.get("type") == "actions"
            for element in block.get("elements", [])
            if element.get("text", {}).get("text") == label
        ]
        assert buttons, f"no button {label!r} in the message"
        block, button = buttons[0]
        token = f"a{next(self._tokens)}"
        channel = message.get("channel", "D0")
        if ephemeral is None:
            ephemeral = message.get("response_type") == "ephemeral"
        if channel.startswith(("D", "U", "W")):
            channel_name = "directmessage"
        elif channel.startswith("G"):
            channel_name = f"mpdm-{channel.lower()}"
        else:
            channel_name = f"channel-{channel.lower()}"
        payload = {
            "type": "block_actions",
            "team": {"id": TEAM_ID, "domain": "citypeers-test"},
            "user": {"id": user_id, "username": user_name or user_id.lower(), "name": user_name or user_id.lower()},
            "api_app_id": "A0CITYPEERS",
            "token": "unused-verification-token",
            "container": {
                "type": "message",
                "message_ts": "1.000001",
                "channel_id": channel,
                "is_ephemeral": ephemeral,
            },
            "trigger_id": f"{token}.trigger",
            "channel": {"id": channel, "name": channel_name},
            "message": {
                "type": "message",
                "ts": "1.000001",
                "text": message.get("text", ""),
                "blocks": message["blocks"],
            },
            "response_url": self.slack.url_for_response(token),
            "actions": [
                {
                    "type": "button",
                    "action_id": button["action_id"],
                    "block_id": block.get("block_id", "b0"),
                    "text": button["text"],
                    "value": button.get("value", ""),
                    "style": button.get("style", "default"),
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        self.slack.clicked(token, message)
        sent = self.post(urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded")
        return Sent(sent.status, sent.body, sent.elapsed, token)

    def event(self, event: dict[str, Any], *, event_id: str, retry_num: int | None = None) -> Sent:
        body = {
            "token": "unused-verification-token",
            "team_id": TEAM_ID,
            "api_app_id": "A0CITYPEERS",
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
        }
        headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"} if retry_num else {}
        return self.post(json.dumps(body).encode(), "application/json", headers=headers)

    def post(
        self,
        body: bytes,
        content_type: str,
        *,
        age: float = 0.0,
        secret: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Sent:
        """POST to /slack/events, signed `age` seconds ago with `secret` (default: the right one)."""
        timestamp = str(int(time.time() - age))
        request = urllib.request.Request(
            f"{self.bot_url}/slack/events",
            data=body,
            method="POST",
            headers={
                "Content-Type": content_type,
                "X-Slack-Request-Timestamp": timestamp,
                "X-Slack-Signature": slack_signature(secret or self.signing_secret, timestamp, body),
                **(headers or {}),
            },
        )
        return _send(request)

    def get(self, path: str) -> Sent:
        return _send(urllib.request.Request(f"{self.bot_url}{path}", method="GET"))


def _send(request: urllib.request.Request) -> Sent:
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return Sent(response.status, response.read().decode(), time.perf_counter() - started)
    except urllib.error.HTTPError as error:
        return Sent(error.code, error.read().decode(), time.perf_counter() - started)
