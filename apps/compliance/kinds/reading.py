"""What the kinds read: the player's day rollups, ledger postings in a window, thresholds in the player's
currency, and the dedup keys of window slices."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection

from apps.approvals.thresholds import rate_for, to_eur
from apps.compliance.kinds.base import (
    EVIDENCE_LIST_MAX,
    Money,
    Subject,
    Window,
    iso,
    money,
)
from apps.core.money import quantize
from apps.wallet import rollups

log = logging.getLogger(__name__)

# --- reading the player's activity ----------------------------------------------------------------------------


def threshold_in(threshold: Money, currency: str) -> Decimal | None:
    """``threshold`` in ``currency`` (through EUR at the configured rates); None when a rate is missing."""
    if threshold.currency == currency:
        return threshold.amount
    eur, rate = to_eur(threshold.amount, threshold.currency), rate_for(currency)
    if eur is None or rate is None:
        log.warning("rule_threshold_no_rate", extra={"from": threshold.currency, "to": currency})
        return None
    return quantize(eur * rate, currency)


def threshold_evidence(threshold: Money, converted: Decimal, currency: str) -> dict[str, str]:
    shown = {"threshold": str(threshold)}
    if threshold.currency != currency:
        shown["threshold_in_currency"] = money(converted, currency)
    return shown


DAY_COLUMNS = ("deposits", "deposit_count", "withdrawals", "stakes", "bonus_stakes")


def _days(subject: Subject, first: date) -> dict[date, tuple[Decimal, ...]]:
    """The player's day rows from ``first`` on, in the subject's currency: read once per subject, and extended
    backwards when a longer window asks (the evaluation runs the longest windows first: one read a posting)."""
    memo = subject.memo
    loaded_from: date | None = memo.get("days_from")
    if loaded_from is None or first < loaded_from:
        before = loaded_from - timedelta(days=1) if loaded_from is not None else None
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT day, {', '.join(DAY_COLUMNS)} FROM wallet_player_day "  # noqa: S608 (names only)
                "WHERE player_id = %s AND currency = %s AND day >= %s AND (%s::date IS NULL OR day <= %s)",
                [subject.player_id, subject.currency, first, before, before],
            )
            rows = cursor.fetchall()
        memo.setdefault("days", {}).update({row[0]: tuple(Decimal(v) for v in row[1:]) for row in rows})
        memo["days_from"] = first
    days: dict[date, tuple[Decimal, ...]] = memo["days"]
    return days


def day_sums(subject: Subject, first: date, last: date) -> dict[str, Decimal]:
    """The rollup columns summed over the player's local days ``first``..``last`` in the subject's currency."""
    totals = [Decimal(0)] * len(DAY_COLUMNS)
    for day, values in _days(subject, first).items():
        if first <= day <= last:
            totals = [total + value for total, value in zip(totals, values, strict=True)]
    return dict(zip(DAY_COLUMNS, totals, strict=True))


@dataclass(frozen=True)
class Bounds:
    """A window as instants (for the ledger) and as local days (for the rollups that bound it)."""

    start: datetime  # exclusive
    end: datetime  # inclusive
    first_day: date
    last_day: date

    def evidence(self, window: Window, zone: str) -> dict[str, str]:
        shown = {"window": str(window), "window_start": iso(self.start), "window_end": iso(self.end)}
        if window.unit == "d":
            shown.update(first_day=self.first_day.isoformat(), last_day=self.last_day.isoformat(), time_zone=zone)
        return shown


def bounds(subject: Subject, window: Window, end: datetime | None = None) -> Bounds:
    end = end or subject.now
    zone = ZoneInfo(subject.zone)
    last_day = rollups.day_of(end, subject.zone)
    if window.unit == "d":
        first_day = last_day - timedelta(days=window.length - 1)
        start = datetime.combine(first_day, time(0), tzinfo=zone) - timedelta(microseconds=1)
        return Bounds(start=start, end=end, first_day=first_day, last_day=last_day)
    start = end - timedelta(hours=window.length)
    return Bounds(start=start, end=end, first_day=rollups.day_of(start, subject.zone), last_day=last_day)


@dataclass(frozen=True)
class Posting:
    id: int
    type: str
    amount: Decimal
    created_at: datetime
    instrument: str

    def evidence(self, currency: str) -> dict[str, Any]:
        shown = {"id": self.id, "type": self.type, "amount": money(self.amount, currency), "at": iso(self.created_at)}
        if self.instrument:
            shown["instrument"] = self.instrument[:12]
        return shown


# ``type = 'deposit'`` is written out (not a parameter) so that a partial index on the player's deposits, if one
# is created (``wallet_transaction (player_id, id) WHERE type = 'deposit'``), serves the read.
_DEPOSITS_SQL = (
    "SELECT id, type, amount, created_at, instrument_fingerprint FROM wallet_transaction "
    "WHERE player_id = %s AND type = 'deposit' AND currency = %s AND created_at > %s AND created_at <= %s"
)


def deposits(subject: Subject, span: Bounds) -> list[Posting]:
    """The player's deposits in ``span`` (not after the evaluated posting), oldest first; read once per subject
    and span (the rules of one posting share their windows)."""
    key = ("deposits", span.start, span.end)
    params: list[Any]
    if key in subject.memo:
        found: list[Posting] = subject.memo[key]
        return found
    sql, params = _DEPOSITS_SQL, [subject.player_id, subject.currency, span.start, span.end]
    if subject.event is not None:
        sql, params = f"{sql} AND id <= %s", [*params, subject.event.transaction_id]
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} ORDER BY id", params)
        found = [Posting(int(r[0]), r[1], Decimal(r[2]), r[3], r[4]) for r in cursor.fetchall()]
    subject.memo[key] = found
    return found


def listed(found: list[Posting], currency: str) -> list[dict[str, Any]]:
    """The newest postings for the evidence (the case links them): at most ``EVIDENCE_LIST_MAX``."""
    return [p.evidence(currency) for p in found[-EVIDENCE_LIST_MAX:]]


def slice_key(window: Window, subject: Subject) -> str:
    """The window-length slice of calendar time that holds the evaluated moment (package docstring)."""
    at = subject.event.created_at if subject.event is not None else subject.now
    if window.unit == "h":
        size = window.length * 3600
        start = datetime.fromtimestamp(int(at.timestamp()) // size * size, tz=UTC)
        return f"{window}@{start:%Y-%m-%dT%H:%M}Z"
    day = rollups.day_of(at, subject.zone)
    return f"{window}@{date.fromordinal(day.toordinal() // window.length * window.length).isoformat()}"


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:24]
