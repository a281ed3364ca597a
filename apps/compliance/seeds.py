"""The seed rules of DESIGN §4 ("AML"), as data: installed published by the system (migration 0003_seed_rules).

Every installation, and every test database, starts with them live: the red flags the regulators name should
be watched from the first deposit, and a rule is tuned (a new version, a second person) rather than switched
on. The parameters are in their kind's canonical form (``kinds.validate`` returns them unchanged: a test says
so), so the migration needs no code beyond this module.

Thresholds: the CDD threshold is EUR 2,000 (single or linked, rolling: within 24 h for UK remote casinos, 180
days in Malta); the window amounts above it (EUR 10,000 in 30 days, EUR 50,000 in 180 days) are where a
player's volume alone deserves a look. The high-risk list is the FATF "call for action" list (operators add
their own with a new version). Bonus abuse is not seeded: it waits for the bonus engine (issue 15).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple


def eur(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "EUR"}


class Seed(NamedTuple):
    code: str
    name: str
    kind: str
    params: dict[str, Any]
    score: int
    priority: str
    description: str
    case_type: str = "aml"


HIGH_RISK_COUNTRIES = ["IR", "KP", "MM"]  # FATF high-risk jurisdictions subject to a call for action

SEEDS: tuple[Seed, ...] = (
    Seed(
        "structuring-under-cdd",
        "Structuring under the CDD threshold",
        "structuring",
        {"threshold": eur("2000.00"), "percent": "15", "count": 3, "window": "7d"},
        80,
        "high",
        "Three or more deposits in 7 days each within 15% under EUR 2,000, the CDD threshold.",
    ),
    Seed(
        "little-play-withdrawal",
        "Deposit, little play, withdrawal",
        "little_play",
        {"k": "1", "window": "30d", "min_deposits": eur("200.00")},
        60,
        "medium",
        "A withdrawal request when the cash wagered in 30 days is under 1x the deposits (from EUR 200 deposited).",
    ),
    Seed(
        "many-instruments-7d",
        "Many payment instruments in 7 days",
        "many_instruments",
        {"count": 3, "window": "7d"},
        60,
        "medium",
        "Deposits with three or more payment instruments in 7 days.",
    ),
    Seed(
        "deposit-spike",
        "Deposit spike",
        "spike",
        {"k": "10", "history": "30d", "min_history": 3, "min_amount": eur("200.00")},
        50,
        "medium",
        "A deposit of at least 10x the 30-day average deposit (3 earlier deposits at least, from EUR 200).",
    ),
    Seed(
        "ip-country-mismatch",
        "IP country differs from residence",
        "country_mismatch",
        {"residence_mismatch": True, "high_risk_countries": [], "window": "1d"},
        30,
        "low",
        "Logins from a country other than the player's residence.",
    ),
    Seed(
        "high-risk-country",
        "High-risk country",
        "country_mismatch",
        {"residence_mismatch": False, "high_risk_countries": HIGH_RISK_COUNTRIES, "window": "1d"},
        80,
        "high",
        "Residence in, or logins from, a FATF high-risk jurisdiction.",
    ),
    Seed(
        "shared-device-ip-card",
        "Device, IP or card shared across players",
        "shared_identifier",
        {"identifiers": ["device", "instrument", "ip"], "min_other_players": 2, "window": "30d"},
        60,
        "medium",
        "A device or IP address (logins in 30 days) or a card (ever) used by two or more other players.",
    ),
    Seed(
        "deposits-24h-high",
        "Three high deposits in 24 hours",
        "count_window",
        {"count": 3, "window": "24h", "min_amount": eur("1000.00")},
        60,
        "high",
        "Three or more deposits of at least EUR 1,000 in 24 hours.",
    ),
    Seed(
        "amount-24h",
        "Deposits over EUR 2,000 in 24 hours",
        "amount_window",
        {"amount": eur("2000.00"), "window": "24h"},
        30,
        "low",
        "Deposits of EUR 2,000 or more in 24 hours (the UK remote casino CDD trigger).",
    ),
    Seed(
        "amount-30d",
        "Deposits over EUR 10,000 in 30 days",
        "amount_window",
        {"amount": eur("10000.00"), "window": "30d"},
        50,
        "medium",
        "Deposits of EUR 10,000 or more in 30 local days.",
    ),
    Seed(
        "amount-180d",
        "Deposits over EUR 50,000 in 180 days",
        "amount_window",
        {"amount": eur("50000.00"), "window": "180d"},
        70,
        "high",
        "Deposits of EUR 50,000 or more in 180 local days (Malta counts CDD over 180 days).",
    ),
    Seed(
        "rapid-in-out",
        "Rapid in and out",
        "rapid_in_out",
        {"hours": 24, "share": "0.8"},
        60,
        "medium",
        "A withdrawal request within 24 hours of a deposit, of at least 80% of it.",
    ),
)


def install(registry: Any = None, *, now: datetime | None = None) -> int:
    """Create the seed rules that do not exist yet (by code), each with version 1 published by the system.
    ``registry``: the migration's app registry (historical models), or None for the live ones. Returns how
    many were created. Idempotent: a rule that exists, in any state, is left as it is."""
    if registry is None:
        from django.apps import apps as registry
    from django.utils import timezone

    rule_model = registry.get_model("compliance", "Rule")
    version_model = registry.get_model("compliance", "RuleVersion")
    now = now or timezone.now()
    created = 0
    for seed in SEEDS:
        if rule_model.objects.filter(code=seed.code).exists():
            continue
        rule = rule_model.objects.create(
            code=seed.code, name=seed.name, description=seed.description, kind=seed.kind, created_at=now
        )
        version_model.objects.create(
            rule=rule,
            number=1,
            kind=seed.kind,
            params=seed.params,
            score=seed.score,
            case_type=seed.case_type,
            priority=seed.priority,
            mode="live",
            state="published",
            note="Seed rule (DESIGN §4)",
            created_at=now,
            published_at=now,
        )
        created += 1
    return created
