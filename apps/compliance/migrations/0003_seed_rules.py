"""The seed rules of DESIGN §4, published by the system (apps/compliance/seeds.py explains them).

Frozen: the rules as this migration wrote them; later edits of seeds.py do not change history. A rule whose code
exists is left alone, so the migration is safe to run on a database where someone created one by hand."""

from datetime import UTC, datetime

from django.db import migrations

# (code, name, kind, params, score, priority, description, case type)
SEEDS = [
    (
        "structuring-under-cdd",
        "Structuring under the CDD threshold",
        "structuring",
        {"threshold": {"amount": "2000.00", "currency": "EUR"}, "percent": "15", "count": 3, "window": "7d"},
        80,
        "high",
        "Three or more deposits in 7 days each within 15% under EUR 2,000, the CDD threshold.",
        "aml",
    ),
    (
        "little-play-withdrawal",
        "Deposit, little play, withdrawal",
        "little_play",
        {"k": "1", "window": "30d", "min_deposits": {"amount": "200.00", "currency": "EUR"}},
        60,
        "medium",
        "A withdrawal request when the cash wagered in 30 days is under 1x the deposits (from EUR 200 deposited).",
        "aml",
    ),
    (
        "many-instruments-7d",
        "Many payment instruments in 7 days",
        "many_instruments",
        {"count": 3, "window": "7d"},
        60,
        "medium",
        "Deposits with three or more payment instruments in 7 days.",
        "aml",
    ),
    (
        "deposit-spike",
        "Deposit spike",
        "spike",
        {"k": "10", "history": "30d", "min_history": 3, "min_amount": {"amount": "200.00", "currency": "EUR"}},
        50,
        "medium",
        "A deposit of at least 10x the 30-day average deposit (3 earlier deposits at least, from EUR 200).",
        "aml",
    ),
    (
        "ip-country-mismatch",
        "IP country differs from residence",
        "country_mismatch",
        {"residence_mismatch": True, "high_risk_countries": [], "window": "1d"},
        30,
        "low",
        "Logins from a country other than the player's residence.",
        "aml",
    ),
    (
        "high-risk-country",
        "High-risk country",
        "country_mismatch",
        {"residence_mismatch": False, "high_risk_countries": ["IR", "KP", "MM"], "window": "1d"},
        80,
        "high",
        "Residence in, or logins from, a FATF high-risk jurisdiction.",
        "aml",
    ),
    (
        "shared-device-ip-card",
        "Device, IP or card shared across players",
        "shared_identifier",
        {"identifiers": ["device", "instrument", "ip"], "min_other_players": 2, "window": "30d"},
        60,
        "medium",
        "A device or IP address (logins in 30 days) or a card (ever) used by two or more other players.",
        "aml",
    ),
    (
        "deposits-24h-high",
        "Three high deposits in 24 hours",
        "count_window",
        {"count": 3, "window": "24h", "min_amount": {"amount": "1000.00", "currency": "EUR"}},
        60,
        "high",
        "Three or more deposits of at least EUR 1,000 in 24 hours.",
        "aml",
    ),
    (
        "amount-24h",
        "Deposits over EUR 2,000 in 24 hours",
        "amount_window",
        {"amount": {"amount": "2000.00", "currency": "EUR"}, "window": "24h"},
        30,
        "low",
        "Deposits of EUR 2,000 or more in 24 hours (the UK remote casino CDD trigger).",
        "aml",
    ),
    (
        "amount-30d",
        "Deposits over EUR 10,000 in 30 days",
        "amount_window",
        {"amount": {"amount": "10000.00", "currency": "EUR"}, "window": "30d"},
        50,
        "medium",
        "Deposits of EUR 10,000 or more in 30 local days.",
        "aml",
    ),
    (
        "amount-180d",
        "Deposits over EUR 50,000 in 180 days",
        "amount_window",
        {"amount": {"amount": "50000.00", "currency": "EUR"}, "window": "180d"},
        70,
        "high",
        "Deposits of EUR 50,000 or more in 180 local days (Malta counts CDD over 180 days).",
        "aml",
    ),
    (
        "rapid-in-out",
        "Rapid in and out",
        "rapid_in_out",
        {"hours": 24, "share": "0.8"},
        60,
        "medium",
        "A withdrawal request within 24 hours of a deposit, of at least 80% of it.",
        "aml",
    ),
]


def seed(apps, schema_editor):
    rule_model = apps.get_model("compliance", "Rule")
    version_model = apps.get_model("compliance", "RuleVersion")
    now = datetime.now(UTC)
    for code, name, kind, params, score, priority, description, case_type in SEEDS:
        if rule_model.objects.filter(code=code).exists():
            continue
        rule = rule_model.objects.create(code=code, name=name, description=description, kind=kind, created_at=now)
        version_model.objects.create(
            rule=rule,
            number=1,
            kind=kind,
            params=params,
            score=score,
            case_type=case_type,
            priority=priority,
            mode="live",
            state="published",
            note="Seed rule (DESIGN §4)",
            created_at=now,
            published_at=now,
        )


class Migration(migrations.Migration):
    dependencies = [("compliance", "0002_defaults_and_roles")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
