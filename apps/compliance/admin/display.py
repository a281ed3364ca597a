"""How a case reads to an analyst: its SLA in words and as a badge, an alert's evidence in sentences (amounts with
their currency, the window, the transactions), and a timeline event's line."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.html import format_html

from apps.compliance.choices import CaseEventKind, CaseState, Outcome, SlaState, WaitingOn
from apps.compliance.models import Case, CaseEvent
from apps.core.templatetags.money import format_money

# unfold has no 800 text shades for green and orange: inline, as the KYC queue does (contrast on the 100 fills)
SLA_TONES = {
    SlaState.ON_TRACK: ("bg-green-100", "color: var(--color-green-800)"),
    SlaState.AT_RISK: ("bg-orange-100", "color: var(--color-orange-800)"),
    SlaState.BREACHED: ("bg-red-100 text-red-700", ""),
}
STATE_TONES = {
    CaseState.NEW: "bg-base-100",
    CaseState.ASSIGNED: "bg-base-100",
    CaseState.IN_PROGRESS: "bg-primary-100",
    CaseState.WAITING: "bg-base-100",
    CaseState.PENDING_APPROVAL: "bg-orange-100",
    CaseState.ESCALATED: "bg-red-100",
    CaseState.CLOSED: "bg-base-100",
}


def span(delta: timedelta) -> str:
    """``3 days 4 hours``, ``5 hours``, ``12 minutes``: the two largest units, as an analyst says it."""
    seconds = int(abs(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = []
    if days:
        parts.append(f"{days} day{'s' if days != 1 else ''}")
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if not days and (minutes or not parts):
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return " ".join(parts[:2])


def sla_words(case: Case, now: datetime | None = None) -> str:
    """Where the case stands against its SLA: "due in 5 hours", "overdue by 2 days", "paused (waiting for the
    player)", "closed"."""
    now = now or timezone.now()
    if case.state == CaseState.CLOSED:
        return "closed"
    if case.state == CaseState.WAITING or case.paused_at is not None:
        who = WaitingOn(case.waiting_on).label.lower() if case.waiting_on in WaitingOn.values else "a reply"
        return f"paused (waiting for {who})"
    if case.due_at <= now:
        return f"overdue by {span(now - case.due_at)}"
    return f"due in {span(case.due_at - now)}"


def sla_badge(case: Case) -> str:
    state = case.sla_state if case.sla_state in SLA_TONES else SlaState.ON_TRACK
    fill, colour = SLA_TONES[state]  # type: ignore[index]
    return format_html(
        '<span class="case-sla case-sla-{} inline-block px-2 py-0.5 rounded font-semibold text-xs {}" style="{}">'
        "{}</span>",
        state,
        fill,
        colour,
        SlaState(state).label,
    )


def state_badge(case: Case) -> str:
    label = case.get_state_display()
    if case.state == CaseState.CLOSED and case.outcome:
        label = f"Closed: {Outcome(case.outcome).label.lower()}"
    return format_html(
        '<span class="case-state case-state-{} inline-block px-2 py-0.5 rounded text-xs font-medium {}">{}</span>',
        case.state,
        STATE_TONES.get(case.state, ""),  # type: ignore[call-overload]
        label,
    )


# --- evidence in words ---------------------------------------------------------------------------------------
# The kinds (apps/compliance/kinds/) store amounts already in words ("1000.00 GBP"), windows as "24h" or "30d",
# instants in ISO 8601 UTC and the transactions as {id, type, amount, at, instrument}: here they become sentences.

