"""Degradation on /metrics, per process: whether Redis is being skipped, how many calls were served without it,
how many outages this process saw, and how many 503s it answered per dependency (apps/core/degradation.py).

Read from the breakers at scrape time: nothing is counted twice and scraping touches no dependency. Like
django-prometheus's own counters, each gunicorn worker reports its own (docs/DEPLOYMENT.md, "Health and
monitoring"). Alert on ``pitboss_dependency_degraded == 1`` for longer than a blip.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import REGISTRY
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

DEGRADED = "pitboss_dependency_degraded"
DEGRADED_CALLS = "pitboss_dependency_degraded_calls"
OUTAGES = "pitboss_dependency_outages"
UNAVAILABLE = "pitboss_service_unavailable_responses"


def _families() -> tuple[GaugeMetricFamily, CounterMetricFamily, CounterMetricFamily, CounterMetricFamily]:
    return (
        GaugeMetricFamily(DEGRADED, "1 while this process serves without the dependency.", labels=["dependency"]),
        CounterMetricFamily(
            DEGRADED_CALLS,
            "Calls this process answered without the dependency (a cache miss, a local count).",
            labels=["dependency"],
        ),
        CounterMetricFamily(OUTAGES, "Outages of the dependency this process saw.", labels=["dependency"]),
        CounterMetricFamily(
            UNAVAILABLE,
            "503 service_unavailable answers of this process, by the dependency that was down.",
            labels=["dependency"],
        ),
    )


class DegradationCollector:
    def describe(self) -> Iterator[Metric]:
        yield from _families()

    def collect(self) -> Iterator[Metric]:
        from apps.core import degradation

        degraded, calls, outages, unavailable = _families()
        for name, breaker in degradation.BREAKERS.items():
            degraded.add_metric([name], 1 if breaker.is_open else 0)
            calls.add_metric([name], breaker.degraded_calls)
            outages.add_metric([name], breaker.outages)
        for name in ("database", "redis", "broker"):
            unavailable.add_metric([name], degradation.unavailable_answers.get(name, 0))
        yield degraded
        yield calls
        yield outages
        yield unavailable


_collector = DegradationCollector()


def register() -> None:
    """Once per process (AppConfig.ready)."""
    if DEGRADED not in REGISTRY._names_to_collectors:
        REGISTRY.register(_collector)  # type: ignore[arg-type]
