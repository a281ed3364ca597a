"""The case inbox (the Case changelist): the cases the member may see (apps.compliance.cases.cases_visible_to),
open ones by default, due first; filters by SLA state, priority, state, type, assignee and inbox; bulk "assign
to…" for holders of ``compliance.assign_case``. Nothing is added, edited or deleted through a ModelAdmin form:
the case page's forms and the "open a case" page post to the services (apps/compliance/admin/case_page.py).

Cheap at many cases: ordered by (due_at, id) (compliance_case_open_idx serves the open ones), the alerts count is a
subquery per shown row on the alerts' case index, the count is the capped estimate (BigTableAdminMixin), and no
filter runs a SELECT DISTINCT (fixed choices or the small inboxes table)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from unfold.admin import ModelAdmin
from unfold.decorators import action
from unfold.forms import ActionForm

from apps.compliance import cases
from apps.compliance.admin import case_page
from apps.compliance.admin.display import sla_badge, sla_words, state_badge
from apps.compliance.choices import OPEN_STATES, CaseState, CaseType, Priority, SlaState
from apps.compliance.models import Alert, AnalystStatus, Case, CaseInbox
from apps.core.admin_tools import BigTableAdminMixin
from apps.core.errors import ApplicationError
from apps.staff.models import StaffUser, staff_of

OPEN, ALL = "open", "all"


def _clean(value: Any) -> str:
    """A filter's value as posted, or "" if it is not one of ours (NUL bytes, anything unexpected)."""
    return value if isinstance(value, str) and value.isprintable() else ""


class StateFilter(admin.SimpleListFilter):
    """Open cases by default (the inbox); each state, or all."""

    title, parameter_name = "state", "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(OPEN, "Open (the inbox)"), *CaseState.choices, (ALL, "All")]

    def choices(self, changelist: Any) -> Any:
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def value(self) -> str:
        return _clean(super().value()) or OPEN

    def queryset(self, request: HttpRequest, queryset: QuerySet[Case]) -> QuerySet[Case]:
        value = self.value()
        if value == ALL:
            return queryset
        if value in CaseState.values:
            return queryset.filter(state=value)
        return queryset.filter(state__in=OPEN_STATES)


class _Choices(admin.SimpleListFilter):
    field = ""
    options: list[tuple[str, str]] = []

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return list(self.options)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Case]) -> QuerySet[Case]:
        value = _clean(self.value())
        if value in dict(self.options):
            return queryset.filter(**{self.field: value})
        return queryset


class SlaFilter(_Choices):
    title, parameter_name, field = "SLA", "sla", "sla_state"
    options = list(SlaState.choices)


class PriorityFilter(_Choices):
    title, parameter_name, field = "priority", "priority", "priority"
    options = list(Priority.choices)


class TypeFilter(_Choices):
    title, parameter_name, field = "type", "type", "type"
    options = list(CaseType.choices)


class AssigneeFilter(admin.SimpleListFilter):
    title, parameter_name = "assignee", "assignee"
    ME, NOBODY = "me", "unassigned"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(self.ME, "Me"), (self.NOBODY, "Unassigned")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Case]) -> QuerySet[Case]:
        if self.value() == self.ME:
            return queryset.filter(assignee_id=request.user.pk)
        if self.value() == self.NOBODY:
            return queryset.filter(assignee__isnull=True)
        return queryset


class InboxFilter(admin.SimpleListFilter):
    """The inboxes the member sees cases of: every inbox for the MLRO, their teams' for an analyst."""

    title, parameter_name = "inbox", "inbox"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        inboxes = CaseInbox.objects.order_by("name")
        if not cases.is_lead(request.user):
            inboxes = inboxes.filter(team_id__in=cases.team_ids(request.user))
        return [(str(pk), name) for pk, name in inboxes.values_list("pk", "name")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Case]) -> QuerySet[Case]:
        value = _clean(self.value())
        return queryset.filter(inbox_id=int(value)) if value.isdigit() else queryset


# --- bulk assign ---------------------------------------------------------------------------------------------


def assignees() -> QuerySet[StaffUser]:
    """Active staff who may work cases (through a role): the assignee choices. The service checks each case's
    inbox team."""
    from django.contrib.auth.models import Permission

    holders = Permission.objects.filter(content_type__app_label="compliance", codename="view_case").values("group")
    members = StaffUser.objects.filter(groups__in=holders).values("pk")
    return StaffUser.objects.filter(is_active=True, pk__in=members).order_by("username")