LABELS = {
    "window": "Window",
    "window_start": "From",
    "window_end": "To",
    "first_day": "First day",
    "last_day": "Last day",
    "time_zone": "Days in the time zone",
    "threshold": "Threshold",
    "threshold_in_currency": "Threshold in the player's currency",
    "deposits": "Deposits in the window",
    "deposit_count": "Number of deposits",
    "count_threshold": "Number that raises an alert",
    "min_amount": "Counting deposits of at least",
    "min_amount_in_currency": "That is, in the player's currency",
    "band": "Just under the threshold",
    "percent": "Band under the threshold",
    "wagered": "Wagered (cash)",
    "k": "Factor",
    "wagering_expected": "Wagering expected",
    "withdrawal": "Withdrawal asked",
    "deposit": "Deposit",
    "instrument_count": "Payment instruments used",
    "instruments": "Instruments (fingerprints)",
    "average_deposit": "30-day average deposit",
    "history_deposit_count": "Deposits in the 30 days before",
    "spike_threshold": "Spike threshold",
    "share": "Share withdrawn",
    "minutes_between": "Minutes between deposit and withdrawal",
    "residence": "Country of residence",
    "reasons": "Why",
    "high_risk_countries": "High-risk countries",
    "ip_country": "IP country",
    "login_count": "Logins from there",
    "identifier": "Shared identifier",
    "value": "Value",
    "other_players": "Other players",
    "other_player_count": "Number of other players",
    "min_other_players": "Number that raises an alert",
    "logins": "Logins",
    "flag_count": "Bonus-abuse flags in the window",
    "flag_kinds": "Flags counted",
    "flags": "Flags",
    "bonus": "Bonus",
}
# the reasons apps/compliance/kinds/swept.py writes (country_mismatch)
REASON_WORDS = {
    "residence_high_risk": "the country of residence is on the high-risk list",
    "ip_country_high_risk": "logins from a high-risk country",
    "ip_country_differs": "logins from a country other than the residence",
}
WINDOW = re.compile(r"^([1-9][0-9]{0,3})([hd])$")


def window_words(value: str) -> str:
    match = WINDOW.match(value)
    if not match:
        return value
    n, unit = int(match.group(1)), "hour" if match.group(2) == "h" else "day"
    return f"{n} {unit}{'s' if n != 1 else ''}"


def instant_words(value: str) -> str:
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if at.tzinfo is None:
        return value
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M")


def _label(key: str) -> str:
    return LABELS.get(key) or key.replace("_", " ").capitalize()


