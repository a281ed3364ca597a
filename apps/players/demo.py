"""Realistic demo players, fast: Faker name pools per locale, identity keys computed, rows sent with COPY.

One million players take about a minute (COPY, then PostgreSQL updating the indexes); the admin and the
eligibility benchmark run on them. Idempotent: ``seed_players(n)`` tops the demo players up to ``n``.

Registered with ``apps.core.demo`` from ``PlayersConfig.ready()``: the players seeder (``seed_demo --players N``)
and the demo platform API key, bound to the demo brand so that it sees these players (``demo_access``).
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from apps.api.models import ApiClient
from apps.api.scopes import ALL_SCOPES
from apps.api.services import api_client_create, api_client_revoke
from apps.audit.services import AuditActor, audit_log
from apps.core.demo import DemoCount, DemoCredentials
from apps.players import identity
from apps.players.models import Brand

# market: (share, country, region, currency, Faker locale, phone prefix, tld)
MARKETS = (
    (35, "GB", "", "GBP", "en_GB", "+447400", "co.uk"),
    (15, "DE", "", "EUR", "de_DE", "+4915112", "de"),
    (10, "SE", "", "SEK", "sv_SE", "+46701", "se"),
    (5, "DK", "", "DKK", "da_DK", "+4528", "dk"),
    (10, "NL", "", "EUR", "nl_NL", "+31612", "nl"),
    (5, "MT", "", "EUR", "en_GB", "+35679", "com.mt"),
    (10, "CA", "CA-ON", "CAD", "en_CA", "+14167", "ca"),
    (10, "US", "US-NJ", "USD", "en_US", "+12017", "com"),
)
COLUMNS = (
    "brand_id",
    "external_id",
    "username",
    "email",
    "first_name",
    "last_name",
    "date_of_birth",
    "gender",
    "phone",
    "address_line",
    "city",
    "postal_code",
    "country",
    "region",
    "currency",
    "language",
    "registration_ip",
    "registration_ip_country",
    "created_at",
    "updated_at",
    "vip_tier",
    "affiliate_tag",
    "marketing_email",
    "marketing_sms",
    "marketing_phone",
    "marketing_post",
    "terms_version",
    "terms_accepted_at",
    "status",
    "status_reason",
    "blocked_deposit",
    "blocked_bet",
    "blocked_withdrawal",
    "blocked_bonus",
    "blocked_marketing",
    "identity_fingerprint",
    "email_hash",
    "phone_hash",
)
PREFIX = "demo-"
DEMO_BRAND_CODE = "demo-casino"
DEMO_API_CLIENT = "Demo platform"
PLAYERS_COUNT = DemoCount("players", 3000, "top demo players up to this many (COPY)")


def demo_brand() -> Brand:
    """The brand the demo players and the demo API key belong to."""
    brand, _ = Brand.objects.get_or_create(code=DEMO_BRAND_CODE, defaults={"name": "Demo Casino"})
    return brand


def _pools(rng: random.Random) -> list[dict[str, Any]]:
    from faker import Faker  # only when seeding: the app registers this module at every start-up

    pools = []
    for share, country, region, currency, locale, phone, tld in MARKETS:
        fake = Faker(locale)
        fake.seed_instance(rng.randint(0, 2**31))
        pools.append(
            {
                "share": share,
                "country": country,
                "region": region,
                "currency": currency,
                "phone": phone,
                "tld": tld,
                "language": locale.split("_")[0],
                "first": [fake.first_name() for _ in range(300)],
                "last": [fake.last_name() for _ in range(300)],
                "street": [fake.street_address() for _ in range(200)],
                "city": [fake.city() for _ in range(100)],
                "postcode": [fake.postcode() for _ in range(200)],
            }
        )
    return pools


def vacuum_players() -> None:
    """After a bulk load, outside any transaction: VACUUM sets hint bits and the visibility map (so eligibility
    reads are index-only scans) and ANALYZE refreshes the estimate the admin's paginator reads. Both need the
    table's owner: on the owner's connection where this process has one (the application's role is skipped)."""
    from django.db import connections

    from apps.core.dbroles import owner_alias

    conn = connections[owner_alias()]
    with conn.cursor() as cursor:
        if conn.in_atomic_block:  # VACUUM cannot run in a transaction (e.g. inside a test): analyse only
            cursor.execute("ANALYZE players_player")
        else:
            cursor.execute("VACUUM (ANALYZE) players_player")


def demo_player_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM players_player WHERE external_id LIKE %s", [PREFIX + "%"])
        return int(cursor.fetchone()[0])


def demo_gender(i: int) -> str:
    """The i-th demo player's gender, from its number alone (the random stream stays as it was): about 48 % female,
    49 % male, 1 % other and 2 % not recorded."""
    bucket = (i * 7919) % 100
    return "female" if bucket < 48 else "male" if bucket < 97 else "other" if bucket < 98 else ""


@transaction.atomic
def seed_players(n: int, *, actor: AuditActor | None, seed: int = 7) -> int:
    """Top the demo players up to ``n``; returns how many were added."""
    existing = demo_player_count()
    if existing >= n:
        return 0
    rng = random.Random(seed + existing)
    pools = _pools(rng)
    weights = [p["share"] for p in pools]
    brand_id = demo_brand().pk
    now = timezone.now()
    today = now.date()
    connection.ensure_connection()
    raw = connection.connection
    with raw.cursor() as cursor, cursor.copy(f"COPY players_player ({', '.join(COLUMNS)}) FROM STDIN") as copy:
        for i in range(existing, n):
            p = rng.choices(pools, weights)[0]
            first, last = rng.choice(p["first"]), rng.choice(p["last"])
            dob = today - timedelta(days=rng.randint(19 * 366 + 200, 75 * 365))
            email = f"{identity.normalise_name(first)}.{identity.normalise_name(last)}.{i}@example.{p['tld']}"
            phone = f"{p['phone']}{rng.randint(0, 999_999):06d}"
            created = now - timedelta(minutes=rng.randint(0, 3 * 365 * 24 * 60))
            consent = rng.random() < 0.6
            copy.write_row(
                (
                    brand_id,
                    f"{PREFIX}{i:07d}",
                    f"{identity.normalise_name(first)}{i}",
                    email,
                    first,
                    last,
                    dob,
                    demo_gender(i),
                    phone,
                    rng.choice(p["street"]),
                    rng.choice(p["city"]),
                    rng.choice(p["postcode"]),
                    p["country"],
                    p["region"],
                    p["currency"],
                    p["language"],
                    None,
                    "",
                    created,
                    created,
                    rng.choice(("", "", "", "bronze", "silver", "gold")),
                    "",
                    consent,
                    consent and rng.random() < 0.5,
                    False,
                    False,
                    "2026-01",
                    created,
                    "active",
                    "",
                    False,
                    False,
                    False,
                    False,
                    False,
                    identity.fingerprint(first, last, dob),
                    identity.email_hash(email),
                    identity.phone_hash(phone),
                )
            )
    added = n - existing
    audit_log(actor=actor, action="demo.players_seeded", data={"added": added, "total": n})
    return added


def seed_demo_players(*, actor: AuditActor | None, count: int | None) -> list[str]:
    """The players seeder: top the demo players up to ``count``, then VACUUM what was loaded."""
    wanted = PLAYERS_COUNT.default if count is None else count
    added = seed_players(wanted, actor=actor)
    if added:
        vacuum_players()
    return [f"players: {added} added (demo players now at least {wanted})"]


def demo_api_key(*, actor: AuditActor | None) -> DemoCredentials:
    """A fresh demo platform API key with every scope, bound to the demo brand; the previous one is revoked."""
    for old in ApiClient.objects.filter(name=DEMO_API_CLIENT, revoked=False):
        api_client_revoke(actor=actor, client=old, reason="replaced by a new demo key")
    _client, key = api_client_create(actor=actor, name=DEMO_API_CLIENT, scopes=ALL_SCOPES, brands=[demo_brand()])
    return DemoCredentials(
        lines=[
            "Demo platform API key (all scopes):",
            f"  curl -H 'Authorization: Api-Key {key}' http://127.0.0.1:8000/api/v1/client/",
            "API docs: http://127.0.0.1:8000/api/docs/",
        ],
        values={"api_key": key},
    )
