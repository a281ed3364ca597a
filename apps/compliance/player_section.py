"""The player page's case section (apps.players.page.register_section, from ComplianceConfig.ready): the player's
open and closed cases the viewer may see, the recent alerts of those cases, and "Open a case".

The wall: for a viewer without ``compliance.view_case`` the context is None before anything is read, so the
section does not exist for them: no heading, no placeholder, no query."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from apps.compliance import cases
from apps.compliance.admin.display import sla_words
from apps.compliance.models import Alert, Case

SHOWN = 20


def player_cases_section(request: HttpRequest, player: Any) -> dict[str, Any] | None:
    user = request.user
    if not cases.sees_cases(user):
        return None
    visible = cases.cases_visible_to(user, Case.objects.filter(player=player)).select_related("assignee")
    shown = list(visible.order_by("-id")[:SHOWN])
    rows = [{"case": c, "sla": sla_words(c)} for c in shown]
    case_ids = [c.pk for c in shown]
    alerts = (
        list(Alert.objects.filter(case_id__in=case_ids).select_related("rule", "version").order_by("-id")[:10])
        if case_ids and user.has_perm("compliance.view_alert")
        else []
    )
    may_open = bool(user.has_perm(cases.OPEN))
    return {
        "cases": rows,
        "open_cases": [c for c in shown if c.is_open],
        "alerts": alerts,
        "open_url": f"{reverse('admin:compliance_case_add')}?player={player.pk}" if may_open else None,
    }
