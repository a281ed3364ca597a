"""A segment count over the million bench players (issue 15's goal: <= 1 s), against ``SELECT count(*) FROM
players_player`` measured in the same run.

The players are bench.players'; their day rollups are seeded once with SQL (a third of the players, three days
each: this week, last month, last year; deposits, stakes and wins from the id) and a tag on every 50th player.
Each segment is compiled by apps.crm (the query the admin's preview and the snapshot run) and timed three
ways: the planner's estimate (EXPLAIN, what the preview shows above 200,000 rows), the exact COUNT, and the
preview as the admin runs it (EXPLAIN, then COUNT when small, and the sample of 20). Medians of 5 after a
warm-up. Only players, rollups, KYC profiles and tags are read.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from django.db import connection

from apps.crm import selectors, services
from bench.players import ensure_players

REPEATS = 5
SEGMENTS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("GB, e-mail consent", {"country": ["GB"], "consent": {"email": True}}),
    ("lifetime deposits >= 100", {"deposits": {"min": "100"}}),
    (
        "lapsed: no login in 90 days, deposits <= 50 in 30 days",
        {
            "last_login": {"not_within_days": 90},
            "deposits": {"max": "50", "days": 30},
        },
    ),
    (
        "VIP: GGR >= 200 in 365 days, KYC >= 2, tag vip, gold or platinum",
        {
            "ggr": {"min": "200", "days": 365},
            "kyc_level": {"min": 2},
            "tags": {"any": ["vip"]},
            "vip_tier": ["gold", "platinum", ""],
        },
    ),
    (
        "everything: jurisdiction, registered, consent, deposits, GGR, KYC",
        {
            "jurisdiction": ["GB", "MT", "SE"],
            "registered": {"from": "2020-01-01"},
            "consent": {"email": True},
            "deposits": {"min": "10"},
            "ggr": {"min": "-100000", "max": "100000"},
            "kyc_level": {"min": 1, "max": 3},
        },
    ),
)
SEED_ROLLUPS = """
INSERT INTO wallet_player_day (player_id, currency, day, deposits, deposit_count, withdrawals, withdrawal_count,
    withdrawals_paid, stakes, bonus_stakes, bet_count, wins, bonus_wins, win_count, bonus_awarded, bonus_converted,
    bonus_forfeited, adjustments)
SELECT p.id, p.currency, current_date - back, (p.id % 97) * 3, 1, 0, 0, 0, (p.id % 89) * 5, 0, 10,
       (p.id % 83) * 4, 0, 3, 0, 0, 0, 0
FROM players_player p CROSS JOIN (VALUES (2), (35), (300)) AS days(back)
WHERE p.external_id LIKE 'demo-%' AND p.id % 3 = 0
ON CONFLICT DO NOTHING
"""


def _median(fn: Callable[[], object]) -> float:
    fn()  # warm-up: caches, plans
    samples = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def _scalar(sql: str, params: tuple[Any, ...] = ()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.fetchone()[0])


def _count(query: Any) -> int:
    with selectors.segment_session():  # the settings the preview and the snapshot run with
        return _scalar(f"SELECT count(*) FROM ({query.sql}) AS s", query.params)


def _ensure_data() -> None:
    if _scalar("SELECT count(*) FROM (SELECT 1 FROM wallet_player_day LIMIT 1000) AS d") < 1000:
        print("seeding day rollups for a third of the players (once; kept)...", flush=True)
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(SEED_ROLLUPS)
            cursor.execute("ANALYZE wallet_player_day")
        print(f"  seeded in {time.perf_counter() - started:.0f} s", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO players_tag (name) VALUES ('vip') ON CONFLICT DO NOTHING")
        cursor.execute(
            "INSERT INTO players_player_tags (player_id, tag_id) SELECT p.id, t.id FROM players_player p, players_tag t"
            " WHERE t.name = 'vip' AND p.id % 50 = 0 AND NOT EXISTS (SELECT 1 FROM players_player_tags x"
            " WHERE x.player_id = p.id AND x.tag_id = t.id)"
        )
        # statistics as autovacuum would have them: a freshly seeded table has none and the planner guesses
        for table in ("players_player", "kyc_kycprofile", "wallet_player_day", "players_player_tags"):
            cursor.execute(f"ANALYZE {table}")


def run() -> None:
    players = ensure_players()
    _ensure_data()
    rollups = _scalar("SELECT count(*) FROM wallet_player_day")
    baseline = _median(lambda: _scalar("SELECT count(*) FROM players_player"))
    print(f"\n== crm segments: a count over {players:,} players, {rollups:,} day rollups ==")
    print(f"  baseline SELECT count(*) FROM players_player: {baseline * 1e3:8.1f} ms")
    print(f"  {'segment':<66} {'members':>9} {'estimate':>9} {'EXPLAIN':>9} {'COUNT':>9} {'ratio':>6} {'preview':>9}")
    for label, raw in SEGMENTS:
        criteria = services.validated_criteria(raw, currency="EUR")
        query = selectors.segment_query(criteria, currency="EUR")
        members = _scalar(f"SELECT count(*) FROM ({query.sql}) AS s", query.params)
        estimate = selectors.planner_rows(query)
        explain = _median(lambda q=query: selectors.planner_rows(q))  # type: ignore[misc]
        exact = _median(lambda q=query: _count(q))  # type: ignore[misc]
        preview = _median(lambda c=criteria: selectors.preview(c, currency="EUR"))  # type: ignore[misc]
        print(
            f"  {label[:66]:<66} {members:>9,} {estimate:>9,} {explain * 1e3:7.1f}ms {exact * 1e3:7.0f}ms "
            f"{exact / baseline:5.1f}x {preview * 1e3:7.0f}ms"
        )
    print("  goal: a segment count <= 1 s (COUNT column); ratio = COUNT / baseline, same run")
    for label, raw in (SEGMENTS[0], SEGMENTS[2]):
        print(f"  snapshot (members written, then rolled back) of {label}: {_snapshot_seconds(raw):.1f} s")
    rows, seconds = _export_seconds({"country": ["MT"]})
    print(
        f"  marketing export (e-mail) of the MT players (no register before marketing): {rows:,} rows in "
        f"{seconds:.1f} s, {rows / seconds:,.0f} rows/s"
    )


def _export_seconds(raw: dict[str, Any]) -> tuple[int, float]:
    """The export's lines of a dynamic segment, consent and can() checked batch by batch; rolled back (the
    segment and the export's audit events)."""
    from django.db import transaction

    from apps.crm.models import Segment

    with transaction.atomic():
        segment = Segment.objects.create(name="bench export", criteria=raw)
        started = time.perf_counter()
        lines = services.marketing_export(actor=_Exporter(), segment=segment, channel="email")
        rows = sum(1 for _ in lines) - 1
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return rows, elapsed


class _Exporter:
    """A staff member holding the export permission, as far as the service asks."""

    def has_perm(self, permission: str) -> bool:
        return True

    def audit_identity(self) -> tuple[str, str, str]:
        return ("system", "", "bench")


def _snapshot_seconds(raw: dict[str, Any]) -> float:
    """One snapshot from empty, the members inserted in one statement; rolled back so the bench database keeps
    no segment."""
    from django.db import transaction

    from apps.audit.services import SystemActor
    from apps.crm.models import Segment

    with transaction.atomic():
        segment = Segment.objects.create(name="bench snapshot", criteria=raw, currency="EUR")
        started = time.perf_counter()
        services.segment_snapshot(actor=SystemActor("bench"), segment=segment)
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed
