"""The fake Discord itself: its life cycle, what tests set up and read back, misbehaviour on demand (failures,
held answers), and serving one request: authorization, rate limits, then the route's action (channels.py,
webhooks.py, guilds.py) with its body checked (schema.py, rules.py)."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.discord import channels, guilds, webhooks
from tests.support.discord.constants import API_PREFIX, APPLICATION_ID, GENERAL_CHANNEL_ID, GUILD_ID, LOADING
from tests.support.discord.ratelimits import DiscordLimits, Limiter, retry_seconds
from tests.support.discord.routes import ROUTES, Route, Upload, key_matches, match
from tests.support.discord.rules import check_uploads
from tests.support.discord.schema import Findings, spec
from tests.support.discord.server import make_server, parse_body
from tests.support.discord.state import STATUS_TEXT, Channel, Interaction, State, error

ACTIONS = {**channels.ACTIONS, **webhooks.ACTIONS, **guilds.ACTIONS}


@dataclass(frozen=True)
class Call:
    """One request the fake received. `route` is "POST /channels/{channel_id}/messages" ("" if unexpected)."""

    method: str
    path: str  # without /api/v10 and the query
    route: str
    params: dict[str, str]
    query: dict[str, str]
    body: Any  # the JSON body (payload_json of a multipart request), None if there was none
    files: tuple[Upload, ...]
    headers: dict[str, str]
    status: int
    answer: Any
    at: float  # monotonic
    wall: float = field(default_factory=time.time)
    deduped: bool = False  # a repeated nonce: Discord answered the first message and posted nothing

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class Failure:
    status: int
    retry_after: float
    global_: bool
    code: int | None
    message: str | None
    scope: str | None
    times: int


class Hold:
    """A call kept waiting for its answer (see FakeDiscord.hold_next)."""

    def __init__(self, accept: bool) -> None:
        self.accept = accept
        self.reached = threading.Event()
        self._released = threading.Event()

    def wait(self) -> None:
        self.reached.set()
        self._released.wait(timeout=300)

    def release(self) -> None:
        self._released.set()


class FakeDiscord:
    """`with FakeDiscord() as discord:` … `discord.wait_for(lambda: discord.dms_to(user))`.

    `token` is the bot token it accepts (any `Bot <token>` when None). The guild GUILD_ID has one text channel,
    GENERAL_CHANNEL_ID; `add_channel` adds more. Without `rate_limits` no X-RateLimit headers are sent (Discord
    calls them optional) and nothing is refused for speed.
    """

    def __init__(
        self,
        *,
        rate_limits: DiscordLimits | None = None,
        token: str | None = None,
        application_id: str = APPLICATION_ID,
        nonce_window: float = 120.0,
    ) -> None:
        spec()  # fail at once, not in a request thread, if the schema is missing
        self.rate_limits = rate_limits
        self.token = token
        self.application_id = application_id
        self._limiter = Limiter(rate_limits) if rate_limits is not None else None
        self.rate_limited = 0  # 429s answered because a bucket or the global limit was spent (not fail_next's)
        self.invalid_requests = 0  # 401, 403 and 429 answers (not 429s of scope "shared"), as Discord counts them
        self._invalid_at: deque[float] = deque()
        self._banned = False
        self._changed = threading.Condition()  # the lock over everything, notified on every request
        self._calls: list[Call] = []
        self.problems: list[str] = []
        self._failures: list[tuple[str, Failure]] = []
        self._holds: list[tuple[str, Hold]] = []
        self._state = State(application_id, nonce_window)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.add_channel(GENERAL_CHANNEL_ID, GUILD_ID, name="general")

    # --- life cycle ---------------------------------------------------------------------------------------

    def start(self) -> FakeDiscord:
        self._server = server = make_server(self)
        self._state.url = self.url
        self._thread = threading.Thread(
            target=lambda: server.serve_forever(poll_interval=0.05), name="fake-discord", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._changed:
            holds = [hold for _, hold in self._holds]
        for hold in holds:
            hold.release()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeDiscord:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        """The bot's DISCORD_API_URL."""
        return f"{self.url}{API_PREFIX}"

    # --- set-up -------------------------------------------------------------------------------------------

    def new_id(self) -> str:
        """A fresh snowflake (increasing, dated now)."""
        with self._changed:
            return self._state.new_id()

    def add_channel(self, channel_id: str, guild_id: str = GUILD_ID, *, name: str | None = None) -> None:
        with self._changed:
            self._state.channels[channel_id] = Channel(channel_id, 0, guild_id, name or f"channel-{channel_id[-4:]}")

    def dm_channel(self, user_id: str) -> str:
        """The DM channel between the bot and `user_id` (the id POST /users/@me/channels answers, always the same)."""
        with self._changed:
            return self._state.dm_channel(user_id)

    def channel_name(self, channel_id: str) -> str | None:
        with self._changed:
            channel = self._state.channels.get(channel_id)
            return channel.name if channel is not None else None

    def is_dm_channel(self, channel_id: str) -> bool:
        with self._changed:
            channel = self._state.channels.get(channel_id)
            return channel is not None and channel.type == 1

    def close_dms(self, user_id: str, code: int = 50007) -> None:
        """Posts into `user_id`'s DM answer 403 `code` (50007 DMs closed, 50278 no mutual guild)."""
        with self._changed:
            self._state.closed_dms[user_id] = code

    def deny_permission(self, permission: str, guild_id: str | None = None) -> None:
        """The bot lacks `permission` (in `guild_id`, or everywhere): CREATE_EVENTS or MANAGE_EVENTS make the
        scheduled-event writes answer 403 50013; SEND_MESSAGES channel posts, ATTACH_FILES posts with files;
        VIEW_CHANNEL answers 403 50001 for the guild's channels."""
        with self._changed:
            self._state.denied.setdefault(permission.upper(), set()).add(guild_id)

    def grant_permission(self, permission: str) -> None:
        with self._changed:
            self._state.denied.pop(permission.upper(), None)

    def fail_next(
        self,
        route: str,
        status: int = 429,
        *,
        retry_after: float = 1.0,
        global_: bool = False,
        code: int | None = None,
        message: str | None = None,
        scope: str | None = None,
        times: int = 1,
    ) -> None:
        """The next `times` calls matching `route` ("POST /channels/{channel_id}/messages", a concrete path, either
        without the method) answer `status` and do nothing: 429 with Discord's body and headers (`global_`,
        `scope` user/global/shared), a 5xx, or any 4xx with Discord's JSON error `code`."""
        with self._changed:
            self._failures.append((route, Failure(status, retry_after, global_, code, message, scope, times)))

    def hold_next(self, route: str, *, accept: bool = True) -> Hold:
        """Hold the next call matching `route` without answering until `release()`: with `accept` Discord has
        acted on it (the message is posted) when the hold begins, as when an answer is lost; without, it never
        gets through (answered 503 on release, nothing done)."""
        hold = Hold(accept)
        with self._changed:
            self._holds.append((route, hold))
        return hold

    def register_interaction(self, payload: dict[str, Any]) -> None:
        """An interaction Discord is about to send (DiscordInteractions calls this): its token's webhooks open."""
        with self._changed:
            self._state.interactions[str(payload["token"])] = Interaction(payload, time.monotonic())

    # --- what happened ------------------------------------------------------------------------------------

    def calls(self, route: str | None = None) -> list[Call]:
        """Every call, or those matching `route` (as in fail_next)."""
        with self._changed:
            return [
                c
                for c in self._calls
                if route is None or key_matches(route, c.method, c.route.partition(" ")[2], c.path)
            ]

    def messages_in(self, channel_id: str | None) -> list[dict[str, Any]]:
        """Messages posted in `channel_id` (as GET would answer them, oldest first), each with the
        `allowed_mentions` it was sent with."""
        with self._changed:
            return [dict(m) for m in self._state.messages.get(channel_id or "", [])]

    def dms_to(self, user_id: str) -> list[dict[str, Any]]:
        with self._changed:
            channel = self._state.dms.get(user_id)
        return self.messages_in(channel) if channel else []

    def files_in(self, channel_id: str | None) -> list[tuple[str, bytes]]:
        """(filename, bytes) of every file posted into `channel_id`."""
        found = []
        for call in self.calls("POST /channels/{channel_id}/messages"):
            if call.ok and not call.deduped and call.params.get("channel_id") == channel_id:
                found.extend((f.filename, f.data) for f in call.files)
        return found

    def original(self, token: str) -> dict[str, Any] | None:
        """The interaction's original response as it stands (a message object), or None if it has none yet:
        a type-4 answer, edits of @original, the first follow-up after a deferred answer (Discord makes it the
        original), or for a component's type 6/7 answer the component's message as updated."""
        with self._changed:
            state = self._state.interactions.get(token)
            return self._state.original(state)[0] if state else None

    def followups(self, token: str) -> list[dict[str, Any]]:
        """Follow-up messages of the interaction (as they stand after edits), oldest first."""
        with self._changed:
            state = self._state.interactions.get(token)
            return self._state.original(state)[1] if state else []

    def answer(self, token: str) -> dict[str, Any] | None:
        """The bot's first answer to the interaction (its HTTP answer or its callback), as sent."""
        with self._changed:
            state = self._state.interactions.get(token)
            return state.answer if state else None

    def interaction_files(self, token: str) -> list[tuple[str, bytes]]:
        """(filename, bytes) of every file sent with the interaction's callback, edits and follow-ups."""
        found = []
        for call in self.calls():
            if call.ok and call.params.get("token") == token:
                found.extend((f.filename, f.data) for f in call.files)
        return found

    def commands(self, guild_id: str | None = None) -> list[dict[str, Any]]:
        """The application's current commands: global, or `guild_id`'s."""
        with self._changed:
            return [dict(c) for c in self._state.commands.get(guild_id, [])]

    def scheduled_events(self, guild_id: str = GUILD_ID) -> list[dict[str, Any]]:
        """The guild's scheduled events (deleted ones gone; canceled ones kept with status 4)."""
        with self._changed:
            return [dict(e) for e in self._state.events.get(guild_id, {}).values()]

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
                    routes = [f"{c.method} {c.path} {c.status}" for c in self._calls]
                    raise AssertionError(f"timed out after {timeout}s waiting for {what}; calls so far: {routes}")
                self._changed.wait(left)

    def wait_for_calls(
        self, route: str, count: int = 1, *, where: Callable[[Call], bool] = lambda _c: True, timeout: float = 5.0
    ) -> list[Call]:
        def found() -> list[Call]:
            matching = [c for c in self.calls(route) if where(c)]
            return matching if len(matching) >= count else []

        return self.wait_for(found, timeout=timeout, what=f"{count} x {route}")

    def wait_for_dm(self, user_id: str, count: int = 1, *, timeout: float = 5.0) -> list[dict[str, Any]]:
        def found() -> list[dict[str, Any]]:
            dms = self.dms_to(user_id)
            return dms if len(dms) >= count else []

        return self.wait_for(found, timeout=timeout, what=f"{count} DM(s) to {user_id}")

    def wait_for_original(self, token: str, *, timeout: float = 5.0, loaded: bool = True) -> dict[str, Any]:
        """The original response, once it exists (and, with `loaded`, once a deferred one has been edited)."""

        def found() -> dict[str, Any] | None:
            message = self.original(token)
            return message if message and not (loaded and message.get("flags", 0) & LOADING) else None

        return self.wait_for(found, timeout=timeout, what=f"the original response of {token}")

    # --- serving ------------------------------------------------------------------------------------------

    def serve(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, str], Any]:
        url = urlsplit(target)
        now = time.monotonic()
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        if not url.path.startswith(API_PREFIX + "/"):
            self.note([f"unexpected call {method} {url.path}: not under {API_PREFIX}"])
            return 404, {}, {"message": "404: Not Found", "code": 0}
        path = url.path[len(API_PREFIX) :]
        route, params = match(method, path)
        body, files, parse_problem = parse_body(raw, headers.get("content-type", ""))

        def record(
            status: int, answer: Any, problems: Sequence[str] = (), *, deduped: bool = False, shared: bool = False
        ) -> None:
            call = Call(
                method,
                path,
                route.key if route else "",
                params,
                query,
                body,
                tuple(files),
                headers,
                status,
                answer,
                now,
                deduped=deduped,
            )
            where = route.key if route else f"{method} {path}"
            with self._changed:
                self._calls.append(call)
                self.problems.extend(f"{where}: {p}" for p in problems)
                if status in (401, 403) or (status == 429 and not shared):
                    self._count_invalid(now)
                self._changed.notify_all()

        if route is None:
            known = any(r.pattern.match(path) for r in ROUTES)
            status = 405 if known else 404
            record(status, None, [f"unexpected call {method} {path}"])
            return status, {}, {"message": STATUS_TEXT[status], "code": 0}
        problems: list[str] = []
        agent = headers.get("user-agent", "")
        if not agent.startswith("DiscordBot ("):
            problems.append(f"User-Agent {agent!r}: Discord wants 'DiscordBot ($url, $versionNumber)'")
        if not route.webhook:
            authorization = headers.get("authorization", "")
            wanted = f"Bot {self.token}" if self.token else None
            if (
                not authorization.startswith("Bot ")
                or not authorization[4:].strip()
                or (wanted and authorization != wanted)
            ):
                record(401, None, problems)
                return 401, {}, {"message": "401: Unauthorized", "code": 0}
        if parse_problem:
            code = 50109 if "JSON" in parse_problem else 50035
            record(400, None, [*problems, parse_problem])
            return 400, {}, error(code)
        with self._changed:
            failure = self._take_failure(method, route, path)
            verdict = None
            if failure is None and self._limiter is not None:
                verdict = self._limiter.take(route, params, now)
                if verdict.wait > 0:
                    self.rate_limited += 1
        if failure is not None:
            status, extra, answer = self._failure_answer(failure)
            record(status, answer, problems, shared=failure.scope == "shared")
            return status, extra, answer
        limit_headers = verdict.headers if verdict else {}
        if verdict is not None and verdict.wait > 0:
            extra = {"Retry-After": str(math.ceil(verdict.wait))}
            if verdict.global_:
                extra |= {"X-RateLimit-Global": "true", "X-RateLimit-Scope": "global"}
            else:
                extra |= {**limit_headers, "X-RateLimit-Scope": "user"}
            answer = {"message": "You are being rate limited.", "retry_after": verdict.wait, "global": verdict.global_}
            record(429, answer, problems)
            return 429, extra, answer
        with self._changed:
            hold = self._take_hold(method, route, path)
        if hold is not None and not hold.accept:
            hold.wait()
            record(503, None, problems)
            return 503, limit_headers, {"message": "503: Service Unavailable", "code": 0}
        with self._changed:
            status, answer, more, deduped = self._execute(route, params, query, body, files)
        record(status, answer, [*problems, *more], deduped=deduped)
        if hold is not None:
            hold.wait()
        return status, limit_headers, answer

    def _count_invalid(self, now: float) -> None:
        self.invalid_requests += 1
        self._invalid_at.append(now)
        while self._invalid_at and self._invalid_at[0] <= now - 600:
            self._invalid_at.popleft()
        limit = self.rate_limits.invalid_per_10_minutes if self.rate_limits else None
        if limit is not None and len(self._invalid_at) > limit and not self._banned:
            self._banned = True
            self.problems.append(f"more than {limit} invalid requests (401/403/429) in 10 minutes: Discord bans the IP")

    def _take_failure(self, method: str, route: Route, path: str) -> Failure | None:
        for i, (key, failure) in enumerate(self._failures):
            if key_matches(key, method, route.template, path):
                failure.times -= 1
                if failure.times <= 0:
                    del self._failures[i]
                return failure
        return None

    def _take_hold(self, method: str, route: Route, path: str) -> Hold | None:
        for i, (key, hold) in enumerate(self._holds):
            if key_matches(key, method, route.template, path):
                del self._holds[i]
                return hold
        return None

    @staticmethod
    def _failure_answer(failure: Failure) -> tuple[int, dict[str, str], dict[str, Any]]:
        if failure.status == 429:
            retry = retry_seconds(failure.retry_after)
            answer: dict[str, Any] = {
                "message": failure.message
                or (
                    "The resource is being rate limited."
                    if failure.scope == "shared"
                    else "You are being rate limited."
                ),
                "retry_after": retry,
                "global": failure.global_,
            }
            if failure.code is not None:
                answer["code"] = failure.code
            extra = {"Retry-After": str(math.ceil(retry))}
            if failure.global_:
                extra |= {"X-RateLimit-Global": "true", "X-RateLimit-Scope": "global"}
            else:
                extra |= {
                    "X-RateLimit-Limit": "5",
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": f"{time.time() + retry:.3f}",
                    "X-RateLimit-Reset-After": f"{retry:.3f}",
                    "X-RateLimit-Bucket": "f" * 32,
                    "X-RateLimit-Scope": failure.scope or "user",
                }
            return 429, extra, answer
        if failure.code is not None:
            return failure.status, {}, error(failure.code, failure.message)
        text = {500: "500: Internal Server Error", 502: "502: Bad Gateway", 503: "503: Service Unavailable"}
        return (
            failure.status,
            {},
            {"message": failure.message or text.get(failure.status, str(failure.status)), "code": 0},
        )

    def note(self, problems: Sequence[str]) -> None:
        with self._changed:
            self.problems.extend(problems)
            self._changed.notify_all()

    # --- the routes (called with the lock held) -------------------------------------------------------------

    def _execute(
        self,
        route: Route,
        params: dict[str, str],
        query: dict[str, str],
        body: Any,
        files: list[Upload],
    ) -> tuple[int, Any, list[str], bool]:
        """(status, answer, problems, deduped) for a request that got past authorization and limits."""
        out = Findings()
        if route.method in ("POST", "PUT", "PATCH") and body is None and route.action != "callback" and not files:
            if spec().request_schema(route) is not None:
                out.refuse("no body")
        elif body is not None and route.action != "callback":
            spec().check(route.key, body, out)
        if route.action == "followup" and isinstance(body, dict):
            unsupported = sorted({"username", "avatar_url", "thread_name", "applied_tags"} & set(body))
            if unsupported:
                out.warn(f"{unsupported} are not supported for interaction follow-ups")
        check_uploads(body, files, out)
        action = ACTIONS[route.action]
        status, answer, deduped = action(self._state, out, params, query, body if body is not None else {}, files)
        if out.refused and (status < 300 or answer is None):
            status, answer = 400, error(out.code, errors={"_errors": [{"message": m} for m in out.refused]})
        return status, answer, out.all(), deduped

    def record_answer(self, token: str, body: Any) -> None:
        """The bot answered the interaction in its HTTP response (DiscordInteractions calls this)."""
        with self._changed:
            state = self._state.interactions.get(token)
            if state is None:
                return
            if state.answer is not None:
                self.problems.append(f"interaction {token[:16]}… answered by a callback and in the HTTP answer")
                return
            state.answer, state.answered_by = body, "http"
            state.original_id = state.original_id or self._state.new_id()
            self._state.sync_component_message(state)
            self._changed.notify_all()
