"""Liveness, readiness and metrics: outside staff login, for load balancers and Prometheus."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_prometheus.exports import ExportToDjangoView

from apps.core.net import client_ip, ip_in_networks


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is alive and serving. Checks nothing else, on purpose."""
    return JsonResponse({"status": "ok"})


class DatabaseReadOnly(Exception):
    """The database answers but would refuse a write."""


# One round trip: a standby (in recovery), a session that is read-only (a default it started with, or the
# server's), or a database whose default for new sessions is read-only (ALTER DATABASE ... SET
# default_transaction_read_only: the pool's older sessions still write, its new ones would not).
_WRITABLE_SQL = """
SELECT pg_is_in_recovery(),
       current_setting('transaction_read_only'),
       current_setting('default_transaction_read_only'),
       EXISTS (
           SELECT 1 FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase
           WHERE d.datname = current_database() AND s.setrole = 0
             AND 'default_transaction_read_only=on' = ANY (s.setconfig)
       )
"""


def _check_database() -> None:
    """PostgreSQL answers and would take a write (a read-only database is not ready: every posting would fail)."""
    with connection.cursor() as cursor:
        cursor.execute(_WRITABLE_SQL)
        in_recovery, session_read_only, default_read_only, database_read_only = cursor.fetchone()
    reasons = [
        reason
        for reason, on in (
            ("in recovery (a standby)", in_recovery),
            ("transaction_read_only is on", session_read_only == "on"),
            ("default_transaction_read_only is on", default_read_only == "on"),
            ("the database's default_transaction_read_only is on", database_read_only),
        )
        if on
    ]
    if reasons:
        if in_recovery or session_read_only == "on" or default_read_only == "on":
            # this pooled session would fail every write, even once the server takes writes again
            connection.discard_connection = True  # type: ignore[attr-defined]  # apps.core.pgbackend
        raise DatabaseReadOnly("read-only: " + "; ".join(reasons))


def _check_cache() -> None:
    from django_redis import get_redis_connection

    get_redis_connection("default").ping()


def _check_broker() -> None:
    from kombu import Connection

    # One attempt (max_retries=0): a retry would sleep kombu's interval (2 s) first, and a probe that slow queues
    # behind the load for a web worker while the broker is down (the fault test measured no answer in 8 s).
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as conn:
        conn.ensure_connection(max_retries=0, timeout=2)


CHECKS: dict[str, Callable[[], None]] = {
    "database": _check_database,
    "redis": _check_cache,
    "broker": _check_broker,
}


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Ready to take traffic: 503 when a check in ``READYZ_REQUIRED_CHECKS`` fails (by default the database, which
    must answer and take writes). Redis and the broker are checked and reported too, but the web serves through
    their outage (apps/core/degradation.py): their failure answers 200 with ``"status": "degraded"``, so a load
    balancer does not take every instance out at once. Also says how far the audit sealer is behind
    (``audit_seal``), without letting that decide readiness."""
    results: dict[str, dict[str, object]] = {}
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            check()
        except Exception as exc:  # any failure of a dependency means "not ready"; say which and why
            results[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
        else:
            results[name] = {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 2)}
    failing = {name for name, result in results.items() if not result["ok"]}
    ready = not failing & set(settings.READYZ_REQUIRED_CHECKS)
    status = "not_ready" if not ready else "degraded" if failing else "ready"
    body = {"status": status, "checks": results, "audit_seal": _audit_seal_lag()}
    return JsonResponse(body, status=200 if ready else 503)


def _audit_seal_lag() -> dict[str, object]:
    """Information, not a check: events waiting for the audit sealer do not make this process unready
    (alert on /metrics ``pitboss_audit_seal_lag_seconds`` instead)."""
    from apps.audit.selectors import audit_seal_lag

    try:
        lag = audit_seal_lag()
    except Exception as exc:  # the database check above already says why
        return {"error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"unsealed": lag.unsealed, "oldest_seconds": round(lag.seconds(), 3)}


def bench_floor(request: HttpRequest) -> JsonResponse:
    """The benchmark's floor: framework + one database round trip (``SELECT 1``), constant JSON.

    Routed only when ``BENCH_FLOOR_ENDPOINT`` is on (``make bench`` starts gunicorn with it).
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return JsonResponse({"allowed": True, "reasons": [], "restrictions": {}})


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics. With ``METRICS_TOKEN`` and/or ``METRICS_ALLOWED_NETWORKS`` set, only for
    ``Authorization: Bearer <token>`` or a client address in those networks (either is enough); with neither
    (development only: production settings refuse to start that way) for anyone."""
    token, networks = settings.METRICS_TOKEN, settings.METRICS_ALLOWED_NETWORKS
    if token or networks:
        supplied = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        by_token = bool(token) and constant_time_compare(supplied, token)
        if not by_token and not ip_in_networks(client_ip(request), networks):
            return HttpResponse("metrics token required\n", status=401, content_type="text/plain")
    return ExportToDjangoView(request)  # type: ignore[no-any-return]
