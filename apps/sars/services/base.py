"""What every SAR service shares: the permissions, who sees what (the wall), the audit event, the text rule."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from apps.audit.services import AuditActor, audit_log
from apps.sars.errors import (
    SarFieldInvalid,
    SarNotFound,
    SarNotPermitted,
)
from apps.sars.models import Sar
from apps.staff.models import StaffUser

VIEW = "sars.view_sar"
DRAFT = "sars.draft_sar"
APPROVE = "sars.approve_sar"
APPROVE_KIND = "sars.sar_approve"
TEXT_MAX = 8000  # goAML's comments_type
INDICATOR = re.compile(r"^[A-Za-z0-9_.\-]{1,50}$")
REFERENCE = re.compile(r"^[\w./\- ]{1,255}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


# --- who sees what ----------------------------------------------------------------------------------------------


def sees_sars(user: Any) -> bool:
    """Whether the user may know that SARs exist at all: everyone else gets nothing, not even a count."""
    return bool(user is not None and getattr(user, "is_active", False) and user.has_perm(VIEW))


def sars_visible_to(user: Any, queryset: QuerySet[Sar] | None = None) -> QuerySet[Sar]:
    queryset = Sar.objects.all() if queryset is None else queryset
    return queryset if sees_sars(user) else queryset.none()


def sar_get(user: Any, pk: Any) -> Sar:
    """The SAR if the user may see it; ``sar_not_found`` otherwise (whether or not it exists)."""
    try:
        return sars_visible_to(user).select_related("case", "player", "export", "corrects").get(pk=int(pk))
    except (Sar.DoesNotExist, TypeError, ValueError) as exc:
        raise SarNotFound("No such report.") from exc


def audit_sar(actor: AuditActor | None, action: str, sar: Sar, **data: Any) -> None:
    audit_log(
        actor=actor,
        action=f"sars.{action}",
        target=sar,
        data={
            "sar": sar.pk,
            "case": sar.case_id,
            "report_code": sar.report_code,
            "state": sar.state,
            "visibility": "compliance",
            **data,
        },
    )


@transaction.atomic
def sar_viewed(*, actor: StaffUser, sar: Sar) -> None:
    """Reading a SAR is an event of its own: who looked at which report, and when."""
    if not sees_sars(actor):
        raise SarNotFound("No such report.")
    audit_sar(actor, "viewed", sar)


@transaction.atomic
def sar_list_viewed(*, actor: StaffUser) -> None:
    """Opening the list of reports is an event too: it says which reports exist."""
    if not sees_sars(actor):
        raise SarNotFound("No such report.")
    audit_log(actor=actor, action="sars.list_viewed", data={"visibility": "compliance"})


def require_drafter(actor: Any) -> None:
    if not sees_sars(actor):
        raise SarNotFound("No such report.")
    if not actor.has_perm(DRAFT):
        raise SarNotPermitted("You may not draft or file reports (sars.draft_sar).")


def locked(sar: Sar) -> Sar:
    return Sar.objects.select_for_update().get(pk=sar.pk)


def clean_text(value: Any, *, field: str, required: bool, limit: int = TEXT_MAX) -> str:
    value = str(value or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if _CONTROL.search(value):
        raise SarFieldInvalid("The text may not contain control characters.", fields={field: ["Control chars."]})
    if required and not value:
        raise SarFieldInvalid(f"The {field} is required.", fields={field: ["Required."]})
    if len(value) > limit:
        raise SarFieldInvalid(f"The {field} is too long.", fields={field: [f"At most {limit} characters."]})
    return value
