"""The seal lag on /metrics: how many audit events wait for the sealer, and for how long the oldest has.

Collected at scrape time with one indexed query (``selectors.audit_seal_lag``); a database that does not answer
leaves the two gauges out of that scrape rather than failing /metrics (readiness says the database is down).
"""

from __future__ import annotations

from collections.abc import Iterator

import structlog
from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily, Metric

log = structlog.get_logger(__name__)

UNSEALED = "pitboss_audit_unsealed_events"
LAG = "pitboss_audit_seal_lag_seconds"


def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
    return (
        GaugeMetricFamily(UNSEALED, "Audit events written but not chained by the sealer yet."),
        GaugeMetricFamily(LAG, "Age of the oldest audit event not chained yet (0: none waits)."),
    )


class SealLagCollector:
    def describe(self) -> Iterator[Metric]:
        # names only: registering must not query the database (it happens at start-up)
        yield from _families()

    def collect(self) -> Iterator[Metric]:
        from apps.audit.selectors import audit_seal_lag

        try:
            lag = audit_seal_lag()
        except Exception as exc:  # the scrape goes on without these two
            log.warning("audit_seal_lag_unavailable", error=f"{type(exc).__name__}: {exc}"[:300])
            return
        unsealed, seconds = _families()
        unsealed.add_metric([], lag.unsealed)
        seconds.add_metric([], round(lag.seconds(), 3))
        yield unsealed
        yield seconds


_collector = SealLagCollector()


def register() -> None:
    """Once per process (AppConfig.ready)."""
    if UNSEALED not in REGISTRY._names_to_collectors:
        REGISTRY.register(_collector)  # type: ignore[arg-type]
