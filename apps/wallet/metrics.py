"""The posting-event queue on /metrics, per durable consumer: rows waiting, the oldest one's age, rows failing.

Collected at scrape time with one grouped query over ``wallet_posting_queue`` (``events.backlog``); a database
that does not answer leaves these gauges out of that scrape rather than failing /metrics. Alert on a growing
``pitboss_posting_events_oldest_seconds`` (workers down or too slow) and on any ``pitboss_posting_events_failing``.
"""

from __future__ import annotations

from collections.abc import Iterator

import structlog
from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily, Metric

log = structlog.get_logger(__name__)

WAITING = "pitboss_posting_events_waiting"
OLDEST = "pitboss_posting_events_oldest_seconds"
FAILING = "pitboss_posting_events_failing"


def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily, GaugeMetricFamily]:
    return (
        GaugeMetricFamily(WAITING, "Posting events queued for a durable consumer.", labels=["consumer"]),
        GaugeMetricFamily(OLDEST, "Age of the oldest queued posting event (0: none waits).", labels=["consumer"]),
        GaugeMetricFamily(FAILING, "Queued posting events whose handler raised at least once.", labels=["consumer"]),
    )


class PostingQueueCollector:
    def describe(self) -> Iterator[Metric]:
        yield from _families()  # names only: registering must not query the database

    def collect(self) -> Iterator[Metric]:
        from apps.wallet.events import backlog

        try:
            rows = backlog()
        except Exception as exc:  # the scrape goes on without these
            log.warning("posting_events_backlog_unavailable", error=f"{type(exc).__name__}: {exc}"[:300])
            return
        waiting, oldest, failing = _families()
        for row in rows:
            waiting.add_metric([row.consumer], row.rows)
            oldest.add_metric([row.consumer], round(row.oldest_seconds, 3))
            failing.add_metric([row.consumer], row.failing)
        yield waiting
        yield oldest
        yield failing


_collector = PostingQueueCollector()


def register() -> None:
    """Once per process (AppConfig.ready)."""
    if WAITING not in REGISTRY._names_to_collectors:
        REGISTRY.register(_collector)  # type: ignore[arg-type]
