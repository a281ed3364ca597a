"""Demo KYC levels: every player without a profile gets one, most verified, some not (two set statements, fast at a
million players). Players of a market that verifies before deposit or play and left at level 0 get that market's
registration requirement, as the registration service would have raised it."""

from __future__ import annotations

from django.db import connection, transaction

from apps.audit.services import AuditActor

# by player id: 0 and 1 of every 20 stay unverified and at level 1, 2 of every 20 reach level 3, the rest level 2
LEVEL_SQL = """
INSERT INTO kyc_kycprofile (player_id, level, updated_at)
SELECT p.id, CASE p.id % 20 WHEN 0 THEN 0 WHEN 1 THEN 1 WHEN 2 THEN 3 ELSE 2 END, now()
FROM players_player p
WHERE NOT EXISTS (SELECT 1 FROM kyc_kycprofile k WHERE k.player_id = p.id)
"""
REQUIREMENT_SQL = """
INSERT INTO kyc_requirement (player_id, level, trigger, state, restricts, restricts_when_overdue, due_at, detail,
                             reason, created_at)
SELECT p.id, greatest(r.kyc_level_to_deposit, r.kyc_level_to_play), 'registration', 'open',
       CASE WHEN r.kyc_level_to_deposit > 0 THEN ARRAY['bet', 'deposit', 'game_launch']
            ELSE ARRAY['bet', 'game_launch'] END::varchar(12)[],
       '{}'::varchar(12)[], p.created_at, '{}'::jsonb, 'demo: verifies before deposit or play', now()
FROM players_player p
JOIN kyc_kycprofile k ON k.player_id = p.id AND k.level = 0
JOIN geo_jurisdiction j ON j.code = CASE WHEN p.region <> '' AND EXISTS (
         SELECT 1 FROM geo_jurisdiction jr WHERE jr.code = p.region) THEN p.region ELSE p.country END
JOIN LATERAL (
    SELECT rp.kyc_level_to_deposit, rp.kyc_level_to_play FROM geo_rulepack rp
    WHERE rp.jurisdiction_id = j.id AND rp.effective_from <= now() ORDER BY rp.effective_from DESC LIMIT 1
) r ON true
WHERE greatest(r.kyc_level_to_deposit, r.kyc_level_to_play) > 0
  AND NOT EXISTS (SELECT 1 FROM kyc_requirement q WHERE q.player_id = p.id AND q.state = 'open'
                  AND q.trigger = 'registration')
"""


def seed_levels() -> tuple[int, int]:
    """(profiles added, requirements added); idempotent."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(LEVEL_SQL)
        profiles = cursor.rowcount
        cursor.execute(REQUIREMENT_SQL)
        return profiles, cursor.rowcount


def seed(*, actor: AuditActor | None, count: int | None) -> list[str]:
    profiles, requirements = seed_levels()
    return [f"kyc: {profiles} levels and {requirements} registration requirements added"]
