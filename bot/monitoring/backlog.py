"""The outbox backlog and broadcast progress as Prometheus gauges, read from the database when
/metrics is scraped (so they are right whichever process sends)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from bot.storage.engine import run_transaction
from bot.storage.repositories import backlog, broadcasts

# The delivery states as the metric names them: a pending delivery is still queued.
DELIVERY_STATES = {broadcasts.PENDING: "queued"}


class BacklogCollector(Collector):
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def collect(self) -> Iterator[Metric]:
        unsent = run_transaction(self._engine, lambda s: backlog.outbox_backlog(session=s))
        running = run_transaction(self._engine, lambda s: backlog.running_broadcasts(session=s))
        outbox = GaugeMetricFamily(
            "policybot_outbox_backlog",
            "Outbox messages not sent yet (cards, notices), by channel and status.",
            labels=["channel", "status"],
        )
        for (channel, status), count in sorted(unsent.items()):
            outbox.add_metric([channel, status], count)
        yield outbox
        progress = GaugeMetricFamily(
            "policybot_broadcast_deliveries",
            "Deliveries of each running broadcast by state (queued, sent, failed, blocked, gone).",
            labels=["broadcast", "state"],
        )
        for broadcast_id, counts in sorted(running.items()):
            for status, count in sorted(counts.items()):
                progress.add_metric([str(broadcast_id), DELIVERY_STATES.get(status, status)], count)
        yield progress
