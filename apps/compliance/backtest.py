"""Backtests: what a rule version (a draft, or a parameter change) would have raised over a past period, beside
the live version, and how the live version's own alerts of that period ended (its precision on history).

A backtest replays the period's postings of the kinds' trigger types (deposits, withdrawal requests) in ledger
order, and evaluates each one exactly as the ``compliance.rules`` consumer did (``kinds.evaluate`` with the
posting as the event and its time as ``now``), once with the candidate's parameters and once with the live
version's. Same code, same answer: a backtest of the live version over a period reproduces its alerts, which is
what makes the comparison worth reading. Two differences, both in the report's notes: day windows read the day
rollups as they stand now (a deposit later on the same local day counts, where live evaluation saw the day as it
was at the moment), and snoozes are ignored (a backtest asks what the rule finds, not what it was allowed to say).
Sweep kinds (country mismatch, shared identifiers) read logins, not postings: they are not backtested.

Nothing is written but the job's row: hits are collected as distinct (player, window key) pairs, the alerts a
version would have raised. It runs as a resumable job (``apps.core.jobs``, kind ``compliance.backtest``) on the
``default`` queue, a slice of at most 30 s at a time, with its cursor (the last transaction id replayed) and
its partial result committed after each slice: a worker killed mid-run loses one slice and the beat sweep resumes
it. Progress is the share of the period's transaction ids replayed. One backtest runs at a time (a second
request while one runs is refused, naming it).

Result (``Job.result``): per side (``candidate``, ``live``) the would-be alerts, the players, up to
``SAMPLES`` sample hits with their evidence; the overlap (alerts both raise, only the candidate, only the live
version); and for the live version's rule the real alerts created in the period by their case's outcome
(confirmed, refuted, inconclusive, open) with precision = confirmed / (confirmed + refuted).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from apps.audit.services import audit_log
from apps.compliance import kinds
from apps.compliance.choices import CaseState, Outcome, VersionMode, VersionState
from apps.compliance.errors import BacktestInvalid, BacktestRunning, CaseNotPermitted
from apps.compliance.models import Alert, RuleVersion
from apps.core.jobs import JobSlice, job_start, register_job
from apps.core.models import Job, JobStatus
from apps.staff.models import StaffUser
from apps.wallet import rollups
from apps.wallet.events import PostingEvent

KIND = "compliance.backtest"
PERMISSION = "compliance.backtest_rule"
BATCH = 2000
SAMPLES = 50
MAX_KEYS = 200_000  # distinct would-be alerts kept per side; beyond, counted only
MAX_DAYS = 366
ZERO = Decimal("0")

_RANGE_SQL = (
    "SELECT min(id), max(id) FROM wallet_transaction WHERE created_at >= %s AND created_at < %s AND type = ANY(%s)"
)
_BATCH_SQL = """
    SELECT t.id, t.type, t.player_id, t.currency, t.amount, t.game_id, t.game_category, t.provider, t.round_id,
           t.payment_method, t.instrument_fingerprint, t.api_client, t.reverses_id, t.created_at,
           p.country, p.region
    FROM wallet_transaction t JOIN players_player p ON p.id = t.player_id
    WHERE t.id > %s AND t.id <= %s AND t.type = ANY(%s) AND t.created_at >= %s AND t.created_at < %s
    ORDER BY t.id LIMIT %s
