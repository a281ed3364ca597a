"""The CRM's rows of the persona sweep (tests/staff/test_personas.py merges them into its ``CASES`` with
``**CRM_CASES``): every crm permission, a role that holds it and
succeeds, one that does not and is refused."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from apps.bonuses.models import BonusTemplate
from apps.crm.models import Campaign, Segment
from apps.staff import roles
from tests.staff.personas import Case, Get, Post, Unchecked, World

CRM, SA = roles.CRM_MANAGER, roles.SUPPORT_AGENT
LIST = "/admin/crm/segment/"
CAMPAIGNS = "/admin/crm/campaign/"
BLANK_FIELDS = (
    "description currency tags registered_from registered_to last_login_mode last_login_days deposits_min "
    "deposits_max deposits_days ggr_min ggr_max ggr_days kyc_min kyc_max consent_email consent_sms consent_phone "
    "consent_post currencies"
)
EMPTY_FORM = {"kind": "dynamic", "tags_mode": "any", **dict.fromkeys(BLANK_FIELDS.split(), "")}


def persona_segment(w: World) -> Segment:
    """A segment made by the ORM (no audit row: a refusal must write none), once per world."""
    found = getattr(w, "_crm_segment", None)
    if found is None:
        found = Segment.objects.create(name="persona segment", criteria={})
        w._crm_segment = found  # type: ignore[attr-defined]
    return found


def persona_template(w: World) -> BonusTemplate:
    found = getattr(w, "_crm_template", None)
    if found is None:
        found = BonusTemplate.objects.create(
            code="persona-campaign",
            name="persona cash",
            type="cash",
            currency="GBP",
            amount=Decimal("5.00"),
            products=["casino"],
            jurisdictions=["GB"],
            state="published",
        )
        w._crm_template = found  # type: ignore[attr-defined]
    return found


def persona_campaign(w: World) -> Campaign:
    found = getattr(w, "_crm_campaign", None)
    if found is None:
        found = Campaign.objects.create(
            name="persona campaign",
            segment=persona_segment(w),
            template=persona_template(w),
            ends_at=timezone.now() + timedelta(days=3),
        )
        w._crm_campaign = found  # type: ignore[attr-defined]
    return found


def _page(what: str) -> Any:
    return lambda w: f"{LIST}{persona_segment(w).pk}/{what}/"


CRM_CASES: dict[str, Case] = {
    "crm.view_segment": Case(CRM, SA, Get(lambda w: LIST)),
    "crm.add_segment": Case(
        CRM,
        SA,
        Post(
            lambda w: f"{LIST}add/",
            lambda w: {**EMPTY_FORM, "name": "persona added"},
            lambda w: Segment.objects.filter(name="persona added").exists(),
        ),
    ),
    # the change form and the snapshot ask it; the snapshot is exercised (it writes members and an audit row)
    "crm.change_segment": Case(
        CRM,
        SA,
        Post(
            _page("snapshot"),
            lambda w: {},
            lambda w: Segment.objects.get(pk=persona_segment(w).pk).last_refreshed_at is not None,
        ),
    ),
    "crm.export_segment": Case(CRM, SA, Get(_page("export/email"))),
    "crm.delete_segment": Case(None, CRM, Get(_page("delete"))),  # segments are kept: nobody deletes one
    **{f"crm.{verb}_segmentmember": Case(None, None, Unchecked()) for verb in ("view", "add", "change", "delete")},
    "crm.view_campaign": Case(CRM, SA, Get(lambda w: CAMPAIGNS)),
    "crm.add_campaign": Case(
        CRM,
        SA,
        Post(
            lambda w: f"{CAMPAIGNS}add/",
            lambda w: {
                "name": "persona campaign added",
                "segment": persona_segment(w).pk,
                "template": persona_template(w).pk,
                "mode": "offer",
                "starts_at_0": f"{timezone.now():%Y-%m-%d}",
                "starts_at_1": f"{timezone.now():%H:%M:%S}",
                "ends_at_0": f"{timezone.now() + timedelta(days=3):%Y-%m-%d}",
                "ends_at_1": "12:00:00",
            },
            lambda w: Campaign.objects.filter(name="persona campaign added").exists(),
        ),
    ),
    # start and cancel ask it; the cancel of a draft is exercised (the start queues a job)
    "crm.run_campaign": Case(
        CRM,
        SA,
        Post(
            lambda w: f"{CAMPAIGNS}{persona_campaign(w).pk}/cancel/",
            lambda w: {},
            lambda w: Campaign.objects.get(pk=persona_campaign(w).pk).state == "cancelled",
        ),
    ),
    # a campaign changes only through its buttons (crm.run_campaign) and is never deleted: the awards name it
    "crm.change_campaign": Case(
        None,
        CRM,
        Post(
            lambda w: f"{CAMPAIGNS}{persona_campaign(w).pk}/change/",
            lambda w: {"name": "persona campaign renamed"},
            lambda w: Campaign.objects.filter(name="persona campaign renamed").exists(),
        ),
    ),
    "crm.delete_campaign": Case(None, CRM, Get(lambda w: f"{CAMPAIGNS}{persona_campaign(w).pk}/delete/")),
}
