"""The percentiles every bench prints, computed one way, and concurrent requests fired one way."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def pct(sorted_values: list[float], percentile: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    rank = max(1, round(percentile / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def figures(label: str, sorted_ms: list[float], width: int = 7) -> str:
    """`label p50 … p95 … p99 … max …` in milliseconds."""
    if not sorted_ms:
        return f"{label} no data"
    parts = [f"p{p} {pct(sorted_ms, p):{width}.1f}" for p in (50, 95, 99)]
    return f"{label} {'  '.join(parts)}  max {sorted_ms[-1]:{width}.1f}"


def fire(
    send: Callable[[], T], token: Callable[[T], str], total: int, concurrency: int
) -> tuple[list[T], dict[str, float], float]:
    """Call `send` `total` times, `concurrency` at a time: the answers, each answer's start (time.monotonic, the
    clock the fakes record their calls on) by its token, and the wall-clock seconds it all took."""
    sent_at: dict[str, float] = {}

    def once(_n: int) -> T:
        start = time.monotonic()
        answer = send()
        sent_at[token(answer)] = start
        return answer

    begun = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        answers = list(pool.map(once, range(total)))
    return answers, sent_at, time.perf_counter() - begun


def first_arrivals_ms(sent_at: dict[str, float], arrivals: Iterable[tuple[str, float]]) -> list[float]:
    """Sorted milliseconds from each token's start to its first arrival (tokens that never arrived are left out)."""
    first: dict[str, float] = {}
    for token, at in arrivals:
        first.setdefault(token, at)
    return sorted((first[t] - start) * 1000 for t, start in sent_at.items() if t in first)
