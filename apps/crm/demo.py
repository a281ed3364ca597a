"""Demo segments and campaigns for ``make run``: the demo CRM Manager's "UK players" segment, a finished offer
campaign of the GBP 5 no-deposit bonus to it (offers waiting to be claimed, refusals counted), and a draft
campaign of the welcome match ready to be started from its page.

Idempotent: once the demo segment exists, nothing more is seeded."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from apps.audit.services import AuditActor

SEGMENT = "Demo: UK players"


def seed(*, actor: AuditActor | None, count: int | None) -> list[str]:
    from apps.bonuses.demo import DEMO_CRM, WELCOME
    from apps.bonuses.models import BonusTemplate
    from apps.crm import campaigns, services
    from apps.crm.models import Segment
    from apps.staff.models import StaffUser

    if Segment.objects.filter(name=SEGMENT).exists():
        return ["crm: demo segment already there"]
    crm = StaffUser.objects.filter(username=DEMO_CRM, is_active=True).first()
    free5 = BonusTemplate.objects.filter(code="demo-gb-free5", state="published").first()
    welcome = BonusTemplate.objects.filter(code=WELCOME, state="published").first()
    if crm is None or free5 is None or welcome is None:
        return ["crm: no demo CRM Manager or bonus templates, no demo campaigns"]
    segment = services.segment_create(
        actor=crm,
        name=SEGMENT,
        criteria={"country": ["GB"]},
        currency="GBP",
        description="Players living in Great Britain (GBP amounts).",
    )
    ends = timezone.now() + timedelta(days=30)
    done = campaigns.campaign_create(
        actor=crm, name="Demo: GBP 5 free for UK players", segment=segment, template=free5, ends_at=ends
    )
    campaigns.campaign_start(actor=crm, campaign=done)
    campaigns.campaign_run(campaign_id=done.pk)  # here, not on the worker: the demo is complete when seeded
    campaigns.campaign_create(
        actor=crm, name="Demo: UK welcome match", segment=segment, template=welcome, mode="offer", ends_at=ends
    )
    done.refresh_from_db()
    return [
        f"crm: segment {SEGMENT!r}, a finished campaign ({done.awarded} offers, {done.refused} refused) "
        "and a draft campaign to start"
    ]
