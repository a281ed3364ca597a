"""An admin action that asks for a reason first (a rejection or refusal always has one): the action renders an
intermediate page with the selection and a reason field, and runs once it is posted back with a reason."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=500, strip=True, widget=forms.Textarea(attrs={"rows": 3}))


def reason_or_page(
    model_admin: Any, request: HttpRequest, queryset: QuerySet[Any], *, title: str
) -> tuple[str | None, TemplateResponse | None]:
    """``(reason, None)`` once the intermediate page was posted with a reason, else ``(None, page)``."""
    form = ReasonForm(request.POST if request.POST.get("reason_given") else None)
    if form.is_bound and form.is_valid():
        return form.cleaned_data["reason"], None
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "opts": model_admin.model._meta,
        "objects": list(queryset[:100]),
        "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
        "action": request.POST.get("action", ""),
        "form": form,
    }
    return None, TemplateResponse(request, "admin/approvals/reason_action.html", context)
