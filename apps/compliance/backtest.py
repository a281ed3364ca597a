"""Backtests: what a rule version (a draft, or a parameter change) would have raised over a past period, beside
the live version, and how the live version's own alerts of that period ended (its precision on history).

A backtest replays the period's postings of the kinds' trigger types (deposits, withdrawal requests) in ledger
order, and evaluates each one exactly as the ``compliance.rules`` consumer did (``kinds.evaluate`` with the
posting as the event and its time as ``now``), once with the candidate's parameters and once with the live
version's. Same code, same answer: a backtest of the live version over a period reproduces its alerts, which is
what makes the comparison worth reading. Two differences, both in the report's notes: day windows read the day
rollups as they stand now (a deposit later on the same local day counts, where live evaluation saw the day as it
was at the moment), and snoozes are ignored (a backtest asks what the rule finds, not what it was allowed to say).
Sweep kinds (country mismatch, shared identifiers, bonus abuse) read logins or the bonus engine's flags, not
postings: they are not backtested.

Nothing is written but the job's row: hits are collected as distinct (player, window key) pairs, the alerts a
version would have raised. It runs as a resumable job (``apps.core.jobs``, kind ``compliance.backtest``) on the
``default`` queue, a slice of at most 30 s at a time, with its cursor (the last transaction id replayed) and
its partial result committed after each slice: a worker killed mid-run loses one slice and the beat sweep resumes
it. Progress is the share of the period's transaction ids replayed. One backtest runs at a time (a second
request while one runs is refused, naming it).

Speed (issue 16: 90 days of a 10,000,000-entry ledger in under 10 minutes; bench/aml_backtest.py). A batch of
2,000 postings reads its players' day rows and deposits once (two queries), not once or twice a posting: each
subject's memo then holds what ``kinds.reading`` would have read, so the answers are the same. The memo is checked
against ``reading``'s own reads once a slice; a mismatch (``reading`` changed and this did not follow) turns the
prefetch off and logs ``backtest_prefetch_disagrees``: slower, never different.

Result (``Job.result``): per side (``candidate``, ``live``) the would-be alerts, the players, up to
``SAMPLES`` sample hits with their evidence; the overlap (alerts both raise, only the candidate, only the live
version); and for the live version's rule the real alerts created in the period by their case's outcome
(confirmed, refuted, inconclusive, open) with precision = confirmed / (confirmed + refuted).
"""

from __future__ import annotations

import logging
from dataclasses import replace
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
from apps.compliance.kinds import reading
from apps.compliance.kinds.reading import DAY_COLUMNS, Posting
from apps.compliance.models import Alert, RuleVersion
from apps.core.jobs import JobSlice, job_start, register_job
from apps.core.models import Job, JobStatus
from apps.staff.models import StaffUser
from apps.wallet import rollups
from apps.wallet.events import PostingEvent

log = logging.getLogger(__name__)

KIND = "compliance.backtest"
PREFETCH = True  # read each batch's players' rollups and deposits up front (off: each kind reads its own)
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
            f"A {kind.label.lower()} rule reads logins or bonus flags, not postings: it cannot be replayed on the "
            "ledger.",
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
    reach = _reach(candidate, baseline)
    prefetch, checked = PREFETCH, False
    evaluated = {t for item in (candidate, baseline) if item is not None for t in kinds.kind_for(item[0].kind).triggers}
    while True:
        with connection.cursor() as cursor:
            cursor.execute(_BATCH_SQL, [after, params["last_id"], params["types"], start, end, BATCH])
            rows = cursor.fetchall()
        if not rows:
            _finish(job, candidate[0], baseline[0] if baseline else None)
            return
        subjects = _subjects(rows, geo_version, reach, evaluated) if prefetch else _plain(rows, geo_version)
        if prefetch and not checked:
            sample = next((s for s in subjects if isinstance(s.memo, _Memo)), None)
            if sample is not None:
                checked = True
                if not _prefetch_agrees(sample, reach):
                    log.warning("backtest_prefetch_disagrees", extra={"job": job.job_id})
                    prefetch, subjects = False, _plain(rows, geo_version)
        for subject in subjects:
            event = subject.event
            assert event is not None
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


