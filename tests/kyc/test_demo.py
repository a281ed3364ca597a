"""The demo KYC levels: every player gets a profile, unverified players of markets that verify before play get
their registration requirement, and a second run adds nothing."""

from __future__ import annotations

import pytest

from apps.audit.services import SystemActor
from apps.kyc.demo import seed_levels
from apps.kyc.models import KycProfile, Requirement
from apps.players.demo import seed_players
from apps.players.eligibility import can
from apps.players.models import Player

pytestmark = pytest.mark.django_db


def test_demo_levels_cover_every_player_once():
    seed_players(200, actor=SystemActor("tests"))
    profiles, requirements = seed_levels()
    assert profiles == Player.objects.count() == KycProfile.objects.count()
    assert set(KycProfile.objects.values_list("level", flat=True)) == {0, 1, 2, 3}
    unverified_gb = Player.objects.filter(kyc__level=0, country="GB")
    assert unverified_gb.exists()
    for player in unverified_gb:
        requirement = Requirement.objects.get(player=player, state="open")
        assert requirement.level == 1 and "deposit" in requirement.restricts
        assert "kyc_required" in can(player, "deposit", ask_registers=False).reasons
    assert requirements == Requirement.objects.count()
    assert seed_levels() == (0, 0)


def test_demo_reviews_make_a_queue_an_officer_can_clear():
    from django.utils import timezone

    from apps.kyc.demo import DEMO_OFFICER, seed_reviews
    from apps.kyc.documents import duplicate_hits
    from apps.kyc.models import Document, Review
    from apps.staff.demo import seed_staff

    seed_players(300, actor=SystemActor("tests"))
    seed_levels()
    seed_staff(actor=SystemActor("tests"))
    uploaded, assigned = seed_reviews(actor=SystemActor("tests"), reviews=14)
    open_reviews = Review.objects.filter(state="open")
    assert open_reviews.count() == 14 and uploaded == Document.objects.filter(source="demo").count() > 14
    assert assigned == open_reviews.filter(assignee__username=DEMO_OFFICER).count() == 5
    assert open_reviews.filter(due_at__lt=timezone.now()).exists()
    assert open_reviews.filter(due_at__gt=timezone.now()).exists()
    assert set(Document.objects.values_list("file_kind", flat=True)) == {"jpeg", "pdf"}
    duplicated = Document.objects.filter(source="demo", type="passport").order_by("id").first()
    assert duplicated is not None and duplicate_hits(duplicated.player).exists()
    assert seed_reviews(actor=SystemActor("tests"), reviews=14) == (0, 0)