def _value(key: str, value: Any) -> str:
    if key == "window" and isinstance(value, str):
        return window_words(value)
    if key in ("window_start", "window_end", "at") and isinstance(value, str):
        return instant_words(value)
    if key in ("percent", "share") and isinstance(value, str | int | float):
        return f"{value}%" if key == "percent" else str(value)
    if key == "reasons" and isinstance(value, list):
        return "; ".join(REASON_WORDS.get(str(v), str(v).replace("_", " ")) for v in value)
    if isinstance(value, list):
        shown = [_item(v) for v in value[:20]]
        more = f" and {len(value) - 20} more" if len(value) > 20 else ""
        return ", ".join(shown) + more
    if isinstance(value, dict):
        return _item(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return money_words(value) if isinstance(value, str) else str(value)


def _item(value: Any) -> str:
    """One listed thing: ``#12`` for its number, its description (``what``) as it is, other fields labelled."""
    if isinstance(value, dict):
        return " ".join(
            f"#{v}"
            if k in ("id", "player", "external_id")
            else str(v)
            if k == "what"
            else f"{_label(k).lower()} {_value(k, v)}"
            for k, v in value.items()
        )
    return str(value)


# the order an analyst reads them in (the database's jsonb keeps keys by length, not as the rule wrote them)
ORDER = (
    "window",
    "period",
    "first_day",
    "last_day",
    "time_zone",
    "threshold",
    "threshold_in_currency",
    "band",
    "percent",
    "deposits",
    "deposit_count",
    "count_threshold",
    "min_amount",
    "min_amount_in_currency",
    "wagered",
    "k",
    "wagering_expected",
    "deposit",
    "average_deposit",
    "history_deposit_count",
    "spike_threshold",
    "withdrawal",
    "share",
    "minutes_between",
    "instrument_count",
    "instruments",
    "residence",
    "ip_country",
    "reasons",
    "high_risk_countries",
    "login_count",
    "identifier",
    "value",
    "flag_count",
    "flag_kinds",
    "flags",
    "other_players",
    "other_player_count",
    "min_other_players",
)
LABELS["period"] = "Period"
MONEY_TEXT = re.compile(r"^(-?[0-9]+(?:\.[0-9]+)?) ([A-Z]{3})$")


def money_words(value: str) -> str:
    """``1050.00 GBP`` (how the kinds store an amount) as the admin writes money everywhere: ``GBP 1,050.00``."""
    match = MONEY_TEXT.match(value)
    return format_money(match.group(1), match.group(2)) if match else value


def evidence_rows(evidence: Any) -> list[tuple[str, str]]:
    """An alert's evidence as (label, words) rows, in reading order; its transactions are listed on their own
    (``evidence_transactions``)."""
    if not isinstance(evidence, dict):
        return [("Evidence", str(evidence))] if evidence else []
    values = {k: v for k, v in evidence.items() if k not in ("transactions", "transaction_ids")}
    start, end = values.pop("window_start", None), values.pop("window_end", None)
    if start or end:
        values["period"] = f"{instant_words(str(start or ''))} to {instant_words(str(end or ''))}"
    rank = {key: i for i, key in enumerate(ORDER)}
    keys = sorted(values, key=lambda k: (rank.get(k, len(ORDER)), k))
    return [(_label(key), _value(key, values[key])) for key in keys]


def evidence_transactions(evidence: Any) -> list[dict[str, str]]:
    """The transactions an alert's evidence names, as they were when it fired: number, type, amount, when."""
    found = evidence.get("transactions") if isinstance(evidence, dict) else None
    rows = []
    for item in found if isinstance(found, list) else []:
        if isinstance(item, dict):
            rows.append(
                {
                    "id": str(item.get("id", "")),
                    "type": str(item.get("type", "")).replace("_", " ").capitalize(),
                    "amount": money_words(str(item.get("amount", ""))),
                    "at": instant_words(str(item.get("at", ""))),
                    "instrument": str(item.get("instrument", "")),
                }
            )
    return rows


# --- the timeline ----------------------------------------------------------------------------------------------

EVENT_WORDS = {
    CaseEventKind.OPENED: "opened the case",
    CaseEventKind.ALERT_LINKED: "linked an alert",
    CaseEventKind.ASSIGNED: "assigned",
    CaseEventKind.STATE: "changed the state",
    CaseEventKind.NOTE: "added a note",
    CaseEventKind.ATTACHMENT: "attached a file",
    CaseEventKind.TRANSACTION_LINKED: "linked a transaction",
    CaseEventKind.PLAYER_LINKED: "linked a player",
    CaseEventKind.ACTION: "took an action",
    CaseEventKind.SLA: "SLA",
    CaseEventKind.ESCALATED: "escalated to the MLRO",
    CaseEventKind.APPROVAL: "second approval",
    CaseEventKind.CLOSED: "closed the case",
    CaseEventKind.REOPENED: "reopened the case",
}
STATE_LABELS = dict(CaseState.choices)


def event_line(event: CaseEvent) -> str:
    """What happened, in words: "In progress → Waiting for information (clock paused)", "Asked for a second
    approval (confirmed)", "Second approval given"."""
    data = event.data if isinstance(event.data, dict) else {}
    if event.kind == CaseEventKind.STATE and data.get("old") and data.get("new"):
        line = f"{STATE_LABELS.get(data['old'], data['old'])} → {STATE_LABELS.get(data['new'], data['new'])}"
        if data.get("clock") == "paused":
            line += " (SLA clock paused)"
        elif data.get("clock") == "running":
            line += " (SLA clock running again)"
        return line
    if event.kind == CaseEventKind.APPROVAL:
        if data.get("asked"):
            return "Closing as confirmed: asked for a second person's approval"
        return "Second approval given: closed as confirmed" if data.get("approved") else "Second approval refused"
    if event.kind == CaseEventKind.CLOSED and data.get("outcome"):
        return f"Closed: {Outcome(data['outcome']).label.lower()}" if data["outcome"] in Outcome.values else "Closed"
    return EVENT_WORDS.get(event.kind, event.kind).capitalize()  # type: ignore[call-overload]
