"""Demo KYC levels: every player without a profile gets one, most verified, some not (two set statements, fast at a
million players). Players of a market that verifies before deposit or play and left at level 0 get that market's
registration requirement, as the registration service would have raised it.

Then a review queue a KYC Officer can clear: unverified players send a passport (a drawn JPEG with their name,
birth date, a photo box and the machine-readable zone) and most a utility bill (a PDF with their address), a few
a payslip for enhanced due diligence, all through ``document_upload`` (source demo). Some reviews are backdated so
the queue shows overdue and at-risk ones; some are assigned to the demo KYC Officer (by the demo MLRO, through
``review_assign``); a few passports carry a number another account already sent (a duplicate hit)."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

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


DEMO_REVIEWS = 40
DEMO_OFFICER, DEMO_LEAD = "demo-kyc-officer", "demo-mlro"


def seed_reviews(*, actor: AuditActor | None, reviews: int = DEMO_REVIEWS) -> tuple[int, int]:
    """(documents uploaded, reviews assigned to the demo KYC Officer); tops the demo documents' reviews up to
    ``reviews`` players, so a second run adds nothing."""
    from apps.kyc import demo_documents as drawn
    from apps.kyc.choices import Source
    from apps.kyc.documents import document_upload
    from apps.kyc.models import Document, Review
    from apps.kyc.reviews import review_assign
    from apps.players.models import Player
    from apps.staff.models import StaffUser

    done = Document.objects.filter(source=Source.DEMO).values("player_id").distinct().count()
    wanted = reviews - done
    if wanted <= 0:
        return 0, 0
    players = list(Player.objects.filter(kyc__level=0).exclude(kyc_documents__isnull=False).order_by("id")[:wanted])
    rng = random.Random(14)
    today, uploaded = timezone.localdate(), 0
    numbers: list[tuple[str, str]] = []
    for i, player in enumerate(players):
        issuer = player.country
        number = f"{rng.randint(100_000_000, 999_999_999)}"
        if i % 13 == 12 and numbers:  # the same passport as an earlier player's: a duplicate hit on both
            number, issuer = numbers[0]
        numbers.append((number, issuer))
        country = {"GB": "GBR", "DE": "DEU", "SE": "SWE", "DK": "DNK", "NL": "NLD", "MT": "MLT"}.get(issuer, issuer)
        expires = today + timedelta(days=rng.randint(200, 3000))
        name = f"{player.first_name} {player.last_name}"
        files: list[tuple[str, bytes, dict[str, Any]]] = [
            (
                "passport",
                drawn.passport_jpeg(
                    first_name=player.first_name,
                    last_name=player.last_name,
                    born=player.date_of_birth,
                    country=country,
                    number=number,
                    expires=expires,
                    seed=player.pk,
                ),
                {"issuing_country": issuer, "expires_on": expires, "number": number},
            )
        ]
        if i % 4 != 3:
            bill = drawn.utility_bill_pdf(
                name=name,
                address=player.address_line or "1 High Street",
                city=player.city or "London",
                postal_code=player.postal_code,
                issued=today - timedelta(days=rng.randint(5, 60)),
                seed=player.pk,
            )
            files.append(("utility_bill", bill, {}))
        if i % 10 == 5:
            slip = drawn.payslip_pdf(name=name, employer="Harbour Logistics Ltd", month=today, net="3,412.50")
            files.append(("payslip", slip, {}))
        for document_type, data, facts in files:
            document_upload(
                actor=actor, player=player, document_type=document_type, data=data, source=Source.DEMO, **facts
            )
            uploaded += 1
    # the queue as it would look after a few days: some reviews opened long ago (overdue), some nearly due
    now = timezone.now()
    opened = list(Review.objects.filter(player__in=players, state=Review.State.OPEN).order_by("id"))
    for i, review in enumerate(opened):
        age = timedelta(hours=[30, 20, 2, 50, 10, 1][i % 6])
        Review.objects.filter(pk=review.pk).update(created_at=now - age, due_at=now - age + timedelta(hours=24))
    lead = StaffUser.objects.filter(username=DEMO_LEAD, is_active=True).first()
    officer = StaffUser.objects.filter(username=DEMO_OFFICER, is_active=True).first()
    assigned = 0
    if lead is not None and officer is not None:
        for review in opened[::3]:
            review_assign(actor=lead, review=Review.objects.get(pk=review.pk), assignee=officer)
            assigned += 1
    return uploaded, assigned


def seed(*, actor: AuditActor | None, count: int | None) -> list[str]:
    profiles, requirements = seed_levels()
    uploaded, assigned = seed_reviews(actor=actor)
    return [
        f"kyc: {profiles} levels and {requirements} registration requirements added",
        f"kyc: {uploaded} demo documents uploaded for review, {assigned} reviews assigned to {DEMO_OFFICER}",
    ]
