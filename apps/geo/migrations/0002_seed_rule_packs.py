"""Rule packs of ../shared/DESIGN.md §4 as data, and a few markets blocked as data (US outside NJ, FR, ...)."""

from datetime import UTC, datetime

from django.db import migrations

UTC = UTC
START = datetime(2026, 1, 1, tzinfo=UTC)
GB_SLOTS = [
    {"game_category": "slots", "max_stake": "5.00", "currency": "GBP", "min_age": 25},
    {"game_category": "slots", "max_stake": "2.00", "currency": "GBP", "min_age": 18, "max_age": 24},
]
GB = dict(
    licensed=True,
    min_age=18,
    allowed_currencies=["GBP"],
    verify_identity_before_deposit=True,
    cdd_threshold="2000.00",
    cdd_currency="EUR",
    self_exclusion_register="gamstop",
    self_exclusion_terms=["6m", "1y", "5y"],
    timeout_min_hours=24,
    timeout_max_hours=24 * 42,
    limit_increase_cooling_off_hours=24,
    stake_caps=GB_SLOTS,
    min_spin_seconds="2.5",
)
PACKS = {
    # code: (name, effective_from, fields)
    "GB": [
        ("United Kingdom", datetime(2025, 5, 21, tzinfo=UTC), GB),
        # from 19 Jan 2026: bonus wagering capped at 10x
        ("United Kingdom", datetime(2026, 1, 19, tzinfo=UTC), {**GB, "bonus_wagering_cap": 10}),
    ],
    "MT": [
        (
            "Malta",
            START,
            dict(
                licensed=True,
                allowed_currencies=["EUR"],
                verify_identity_before_deposit=False,
                self_exclusion_terms=["6m", "1y", "5y", "permanent"],
                timeout_min_hours=24,
                timeout_max_hours=24 * 30,
            ),
        )
    ],
    "DE": [
        (
            "Germany",
            START,
            dict(
                licensed=True,
                require_presence=True,
                allowed_currencies=["EUR"],
                self_exclusion_register="oasis",
                self_exclusion_terms=["3m", "1y", "permanent"],
                timeout_min_hours=24,
                timeout_max_hours=24,
                limit_increase_cooling_off_hours=24 * 7,
                deposit_caps=[
                    {"period": "month", "amount": "1000.00", "currency": "EUR", "net": False, "cross_operator": True}
                ],
                stake_caps=[{"game_category": "slots", "max_stake": "1.00", "currency": "EUR"}],
                min_spin_seconds="5.0",
                session_break_after_minutes=60,
                session_break_minutes=5,
            ),
        )
    ],
    "SE": [
        (
            "Sweden",
            START,
            dict(
                licensed=True,
                require_presence=True,
                allowed_currencies=["SEK"],
                self_exclusion_register="spelpaus",
                self_exclusion_terms=["1m", "3m", "6m", "indefinite"],
                deposit_caps=[{"period": "any", "mandatory_own_limit": True}],
            ),
        )
    ],
    "DK": [
        (
            "Denmark",
            START,
            dict(
                licensed=True,
                require_presence=True,
                allowed_currencies=["DKK"],
                self_exclusion_register="rofus",
                self_exclusion_terms=["24h", "1m", "3m", "6m", "permanent"],
                timeout_min_hours=24,
                timeout_max_hours=24,
                deposit_caps=[{"period": "any", "mandatory_own_limit": True}],
            ),
        )
    ],
    "NL": [
        (
            "Netherlands",
            START,
            dict(
                licensed=True,
                require_presence=True,
                allowed_currencies=["EUR"],
                self_exclusion_register="cruks",
                self_exclusion_terms=["6m", "1y", "permanent"],
                limit_increase_cooling_off_hours=24 * 7,
                deposit_caps=[
                    {"period": "month", "amount": "700.00", "currency": "EUR", "net": True, "min_age": 25},
                    {
                        "period": "month",
                        "amount": "300.00",
                        "currency": "EUR",
                        "net": True,
                        "min_age": 18,
                        "max_age": 24,
                    },
                ],
                reality_check_minutes=30,
            ),
        )
    ],
    "CA-ON": [
        (
            "Ontario",
            START,
            dict(
                licensed=True,
                require_presence=True,
                min_age=19,
                allowed_currencies=["CAD"],
                self_exclusion_register="igo",
                self_exclusion_terms=["6m", "1y", "5y"],
                timeout_min_hours=24,
                timeout_max_hours=24 * 90,
            ),
        )
    ],
    "US-NJ": [
        (
            "New Jersey",
            START,
            dict(
                licensed=True,
                require_presence=True,
                min_age=21,
                allowed_currencies=["USD"],
            ),
        )
    ],
    # Unlicensed markets, blocked as data: the United States outside New Jersey, France, and OFAC-sanctioned
    # countries (also high risk for AML).
    "US": [("United States (unlicensed states)", START, dict(registration_blocked=True, visiting_blocked=True))],
    "FR": [("France", START, dict(registration_blocked=True, visiting_blocked=True))],
    "IR": [("Iran", START, dict(registration_blocked=True, visiting_blocked=True, high_risk=True))],
    "KP": [("North Korea", START, dict(registration_blocked=True, visiting_blocked=True, high_risk=True))],
}


def seed(apps, schema_editor):
    Jurisdiction = apps.get_model("geo", "Jurisdiction")
    RulePack = apps.get_model("geo", "RulePack")
    GeoConfigVersion = apps.get_model("geo", "GeoConfigVersion")
    known = {f.name for f in RulePack._meta.get_fields()}  # the fixtures replay this seed on today's model
    for code, packs in PACKS.items():
        for name, effective_from, fields in packs:
            fields = {k: v for k, v in fields.items() if k in known}
            jurisdiction, _ = Jurisdiction.objects.get_or_create(code=code, defaults={"name": name})
            RulePack.objects.get_or_create(jurisdiction=jurisdiction, effective_from=effective_from, defaults=fields)
    GeoConfigVersion.objects.update_or_create(id=1, defaults={"version": 1})


class Migration(migrations.Migration):
    dependencies = [("geo", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
