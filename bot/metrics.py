"""GET /metrics for operators, in Prometheus' text format: what this process did, and what the ledger owes.

Counters and histograms count what this process saw (commands, delivery outcomes, platforms' 429s), told through
`Services.meter` by bot/'s boundaries, so handlers know nothing of Prometheus. The ledger's figures (rows still
owed, the oldest one's due time) are read from the database at each scrape, so every process reports the same.
The route answers only a request bearing `CITYPEERS_METRICS_TOKEN`; any other gets the 404 of an unknown path.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from bot.platforms import names
from bot.web import Route, StartResponse, not_found
from handlers.types import Meter
from storage import ledger_queries
from storage.db import unit_of_work

log = logging.getLogger(__name__)

METRICS_PATH = "/metrics"
# Rows still owed: waiting for their time (pending) or claimed by a process that is sending them (sending).
COMMAND_OUTCOMES = ("ok", "refused", "crashed")
DELIVERY_OUTCOMES = ("sent", "late", "retried", "failed", "missed")
# A command answers in well under a second; a slow one (a round, an export) takes a few.
COMMAND_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# On time is within seconds of due; after downtime, minutes to days.
LATENESS_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 21600.0, 86400.0, 604800.0)


class Metrics(Meter):
    """This process's counters in a registry of its own (not prometheus-client's global one), plus the ledger."""

    def __init__(self, engine: Engine, families: Iterable[str]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        # A label's values are few and known: anything typed that is not a family is counted as `unknown`.
        self.families = frozenset(families)
        self.commands = Counter(
            "citypeers_commands",
            "Commands answered, by family and outcome (ok, refused: an error reply, crashed: an unexpected error)",
            ["family", "outcome"],
            registry=self.registry,
        )
        self.command_seconds = Histogram(
            "citypeers_command_duration_seconds",
            "Time from a command's arrival at the dispatcher to its reply",
            ["family"],
            buckets=COMMAND_BUCKETS,
            registry=self.registry,
        )
        self.deliveries = Counter(
            "citypeers_deliveries",
            "Delivery attempts by ledger kind, platform and outcome (sent on time, late, retried, failed, missed)",
            ["kind", "platform", "outcome"],
            registry=self.registry,
        )
        self.lateness = Histogram(
            "citypeers_delivery_lateness_seconds",
            "How long after its due time a message was sent (sent_at - due_at)",
            ["kind"],
            buckets=LATENESS_BUCKETS,
            registry=self.registry,
        )
        self.rate_limits = Counter(
            "citypeers_platform_rate_limited",
            "HTTP 429 answers from a platform's API",
            ["platform"],
            registry=self.registry,
        )
        for platform in names():  # present from the start, so a rate of zero is a rate, not a gap
            self.rate_limits.labels(platform=platform)
        self.registry.register(LedgerCollector(engine))

    # --- Meter: told by the adapters, the delivery engine and the platform clients ---------------------------

    def command(self, family: str, outcome: str, seconds: float) -> None:
        family = family.lstrip("/").lower()
        family = family if family in self.families else "unknown"
        self.commands.labels(family=family, outcome=outcome).inc()
        self.command_seconds.labels(family=family).observe(seconds)

    def delivery(self, kind: str, platform: str, outcome: str, lateness: float | None = None) -> None:
        self.deliveries.labels(kind=kind, platform=platform or "none", outcome=outcome).inc()
        if lateness is not None:
            self.lateness.labels(kind=kind).observe(max(lateness, 0.0))

    def rate_limited(self, platform: str) -> None:
        self.rate_limits.labels(platform=platform).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class LedgerCollector(Collector):
    """The ledger as it is at scrape time: rows owed by kind and platform, and the oldest owed row's due time."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def describe(self) -> list[Metric]:
        return []  # described by collect(), which reads the database: not at registration

    def collect(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily(
            "citypeers_ledger_pending",
            "Ledger rows still owed (pending or being sent), by kind and platform",
            labels=["kind", "platform"],
        )
        oldest = GaugeMetricFamily(
            "citypeers_ledger_oldest_pending_due_timestamp_seconds",
            "Due time (Unix seconds) of the oldest row still owed; absent when nothing is owed",
        )
        readable = GaugeMetricFamily("citypeers_ledger_readable", "1 when the ledger could be read at this scrape")
        try:
            with unit_of_work(self.engine) as session:
                counts = ledger_queries.owed_counts(session=session)
                first_due = ledger_queries.oldest_owed_due(session=session)
        except Exception as error:  # noqa: BLE001 - the process's own counters are still worth a scrape
            log.warning("metrics: cannot read the ledger (%s)", type(error).__name__)
            readable.add_metric([], 0)
            yield readable
            return
        for kind, platform, count in counts:
            depth.add_metric([kind, platform or "none"], count)
        readable.add_metric([], 1)
        yield depth
        if first_due is not None:
            oldest.add_metric([], first_due.timestamp())
            yield oldest
        yield readable


def metrics_route(metrics: Metrics, token: str) -> Route:
    """GET /metrics for a request bearing `token`; anything else is told what an unknown path is told."""
    expected = f"Bearer {token}".encode()

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        given = str(environ.get("HTTP_AUTHORIZATION", "")).encode()
        if not token or not hmac.compare_digest(given, expected):
            return not_found(start_response)
        body = metrics.exposition()
        start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST), ("Content-Length", str(len(body)))])
        return [body]

    return Route("GET", METRICS_PATH, app)
