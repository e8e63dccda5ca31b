"""The percentiles every bench prints, computed one way."""

from __future__ import annotations


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