class AssignChoice(forms.Form):
    assignee = forms.ModelChoiceField(
        queryset=StaffUser.objects.none(), required=False, label="Analyst", empty_label="— analyst —"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = assignees()  # type: ignore[attr-defined]


class AssignForm(ActionForm, AssignChoice):  # type: ignore[misc]
    """unfold's action form with the analyst beside the action menu, styled as the menu is."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        menu = self.fields["action"].widget.attrs.get("class", "")
        self.fields["assignee"].widget.attrs["class"] = menu.replace("lg:w-72", "lg:w-48")


def _alerts_count() -> Coalesce:
    per_case = Alert.objects.filter(case_id=OuterRef("pk")).order_by().values("case_id").annotate(n=Count("id"))
    return Coalesce(Subquery(per_case.values("n")[:1], output_field=IntegerField()), 0)


def sla_counts(user: Any) -> list[dict[str, Any]]:
    """The small dashboard above the inbox: the member's open cases by SLA state, each counted capped (as the
    start page counts) on compliance_case_open_idx, with the link that filters the inbox to them."""
    from apps.core.workqueues import count_rows

    base = reverse("admin:compliance_case_changelist")
    rows = []
    for state, label in SlaState.choices:
        found = cases.cases_visible_to(user, Case.objects.filter(state__in=OPEN_STATES, sla_state=state))
        rows.append({"state": state, "label": label, "count": count_rows(found), "url": f"{base}?sla={state}"})
    return rows


@admin.register(Case)
class CaseAdmin(BigTableAdminMixin, ModelAdmin):  # type: ignore[misc]
    list_display = (
        "number",
        "title_link",
        "player_link",
        "type_label",
        "priority_label",
        "state_label",
        "sla",
        "holder",
        "alerts",
    )
    list_display_links = None
    list_filter = (StateFilter, SlaFilter, PriorityFilter, TypeFilter, AssigneeFilter, InboxFilter)
    list_select_related = ("player", "assignee", "inbox")
    ordering = ("due_at", "id")
    sortable_by = ()
    actions = ["assign_to"]
    action_form = AssignForm
    search_fields = ("title",)  # shows the box; get_search_results says what a term finds
    search_help_text = "Case number or player id"
    list_before_template = "admin/compliance/case/inbox_header.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Case]:
        queryset = super().get_queryset(request).annotate(alerts_count=_alerts_count())
        return cases.cases_visible_to(request.user, queryset)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Case], search_term: str
    ) -> tuple[QuerySet[Case], bool]:
        term = (search_term or "").strip().lstrip("#")
        if not term:
            return queryset, False
        if not term.isprintable() or len(term) > 64:
            return queryset.none(), False
        found = Q(player__external_id=term)
        if term.isdigit() and len(term) < 19:
            found |= Q(pk=int(term))
        return queryset.filter(found), False

    # --- permissions: the wall first; nothing through ModelAdmin forms ------------------------------------------
    def has_module_permission(self, request: HttpRequest) -> bool:
        return cases.sees_cases(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return cases.sees_cases(request.user)
        return cases.case_visible(request.user, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return cases.sees_cases(request.user) and bool(request.user.has_perm(cases.OPEN))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_assign_permission(self, request: HttpRequest) -> bool:
        return cases.sees_cases(request.user) and bool(request.user.has_perm(cases.ASSIGN))

    # --- columns -----------------------------------------------------------------------------------------------
    @admin.display(description="#")
    def number(self, obj: Case) -> str:
        return format_html('<span class="whitespace-nowrap">#{}</span>', obj.pk)

    @admin.display(description="title")
    def title_link(self, obj: Case) -> str:
        url = reverse("admin:compliance_case_change", args=[obj.pk])
        return format_html('<a class="case-link underline font-medium" href="{}">{}</a>', url, obj.title)

    @admin.display(description="player")
    def player_link(self, obj: Case) -> str:
        player = obj.player
        if player is None:
            return "—"
        url = reverse("admin:players_player_change", args=[player.pk])
        return format_html(
            '<a class="underline" href="{}">{} {}</a> <span class="text-font-subtle-light">{}</span>',
            url,
            player.first_name,
            player.last_name,
            player.external_id,
        )

    @admin.display(description="type")
    def type_label(self, obj: Case) -> str:
        return obj.get_type_display()

    @admin.display(description="priority")
    def priority_label(self, obj: Case) -> str:
        label = obj.get_priority_display()
        if obj.priority == Priority.HIGH:
            return format_html('<strong class="text-red-700">{}</strong>', label)
        return label

    @admin.display(description="state")
    def state_label(self, obj: Case) -> str:
        return state_badge(obj)

    @admin.display(description="SLA")
    def sla(self, obj: Case) -> str:
        if obj.state == CaseState.CLOSED:
            return format_html(
                '<span class="text-font-subtle-light">closed {}</span>',
                timezone.localtime(obj.closed_at).strftime("%Y-%m-%d") if obj.closed_at else "",
            )
        return format_html('{} <span class="case-due whitespace-nowrap">{}</span>', sla_badge(obj), sla_words(obj))

    @admin.display(description="assignee")
    def holder(self, obj: Case) -> str:
        assignee = obj.assignee
        who = str(assignee.get_full_name() or assignee) if assignee is not None else "unassigned"
        return f"{who} · {obj.inbox}" if obj.inbox_id else who

    @admin.display(description="alerts")
    def alerts(self, obj: Case) -> int:
        return int(getattr(obj, "alerts_count", 0) or 0)

    # --- bulk assignment -----------------------------------------------------------------------------------------
    @action(description="Assign to the analyst chosen", permissions=["assign"])
    def assign_to(self, request: HttpRequest, queryset: QuerySet[Case]) -> None:
        form = AssignChoice(request.POST)
        if not form.is_valid() or form.cleaned_data.get("assignee") is None:
            messages.error(request, "Choose the analyst to assign the selected cases to.")
            return
        assignee = form.cleaned_data["assignee"]
        chosen = list(queryset.select_related(None).only("pk", "assignee_id", "inbox_id", "state"))
        try:
            done = cases.cases_assign_bulk(actor=staff_of(request), cases=chosen, assignee=assignee)  # type: ignore[arg-type]
        except ApplicationError as exc:
            messages.error(request, f"No case was assigned (all or none): {exc.message}")
            return
        name = assignee.get_full_name() or assignee.username
        messages.success(request, f"{done} case{'s' if done != 1 else ''} assigned to {name}.")

    # --- the inbox's header, the case page, its forms, and opening a case by hand ------------------------------
    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        extra = {
            "is_lead": cases.is_lead(request.user),
            "may_assign": self.has_assign_permission(request),
            "sla_counts": sla_counts(request.user) if cases.sees_cases(request.user) else [],
            "away": AnalystStatus.objects.filter(staff_id=request.user.pk, away=True).exists(),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra)

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/do/<str:what>/", view(self.do_view), name="compliance_case_do"),
            path("away/", view(self.away_view), name="compliance_case_away"),
            path(
                "<int:pk>/attachments/<int:attachment_pk>/",
                view(self.attachment_view),
                name="compliance_case_attachment",
            ),
            *super().get_urls(),
        ]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return case_page.page(self, request, object_id)

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None) -> Any:
        return case_page.open_page(self, request)

    def do_view(self, request: HttpRequest, pk: int, what: str) -> HttpResponse:
        return case_page.do(self, request, pk, what)

    def attachment_view(self, request: HttpRequest, pk: int, attachment_pk: int) -> HttpResponse:
        return case_page.attachment(self, request, pk, attachment_pk)

    def away_view(self, request: HttpRequest) -> HttpResponse:
        """The member marks themselves away (round-robin skips them) or back, from the inbox's header."""
        if not cases.sees_cases(request.user):
            raise PermissionDenied
        if request.method == "POST":
            away = request.POST.get("away") == "1"
            try:
                cases.analyst_set_away(actor=staff_of(request), staff=staff_of(request), away=away)  # type: ignore[arg-type]
            except ApplicationError as exc:
                messages.error(request, f"Nothing changed: {exc.message}")
            else:
                messages.success(
                    request,
                    "You are marked away: new cases go to your colleagues."
                    if away
                    else "You are back: new cases come to you again.",
                )
        return HttpResponseRedirect(reverse("admin:compliance_case_changelist"))

    def history_view(self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None) -> Any:
        return case_page.page(self, request, object_id)  # the timeline is the case's history
