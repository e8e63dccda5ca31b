"""Discord's rate limits, kept on demand: per-route buckets with Discord's headers, the global limit, and 429s."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from tests.support.discord.routes import Route


@dataclass(frozen=True)
class DiscordLimits:
    """Discord's rate limits, for `FakeDiscord(rate_limits=DiscordLimits())`.

    Each route has buckets of (requests, seconds), one per top-level resource in its path (channel, guild,
    webhook + token), each with its own `X-RateLimit-Bucket` hash; a bucket's window opens at its first request
    and resets `seconds` later. Discord publishes no per-route numbers ("should not be hard coded"): these are the
    usual ones, and `routes` overrides any route by its key ("POST /channels/{channel_id}/messages"). The global
    limit counts every request but the interaction endpoints (callbacks and webhooks with an interaction token)
    in a sliding second. `invalid_per_10_minutes` is the ban threshold on 401, 403 and 429 answers.
    """

    messages: tuple[int, float] = (5, 5.0)  # POST /channels/{channel_id}/messages, per channel
    webhooks: tuple[int, float] = (5, 2.0)  # interaction webhooks and callbacks, per token
    other: tuple[int, float] = (10, 1.0)  # every other route, per top-level resource
    global_per_second: int = 50
    routes: Mapping[str, tuple[int, float]] = field(default_factory=dict)
    invalid_per_10_minutes: int = 10_000


@dataclass
class _Window:
    limit: int
    seconds: float
    remaining: int
    resets: float  # monotonic


@dataclass(frozen=True)
class _Verdict:
    wait: float  # 0 when the request may go
    headers: dict[str, str]
    global_: bool = False


def retry_seconds(seconds: float) -> float:
    """Seconds rounded up to the millisecond (never 0), as Discord's retry_after and Reset-After."""
    return max(0.001, math.ceil(round(seconds * 1000, 6)) / 1000)


class Limiter:
    def __init__(self, limits: DiscordLimits) -> None:
        self.limits = limits
        self._windows: dict[tuple[str, tuple[str, ...]], _Window] = {}
        self._global: deque[float] = deque()

    def _size(self, route: Route) -> tuple[int, float]:
        if route.key in self.limits.routes:
            return self.limits.routes[route.key]
        if route.action == "create_message":
            return self.limits.messages
        return self.limits.webhooks if route.webhook else self.limits.other

    def take(self, route: Route, params: Mapping[str, str], now: float) -> _Verdict:
        if not route.webhook:
            while self._global and self._global[0] <= now - 1.0:
                self._global.popleft()
            if len(self._global) >= self.limits.global_per_second:
                return _Verdict(retry_seconds(self._global[0] + 1.0 - now), {}, global_=True)
        limit, seconds = self._size(route)
        key = (route.key, tuple(params.get(p, "") for p in route.major))
        window = self._windows.get(key)
        if window is None or now >= window.resets:
            window = self._windows[key] = _Window(limit, seconds, limit, now + seconds)
        wait = 0.0
        if window.remaining <= 0:
            wait = retry_seconds(window.resets - now)
        else:
            window.remaining -= 1
            if not route.webhook:
                self._global.append(now)
        reset_after = max(0.0, window.resets - now)
        headers = {
            "X-RateLimit-Limit": str(window.limit),
            "X-RateLimit-Remaining": str(window.remaining),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{retry_seconds(reset_after) if reset_after else 0.0:.3f}",
            "X-RateLimit-Bucket": route.bucket,
        }
        return _Verdict(wait, headers)
