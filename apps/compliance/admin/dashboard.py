"""The compliance dashboard (``/admin/compliance/dashboard/``): open cases by SLA state and priority, as the viewer
may see them, each cell a link to the inbox filtered so; and each rule's precision on history (its alerts by their
case's outcome). For holders of ``compliance.view_case`` only: anyone else gets the admin's 404, as for a page that
does not exist (the tipping-off wall). Two grouped queries (apps/compliance/selectors.py)."""

from __future__ import annotations

from django.contrib import admin
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse

from apps.compliance import selectors
from apps.compliance.cases import sees_cases
from apps.compliance.choices import Priority, SlaState


def dashboard_view(request: HttpRequest) -> HttpResponse:
    if not sees_cases(request.user):
        raise Http404("No such page.")
    grid = selectors.open_cases_by_sla(request.user)
    inbox = reverse("admin:compliance_case_changelist")
    rows = [
        {
            "state": SlaState(state).label,
            "cells": [
                {"count": grid[state][priority], "url": f"{inbox}?sla_state={state}&priority={priority}"}
                for priority in Priority.values
            ],
            "total": sum(grid[state].values()),
        }
        for state in SlaState.values
    ]
    precision = sorted(selectors.rule_precision(request.user), key=lambda r: (-r.alerts, r.rule.code))
    context = {
        **admin.site.each_context(request),
        "title": "Compliance dashboard",
        "priorities": [Priority(p).label for p in Priority.values],
        "rows": rows,
        "open_total": sum(sum(grid[state].values()) for state in SlaState.values),
        "precision": precision,
        "inbox_url": inbox,
    }
    return TemplateResponse(request, "admin/compliance/dashboard.html", context)