"""


def _instant(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo("UTC"))


def _baseline_of(version: RuleVersion) -> RuleVersion | None:
    return (
        RuleVersion.objects.filter(rule_id=version.rule_id, state=VersionState.PUBLISHED, mode=VersionMode.LIVE)
        .exclude(pk=version.pk)
        .first()
    )


def backtest_start(
    *, actor: StaffUser, version: RuleVersion, start: date, end: date, baseline: RuleVersion | None = None
) -> Job:
    """Start a backtest of ``version`` over the days ``start`` to ``end`` (exclusive), UTC, against ``baseline``
    (by default the rule's published live version, if it is another one)."""
    if not actor.has_perm(PERMISSION):
        raise CaseNotPermitted("You may not backtest rules.")
    kind = kinds.kind_for(version.kind)
    if kind.sweep or not kind.triggers:
        raise BacktestInvalid(
            f"A {kind.label.lower()} rule reads logins, not postings: it cannot be replayed on the ledger.",
            fields={"version": ["A posting rule."]},
        )
    if not start < end:
        raise BacktestInvalid("The period must end after it starts.", fields={"end": ["After the start."]})
    if (end - start).days > MAX_DAYS:
        raise BacktestInvalid(f"At most {MAX_DAYS} days.", fields={"end": [f"At most {MAX_DAYS} days."]})
    if end > timezone.now().date() + timedelta(days=1):
        raise BacktestInvalid("The period is in the past.", fields={"end": ["Not in the future."]})
    baseline = baseline if baseline is not None else _baseline_of(version)
    if baseline is not None and baseline.rule_id != version.rule_id:
        raise BacktestInvalid("Compare versions of the same rule.", fields={"baseline": ["The same rule."]})
    running = Job.objects.filter(kind=KIND, status=JobStatus.RUNNING).first()
    if running is not None:
        raise BacktestRunning(f"Backtest #{running.pk} is running; start this one when it has finished.")
    types = sorted(kind.triggers)
    with connection.cursor() as cursor:
        cursor.execute(_RANGE_SQL, [_instant(start), _instant(end), types])
        first, last = cursor.fetchone()
    params = {
        "version": version.pk,
        "baseline": baseline.pk if baseline is not None else None,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "types": types,
        "first_id": int(first or 0),
        "last_id": int(last or 0),
        "requested_by": actor.pk,
    }
    with transaction.atomic():
        job = job_start(kind=KIND, params=params)
        audit_log(
            actor=actor,
            action="compliance.backtest_started",
            target=version,
            data={"job": job.pk, "start": params["start"], "end": params["end"], "baseline": params["baseline"]},
        )
    return job


def _side() -> dict[str, Any]:
    return {"hits": 0, "keys": {}, "players": {}, "samples": [], "truncated": False}


def _event(row: tuple[Any, ...]) -> PostingEvent:
    return PostingEvent(
        transaction_id=int(row[0]),
        type=row[1],
        player_id=int(row[2]),
        currency=row[3],
        amount=Decimal(row[4]),
        cash_part=ZERO,
        bonus_part=ZERO,
        game_id=row[5],
        game_category=row[6],
        provider=row[7],
        round_id=row[8],
        payment_method=row[9],
        instrument_fingerprint=row[10],
        api_client=row[11],
        reverses_id=row[12],
        created_at=row[13],
    )


def _record(side: dict[str, Any], player_id: int, hit: kinds.Hit) -> None:
    side["hits"] += 1
    key = f"{player_id}|{hit.window_key}"
    if key in side["keys"]:
        return
    if len(side["keys"]) >= MAX_KEYS:
        side["truncated"] = True
        return
    side["keys"][key] = 1
    side["players"][str(player_id)] = 1
    if len(side["samples"]) < SAMPLES:
        side["samples"].append({"player": player_id, "window_key": hit.window_key, "evidence": hit.evidence})


def _loaded(version_id: int | None) -> tuple[RuleVersion, dict[str, Any]] | None:
    if version_id is None:
        return None
    version = RuleVersion.objects.select_related("rule").get(pk=version_id)
    return version, kinds.parse(version.kind, version.params)


def step(job: JobSlice) -> None:
    params = job.params
    candidate = _loaded(params["version"])
    assert candidate is not None
    baseline = _loaded(params.get("baseline"))
    result = job.result
    result.setdefault("candidate", _side())
    if baseline is not None:
        result.setdefault("live", _side())
    after = int(job.cursor.get("after", params["first_id"] - 1))
    start, end = _instant(date.fromisoformat(params["start"])), _instant(date.fromisoformat(params["end"]))
    geo_version = _geo_version()
    while True:
        with connection.cursor() as cursor:
            cursor.execute(_BATCH_SQL, [after, params["last_id"], params["types"], start, end, BATCH])
            rows = cursor.fetchall()
        if not rows:
            _finish(job, candidate[0], baseline[0] if baseline else None)
            return
        for row in rows:
            event = _event(row)
            zone = rollups.zone_for(row[14], row[15], geo_version, event.created_at)
            subject = kinds.Subject(
                player_id=event.player_id,
                currency=event.currency,
                country=row[14],
                zone=zone,
                now=event.created_at,
                event=event,
            )
            for name, loaded in (("candidate", candidate), ("live", baseline)):
                if loaded is None or event.type not in kinds.kind_for(loaded[0].kind).triggers:
                    continue
                for hit in kinds.evaluate(loaded[0].kind, subject, loaded[1]):
                    _record(result[name], event.player_id, hit)
        after = int(rows[-1][0])
        job.cursor["after"] = after
        span = max(params["last_id"] - params["first_id"] + 1, 1)
        result["progress"] = round(100 * (after - params["first_id"] + 1) / span, 1)
        if job.out_of_time():
            return


def _geo_version() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT version FROM geo_geoconfigversion WHERE id = 1")
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def _finish(job: JobSlice, candidate: RuleVersion, baseline: RuleVersion | None) -> None:
    result = job.result
    result["progress"] = 100.0
    summary: dict[str, Any] = {}
    for name in ("candidate", "live"):
        side = result.get(name)
        if side is None:
            continue
        summary[name] = {"alerts": len(side["keys"]), "players": len(side["players"]), "hits": side["hits"]}
    if "live" in result:
        mine, theirs = set(result["candidate"]["keys"]), set(result["live"]["keys"])
        summary["overlap"] = {
            "both": len(mine & theirs),
            "only_candidate": len(mine - theirs),
            "only_live": len(theirs - mine),
        }
    summary["history"] = _history(candidate, baseline, job.params)
    summary["notes"] = [
        "Day windows read today's day rollups: a deposit later on the same local day counts.",
        "Snoozes are ignored.",
    ]
    result["summary"] = summary
    job.finish()


def _history(candidate: RuleVersion, baseline: RuleVersion | None, params: dict[str, Any]) -> dict[str, Any]:
    """The real alerts of the live version (else of the rule) created in the period, by their case's outcome."""
    start, end = _instant(date.fromisoformat(params["start"])), _instant(date.fromisoformat(params["end"]))
    alerts = Alert.objects.filter(created_at__gte=start, created_at__lt=end)
    alerts = alerts.filter(version=baseline) if baseline is not None else alerts.filter(rule_id=candidate.rule_id)
    counts = dict.fromkeys((*Outcome.values, "open"), 0)
    rows = alerts.values("case__state", "case__outcome").annotate(n=Count("id"))
    for row in rows:
        outcome = row["case__outcome"] if row["case__state"] == CaseState.CLOSED else "open"
        counts[outcome or "open"] += row["n"]
    decided = counts[Outcome.CONFIRMED] + counts[Outcome.REFUTED]
    return {
        "alerts": sum(counts.values()),
        "by_outcome": counts,
        "precision": round(counts[Outcome.CONFIRMED] / decided, 3) if decided else None,
    }


def progress(job: Job) -> dict[str, Any]:
    """What the admin shows of a backtest: state, percent, and the summary once done."""
    return {
        "status": job.status,
        "percent": float(job.result.get("progress", 0.0)),
        "summary": job.result.get("summary"),
        "error": job.error,
    }


def register() -> None:
    register_job(KIND, step, slice_seconds=30.0)
