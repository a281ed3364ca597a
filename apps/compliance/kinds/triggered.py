"""The kinds evaluated on postings: deposits (windows, structuring, instruments, spikes) and withdrawal requests
(little play, rapid in and out)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from apps.compliance.kinds.base import (
    DEPOSIT,
    WITHDRAWAL,
    Hit,
    Subject,
    Window,
    money,
)
from apps.compliance.kinds.reading import (
    Posting,
    bounds,
    day_sums,
    deposits,
    listed,
    slice_key,
    threshold_evidence,
    threshold_in,
)
from apps.core.money import ROUNDING
from apps.wallet.events import PostingEvent

# --- the kinds ------------------------------------------------------------------------------------------------


def _of(subject: Subject, type: str) -> PostingEvent | None:
    event = subject.event
    return event if event is not None and event.type == type and event.player_id == subject.player_id else None


def _posting(event: PostingEvent) -> Posting:
    return Posting(event.transaction_id, event.type, event.amount, event.created_at, event.instrument_fingerprint)


def amount_window(s: Subject, p: dict[str, Any]) -> list[Hit]:
    """Sum of deposits in the window >= amount; evaluated on each deposit."""
    event, window = _of(s, DEPOSIT), p["window"]
    limit = threshold_in(p["amount"], s.currency)
    if event is None or limit is None:
        return []
    span = bounds(s, window, event.created_at)
    days = day_sums(s, span.first_day, span.last_day)
    total, count, items = days["deposits"], int(days["deposit_count"]), [_posting(event)]
    if total < limit:  # the days' total bounds the hour window's: no ledger read
        return []
    if window.unit == "h":
        items = deposits(s, span)
        total, count = sum((x.amount for x in items), Decimal(0)), len(items)
        if total < limit:
            return []
    evidence = {
        **span.evidence(window, s.zone),
        **threshold_evidence(p["amount"], limit, s.currency),
        "deposits": money(total, s.currency),
        "deposit_count": count,
        "transactions": listed(items, s.currency),
    }
    return [Hit(slice_key(window, s), evidence, event.transaction_id)]


def count_window(s: Subject, p: dict[str, Any]) -> list[Hit]:
    """Number of deposits (of at least ``min_amount``, if given) in the window >= count; on each such deposit."""
    event, window, minimum = _of(s, DEPOSIT), p["window"], p["min_amount"]
    if event is None:
        return []
    floor = threshold_in(minimum, s.currency) if minimum is not None else Decimal(0)
    if floor is None or event.amount < floor:
        return []
    span = bounds(s, window, event.created_at)
    days = day_sums(s, span.first_day, span.last_day)
    if days["deposit_count"] < p["count"]:
        return []
    if window.unit == "d" and minimum is None:
        count, total, items = int(days["deposit_count"]), days["deposits"], [_posting(event)]
    else:
        items = [x for x in deposits(s, span) if x.amount >= floor]
        count, total = len(items), sum((x.amount for x in items), Decimal(0))
    if count < p["count"]:
        return []
    evidence: dict[str, Any] = {
        **span.evidence(window, s.zone),
        "deposit_count": count,
        "count_threshold": p["count"],
        "deposits": money(total, s.currency),
        "transactions": listed(items, s.currency),
    }
    if minimum is not None:
        evidence["min_amount"] = str(minimum)
        if minimum.currency != s.currency:
            evidence["min_amount_in_currency"] = money(floor, s.currency)
    return [Hit(slice_key(window, s), evidence, event.transaction_id)]


def structuring(s: Subject, p: dict[str, Any]) -> list[Hit]:
    """At least ``count`` deposits in the window each within ``percent`` under ``threshold`` (below it, never at
    it: a deposit at the threshold is not avoiding it); on each deposit in that band."""
    event, window = _of(s, DEPOSIT), p["window"]
    limit = threshold_in(p["threshold"], s.currency)
    if event is None or limit is None:
        return []
    low = limit * (100 - p["percent"]) / 100
    if not low <= event.amount < limit:
        return []
    span = bounds(s, window, event.created_at)
    if day_sums(s, span.first_day, span.last_day)["deposit_count"] < p["count"]:
        return []
    items = [x for x in deposits(s, span) if low <= x.amount < limit]
    if len(items) < p["count"]:
        return []
    evidence = {
        **span.evidence(window, s.zone),
        **threshold_evidence(p["threshold"], limit, s.currency),
        "band": f"{money(low, s.currency)} to under {money(limit, s.currency)}",
        "percent": str(p["percent"]),
        "deposit_count": len(items),
        "count_threshold": p["count"],
        "deposits": money(sum((x.amount for x in items), Decimal(0)), s.currency),
        "transactions": listed(items, s.currency),
    }
    return [Hit(slice_key(window, s), evidence, event.transaction_id)]


def little_play(s: Subject, p: dict[str, Any]) -> list[Hit]:
    """At a withdrawal request: cash wagered in the window < k x deposits in it (and the deposits reach
    ``min_deposits``, if given). Cash only: stakes of bonus funds do not launder deposited money."""
    event, window = _of(s, WITHDRAWAL), p["window"]
    if event is None:
        return []
    floor = threshold_in(p["min_deposits"], s.currency) if p["min_deposits"] is not None else Decimal(0)
    if floor is None:
        return []
    span = bounds(s, window, event.created_at)
    days = day_sums(s, span.first_day, span.last_day)
    deposits, wagered = days["deposits"], days["stakes"] - days["bonus_stakes"]
    required = (deposits * p["k"]).quantize(Decimal("0.0001"), rounding=ROUNDING)
    if deposits <= 0 or deposits < floor or wagered >= required:
        return []
    evidence = {
        **span.evidence(window, s.zone),
        "deposits": money(deposits, s.currency),
        "deposit_count": int(days["deposit_count"]),
        "wagered": money(wagered, s.currency),
        "k": str(p["k"]),
        "wagering_expected": money(required, s.currency),
        "withdrawal": money(event.amount, s.currency),
        "transactions": [_posting(event).evidence(s.currency)],
    }
    if p["min_deposits"] is not None:
        evidence["min_deposits"] = str(p["min_deposits"])
    return [Hit(f"withdrawal:{event.transaction_id}", evidence, event.transaction_id)]


def many_instruments(s: Subject, p: dict[str, Any]) -> list[Hit]:
    """Distinct payment instruments of the deposits in the window >= count; on each deposit with an instrument."""
    event, window = _of(s, DEPOSIT), p["window"]
    if event is None or not event.instrument_fingerprint:
        return []
    span = bounds(s, window, event.created_at)
    if day_sums(s, span.first_day, span.last_day)["deposit_count"] < p["count"]:
        return []
    latest: dict[str, Posting] = {}
    for x in deposits(s, span):
        if x.instrument:
            latest.pop(x.instrument, None)
            latest[x.instrument] = x  # ordered by each instrument's latest use
    if len(latest) < p["count"]:
        return []
    items = list(latest.values())
    evidence = {
        **span.evidence(window, s.zone),
        "instrument_count": len(latest),
        "count_threshold": p["count"],
        "instruments": [x.instrument[:12] for x in items],
        "transactions": listed(items, s.currency),
    }
    return [Hit(slice_key(window, s), evidence, event.transaction_id)]


def spike(s: Subject, p: dict[str, Any]) -> list[Hit]:
    """A deposit >= k x the average deposit of the history window before it, once there are ``min_history``
    earlier deposits in it (and the deposit is at least ``min_amount``, if given)."""
    event, window = _of(s, DEPOSIT), p["history"]
    if event is None:
        return []
    floor = threshold_in(p["min_amount"], s.currency) if p["min_amount"] is not None else Decimal(0)
    if floor is None or event.amount < floor:
        return []
    span = bounds(s, window, event.created_at)
    days = day_sums(s, span.first_day, span.last_day)
    prior_count, prior_sum = int(days["deposit_count"]) - 1, days["deposits"] - event.amount
    if prior_count < p["min_history"] or prior_sum <= 0:
        return []
    average = prior_sum / prior_count
    if event.amount < p["k"] * average:
        return []
    evidence = {
        **span.evidence(window, s.zone),
        "deposit": money(event.amount, s.currency),
        "average_deposit": money(average, s.currency),
        "history_deposit_count": prior_count,
        "k": str(p["k"]),
        "spike_threshold": money(p["k"] * average, s.currency),
        "transactions": [_posting(event).evidence(s.currency)],
    }
    return [Hit(f"deposit:{event.transaction_id}", evidence, event.transaction_id)]


def rapid_in_out(s: Subject, p: dict[str, Any]) -> list[Hit]:
    """A withdrawal request within ``hours`` of a deposit it is at least ``share`` of (the most recent one)."""
    event = _of(s, WITHDRAWAL)
    if event is None:
        return []
    window = Window(p["hours"], "h")
    span = bounds(s, window, event.created_at)
    if day_sums(s, span.first_day, span.last_day)["deposit_count"] <= 0:
        return []
    matching = [x for x in deposits(s, span) if event.amount >= p["share"] * x.amount]
    if not matching:
        return []
    deposit = matching[-1]
    evidence = {
        **span.evidence(window, s.zone),
        "deposit": money(deposit.amount, s.currency),
        "withdrawal": money(event.amount, s.currency),
        "share": str(p["share"]),
        "minutes_between": int((event.created_at - deposit.created_at).total_seconds() // 60),
        "transactions": [deposit.evidence(s.currency), _posting(event).evidence(s.currency)],
    }
    return [Hit(f"withdrawal:{event.transaction_id}", evidence, event.transaction_id)]
