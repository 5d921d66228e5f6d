"""The application's Prometheus metrics, on a registry it owns (never the global default one, so
tests can build several apps in one process).

Each process exposes its own counters and histograms: with several processes, scrape every one
and sum them (`sum by (verdict) (rate(policybot_answers_total[5m]))`). The outbox backlog and the
broadcast progress are read from the shared database at scrape time, so every process reports
the same figures there (take `max`, not `sum`).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector

from handlers.messages import Turn

CONTENT_TYPE = CONTENT_TYPE_LATEST
# The dialogue answers in milliseconds; storage and a slow database make the tail.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

ANSWERED, FALLBACK, HANDOFF = "answered", "fallback", "handoff"


def verdict(turn: Turn) -> str | None:
    """How a question was answered (None: the turn was no question — a button, a flow step)."""
    question = turn.question
    if question is None:
        return None
    if question.handoff:
        return HANDOFF
    return FALLBACK if question.fallback else ANSWERED


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "policybot_http_requests",
            "HTTP requests by route and status code.",
            ["route", "status"],
            registry=self.registry,
        )
        self.answers = Counter(
            "policybot_answers",
            "Questions answered, by channel and verdict (answered, fallback, handoff).",
            ["channel", "verdict"],
            registry=self.registry,
        )
        self.turn_seconds = Histogram(
            "policybot_answer_latency_seconds",
            "Time the dialogue took for one message (storage included), by channel.",
            ["channel"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

    def observe_turn(self, channel: str, turn: Turn, seconds: float) -> None:
        self.turn_seconds.labels(channel).observe(seconds)
        kind = verdict(turn)
        if kind is not None:
            self.answers.labels(channel, kind).inc()

    def observe_request(self, route: str, status: int) -> None:
        self.requests.labels(route, str(status)).inc()

    def add(self, collector: Collector) -> None:
        """A collector read at scrape time (the database's figures)."""
        self.registry.register(collector)

    def exposition(self) -> bytes:
        """The text format; collectors that read the database run here (call in a thread)."""
        return generate_latest(self.registry)
