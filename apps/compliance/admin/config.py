"""What holders of the configure permissions (apps.compliance.roles.CONFIGURE: the Administrator and the MLRO)
change: the team inboxes (types routed, working hours and holidays of the SLA clock, lead, round-robin), the SLA
hours per type and priority, and who is away. None of these pages counts or names a case: the Administrator
configures the inboxes without learning whether any case exists (the tipping-off wall). Each save is audited
(``compliance.inbox_changed``, ``compliance.sla_policy_changed``), an analyst's status goes through
``cases.analyst_set_away``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from unfold.admin import ModelAdmin

from apps.audit.services import audit_log
from apps.compliance import cases
from apps.compliance.choices import CaseType
from apps.compliance.models import AnalystStatus, CaseInbox, SlaPolicy
from apps.core.errors import ApplicationError
from apps.staff.models import staff_of

WEEKDAYS = [
    ("1", "Monday"),
    ("2", "Tuesday"),
    ("3", "Wednesday"),
    ("4", "Thursday"),
    ("5", "Friday"),
    ("6", "Saturday"),
    ("7", "Sunday"),
]


class InboxForm(forms.ModelForm):
    """The JSON lists as checkboxes: the case types routed here and the ISO weekdays worked."""

    case_types = forms.MultipleChoiceField(
        choices=CaseType.choices, required=False, widget=forms.CheckboxSelectMultiple, label="Case types routed here"
    )
    workdays = forms.MultipleChoiceField(
        choices=WEEKDAYS, widget=forms.CheckboxSelectMultiple, label="Working days (the SLA clock runs on these)"
    )

    class Meta:
        model = CaseInbox
        fields = (
            "name",
            "team",
            "case_types",
            "lead",
            "time_zone",
            "holiday_country",
            "holiday_subdivision",
            "workday_start",
            "workday_end",
            "workdays",
            "auto_assign",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["workdays"] = [str(d) for d in self.instance.workdays or []]
            self.initial["case_types"] = list(self.instance.case_types or [])

    def clean_workdays(self) -> list[int]:
        return sorted(int(d) for d in self.cleaned_data["workdays"])

    def clean_time_zone(self) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        value = self.cleaned_data["time_zone"]
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise forms.ValidationError("Not a time zone (e.g. Europe/London).") from exc
        return str(value)

    def clean_holiday_country(self) -> str:
        import holidays

        value = str(self.cleaned_data["holiday_country"]).upper()
        if value not in holidays.list_supported_countries():
            raise forms.ValidationError("No public holidays are known for that country code.")
        return value


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value)


def _changes(form: forms.ModelForm) -> dict[str, Any]:
    """What the form changed, as the audit trail's changes table reads it: ``{field: {old, new}}``."""
    changed = {}
    for name in form.changed_data:
        old = form.initial.get(name)
        if name in ("team", "lead") and old is not None:
            old = str(form.fields[name].queryset.filter(pk=old).first() or old)  # type: ignore[attr-defined]
        changed[name] = {"old": _plain(old), "new": _plain(form.cleaned_data.get(name))}
    return changed


@admin.register(CaseInbox)
class CaseInboxAdmin(ModelAdmin):  # type: ignore[misc]
    form = InboxForm
    list_display = ("name", "team", "types", "lead", "hours", "time_zone", "holiday_country", "auto_assign")
    list_select_related = ("team", "lead")
    ordering = ("name",)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # cases keep their inbox (PROTECT): an inbox is emptied of types instead

    @admin.display(description="case types")
    def types(self, obj: CaseInbox) -> str:
        labels = dict(CaseType.choices)
        return ", ".join(str(labels.get(t, t)) for t in obj.case_types or []) or "—"

    @admin.display(description="working hours")
    def hours(self, obj: CaseInbox) -> str:
        days = dict(WEEKDAYS)
        worked = ", ".join(days.get(str(d), str(d))[:3] for d in obj.workdays or [])
        return f"{obj.workday_start:%H:%M} to {obj.workday_end:%H:%M} {worked}"

    def save_model(self, request: HttpRequest, obj: CaseInbox, form: Any, change: bool) -> None:
        obj.save()
        audit_log(
            actor=staff_of(request),
            action="compliance.inbox_changed" if change else "compliance.inbox_added",
            target=obj,
            data={**_changes(form), "visibility": "compliance"},
        )


@admin.register(SlaPolicy)
class SlaPolicyAdmin(ModelAdmin):  # type: ignore[misc]
    list_display = ("case_type", "priority", "hours", "at_risk_percent")
    list_filter = ("case_type", "priority")
    ordering = ("case_type", "priority")
    fields = ("case_type", "priority", "hours", "at_risk_percent")
    readonly_fields = ("case_type", "priority")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # one row per type and priority, made by the migration

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: SlaPolicy, form: Any, change: bool) -> None:
        obj.save()
        audit_log(
            actor=staff_of(request),
            action="compliance.sla_policy_changed",
            target=obj,
            data={**_changes(form), "visibility": "compliance"},
        )


class StatusForm(forms.ModelForm):
    class Meta:
        model = AnalystStatus
        fields = ("away", "away_until")


@admin.register(AnalystStatus)
class AnalystStatusAdmin(ModelAdmin):  # type: ignore[misc]
    form = StatusForm
    list_display = ("staff", "away", "away_until")
    list_select_related = ("staff",)
    list_filter = ("away",)
    ordering = ("staff__username",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a status row is made when an analyst is first marked away (cases.analyst_set_away)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changeform_view(
        self, request: HttpRequest, object_id: str | None = None, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ApplicationError as exc:
            messages.error(request, f"Nothing was saved: {exc.message}")
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request: HttpRequest, obj: AnalystStatus, form: Any, change: bool) -> None:
        cases.analyst_set_away(
            actor=staff_of(request),  # type: ignore[arg-type]
            staff=obj.staff,
            away=bool(form.cleaned_data.get("away")),
            until=form.cleaned_data.get("away_until"),
        )
