"""The demo CRM: a segment, a finished offer campaign to it and a draft one; a second run adds nothing."""

from __future__ import annotations

import pytest

from apps.audit.services import SystemActor
from apps.bonuses import demo as bonus_demo
from apps.bonuses.models import PlayerBonus
from apps.crm import demo
from apps.crm.choices import CampaignState
from apps.crm.models import Campaign
from apps.kyc.demo import seed_levels
from apps.players.demo import seed_players
from apps.staff.demo import seed_staff

pytestmark = pytest.mark.django_db


def test_the_demo_segment_and_campaigns(django_capture_on_commit_callbacks):
    actor = SystemActor("tests")
    assert demo.seed(actor=actor, count=None) == ["crm: no demo CRM Manager or bonus templates, no demo campaigns"]
    seed_staff(actor=actor, count=None)
    seed_players(200, actor=actor)
    seed_levels()
    bonus_demo.seed(actor=actor, count=None)
    with django_capture_on_commit_callbacks(execute=False):  # the demo runs the campaign itself
        lines = demo.seed(actor=actor, count=None)
    done = Campaign.objects.get(name="Demo: GBP 5 free for UK players")
    assert done.state == CampaignState.COMPLETED and done.awarded > 0, lines
    assert done.processed == done.target_count == done.awarded + done.refused
    assert PlayerBonus.objects.filter(campaign_id=done.pk, state="offered").count() == done.awarded
    assert Campaign.objects.get(name="Demo: UK welcome match").state == CampaignState.DRAFT
    assert demo.seed(actor=actor, count=None) == ["crm: demo segment already there"]