def _reach(*loaded: tuple[RuleVersion, dict[str, Any]] | None) -> int:
    """How many local days before a posting's own the versions' windows read (their window parameters)."""
    days = 0
    for item in loaded:
        for value in item[1].values() if item is not None else ():
            if isinstance(value, kinds.Window):
                days = max(days, value.length - 1 if value.unit == "d" else -(-value.length // 24) + 1)
    return days


class _Memo(dict[Any, Any]):
    """A subject's memo (``kinds.reading``) that answers the deposit windows it covers from the player's deposits
    read once for the batch: what ``reading.deposits`` would have read (the player's deposits in the posting's
    currency, in the window, not after the posting, by id). A window it does not cover is not in it, and
    ``reading`` reads it itself."""

    def __init__(self, ledger: list[tuple[Any, ...]], low: datetime, high: datetime, last_id: int) -> None:
        super().__init__()
        self._ledger, self._low, self._high, self._last_id = ledger, low, high, last_id

    def __contains__(self, key: object) -> bool:
        if super().__contains__(key):
            return True
        if not (isinstance(key, tuple) and len(key) == 3 and key[0] == "deposits"):
            return False
        _, start, end = key
        if not (self._low <= start and end <= self._high):
            return False
        self[key] = [
            Posting(int(r[0]), r[1], Decimal(r[2]), r[3], r[4])
            for r in self._ledger
            if start < r[3] <= end and r[0] <= self._last_id
        ]
        return True


def _plain(rows: list[tuple[Any, ...]], geo_version: int) -> list[kinds.Subject]:
    """The batch's subjects as the consumer builds them: the posting, its time, the player's zone then."""
    subjects = []
    for row in rows:
        event = _event(row)
        zone = rollups.zone_for(row[14], row[15], geo_version, event.created_at)
        subjects.append(
            kinds.Subject(
                player_id=event.player_id,
                currency=event.currency,
                country=row[14],
                zone=zone,
                now=event.created_at,
                event=event,
            )
        )
    return subjects


def _subjects(rows: list[tuple[Any, ...]], geo_version: int, reach: int, evaluated: set[str]) -> list[kinds.Subject]:
    """The batch's subjects, what their rules read for most postings already read: the players' day rows and
    deposits over the versions' windows. Two queries for the batch instead of one or two a posting (the replay's
    main cost). Each subject's memo holds what ``kinds.reading`` would have read for it: the player's day rows in
    the posting's currency from ``days_from`` (up to the batch's last day: no window of a posting ends later),
    and its deposit windows through ``_Memo``. A window reaching further back is read by ``reading`` itself;
    ``_prefetch_agrees`` checks the memo against ``reading``'s own reads once a slice."""
    subjects = _plain(rows, geo_version)
    first: dict[tuple[int, str], date] = {}
    last: dict[tuple[int, str], date] = {}
    span: dict[tuple[int, str], tuple[datetime, datetime, int]] = {}  # per player: earliest, latest, last id
    for subject in subjects:
        event = subject.event
        assert event is not None
        if event.type not in evaluated:
            continue
        day = rollups.day_of(event.created_at, subject.zone)
        key = (event.player_id, event.currency)
        first[key] = min(first.get(key, day), day - timedelta(days=reach))
        last[key] = max(last.get(key, day), day)
        earliest, latest, _ = span.get(key, (event.created_at, event.created_at, 0))
        span[key] = (min(earliest, event.created_at), max(latest, event.created_at), event.transaction_id)
    keys = list(first)
    days: dict[tuple[int, str], dict[date, tuple[Decimal, ...]]] = {key: {} for key in keys}
    ledger: dict[tuple[int, str], list[tuple[Any, ...]]] = {key: [] for key in keys}
    low = {key: span[key][0] - timedelta(days=reach + 2) for key in keys}  # wider than any window's start
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT d.player_id, d.currency, d.day, {', '.join(f'd.{c}' for c in DAY_COLUMNS)} "  # noqa: S608
            "FROM unnest(%s::bigint[], %s::text[], %s::date[], %s::date[]) AS w(player_id, currency, first, last) "
            "JOIN wallet_player_day d ON d.player_id = w.player_id AND d.currency = w.currency "
            "AND d.day >= w.first AND d.day <= w.last",
            [[k[0] for k in keys], [k[1] for k in keys], [first[k] for k in keys], [last[k] for k in keys]],
        )
        for row in cursor.fetchall():
            days[(int(row[0]), row[1])][row[2]] = tuple(Decimal(v) for v in row[3:])
        cursor.execute(
            # per player, as reading.deposits reads (the LIMIT keeps it a lateral per-player read: joined, the
            # planner hashes the whole table's deposits)
            "SELECT w.player_id, w.currency, t.id, t.type, t.amount, t.created_at, t.instrument_fingerprint "
            "FROM unnest(%s::bigint[], %s::text[], %s::timestamptz[], %s::timestamptz[], %s::bigint[]) "
            "AS w(player_id, currency, low, high, last) "
            "CROSS JOIN LATERAL (SELECT id, type, amount, created_at, instrument_fingerprint FROM wallet_transaction "
            "  WHERE player_id = w.player_id AND type = 'deposit' AND currency = w.currency AND created_at > w.low "
            "  AND created_at <= w.high AND id <= w.last ORDER BY id LIMIT 1000000) t "
            "ORDER BY t.id",
            [
                [k[0] for k in keys],
                [k[1] for k in keys],
                [low[k] for k in keys],
                [span[k][1] for k in keys],
                [span[k][2] for k in keys],
            ],
        )
        for row in cursor.fetchall():
            ledger[(int(row[0]), row[1])].append(row[2:])
    for i, subject in enumerate(subjects):
        key = (subject.player_id, subject.currency)
        if key in first:
            assert subject.event is not None
            memo = _Memo(ledger[key], low[key], span[key][1], subject.event.transaction_id)
            memo.update(days=dict(days[key]), days_from=first[key])
            subjects[i] = replace(subject, memo=memo)
    return subjects


def _prefetch_agrees(subject: kinds.Subject, reach: int) -> bool:
    """Whether the prefetched memo gives what ``kinds.reading`` reads itself for this subject (its day sums and
    deposits over a day window as long as the versions' and over 24 hours): a change in ``reading`` that the
    prefetch does not follow turns it off (``step``) rather than changing a backtest's answer."""
    plain = replace(subject, memo={})
    for window in (kinds.Window(max(reach, 1), "d"), kinds.Window(24, "h")):
        span = reading.bounds(plain, window)
        found = [
            (reading.day_sums(one, span.first_day, span.last_day), reading.deposits(one, span))
            for one in (plain, subject)
        ]
        if found[0] != found[1]:
            return False
    return True


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
