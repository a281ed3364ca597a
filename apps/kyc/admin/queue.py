"""The review queue (the Review changelist): open reviews by due date, scoped to what the member may see.

Fast at 100,000 open reviews: ordered by (due_at, id), which kyc_review_queue_idx serves for open reviews; the
documents waiting are an array subquery per shown row; the assignee is a join on a primary key; the count is the
EstimatedCountPaginator's capped one; no filter runs SELECT DISTINCT (their choices are fixed or come from small
tables). An officer's scope is two column tests (apps.kyc.reviews.reviews_visible_to), never a join to guardian.
"""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group, Permission
from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince
from unfold.admin import ModelAdmin
from unfold.admin import checkbox as unfold_checkbox
from unfold.decorators import action
from unfold.forms import ActionForm

from apps.core.admin_tools import BigTableAdminMixin, ReadOnlyAdminMixin
from apps.core.errors import ApplicationError
from apps.geo.models import Jurisdiction
from apps.kyc import reviews
from apps.kyc.admin import files, review_page
from apps.kyc.choices import DocumentState, DocumentType, Level
from apps.kyc.models import Document, Review
from apps.staff.models import StaffUser, staff_of
from apps.staff.roles import ROLES

# unfold's stylesheet has no text-green-800 / text-orange-800 classes and its 700s on the 100 fills are just under
# 4.5:1, so the green and orange badges colour their text with the theme's 800 shades inline (as the player page does)
SLA_TONES = {
    reviews.DUE: ("bg-green-100", "color: var(--color-green-800)"),
    reviews.AT_RISK: ("bg-orange-100", "color: var(--color-orange-800)"),
    reviews.OVERDUE: ("bg-red-100 text-red-700", ""),
}


def sla_badge(review: Review) -> str:
    state = reviews.sla_state(review)
    fill, colour = SLA_TONES[state]
    return format_html(
        '<span class="kyc-sla kyc-sla-{} inline-block px-2 py-0.5 rounded font-semibold text-xs {}" style="{}">'
        "{}</span>",
        state,
        fill,
        colour,
        reviews.SLA_LABELS[state],
    )


# --- filters (fixed choices or small tables: never a DISTINCT over the reviews) ---------------------------------


class StateFilter(admin.SimpleListFilter):
    title, parameter_name = "state", "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("open", "Open (the queue)"), ("closed", "Closed"), ("all", "All")]

    def choices(self, changelist: Any) -> Any:
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def value(self) -> str:
        return super().value() or "open"

    def queryset(self, request: HttpRequest, queryset: QuerySet[Review]) -> QuerySet[Review]:
        value = self.value()
        return queryset if value == "all" else queryset.filter(state=value)


class SlaFilter(admin.SimpleListFilter):
    title, parameter_name = "SLA", "sla"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(reviews.OVERDUE, "Overdue"), (reviews.AT_RISK, "At risk"), (reviews.DUE, "Due, in time")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Review]) -> QuerySet[Review]:
        now = timezone.now()
        if self.value() == reviews.OVERDUE:
            return queryset.filter(due_at__lte=now)
        if self.value() == reviews.AT_RISK:
            return queryset.filter(reviews.at_risk_q(now))
        if self.value() == reviews.DUE:
            return queryset.filter(due_at__gt=now)
        return queryset


class LevelFilter(admin.SimpleListFilter):
    title, parameter_name = "level sought", "level"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(str(v), label) for v, label in Level.choices if v]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Review]) -> QuerySet[Review]:
        value = self.value()
        return queryset.filter(level_sought=int(value)) if value and value.isdigit() else queryset


class JurisdictionFilter(admin.SimpleListFilter):
    """Choices from the (small) jurisdictions table."""

    title, parameter_name = "jurisdiction", "jurisdiction"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(c, c) for c in sorted(Jurisdiction.objects.values_list("code", flat=True))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Review]) -> QuerySet[Review]:
        value = self.value()
        if not value:
            return queryset
        if "-" in value:
            return queryset.filter(player__region=value)
        return queryset.filter(player__country=value)


class DocumentTypeFilter(admin.SimpleListFilter):
    title, parameter_name = "document waiting", "document"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return list(DocumentType.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Review]) -> QuerySet[Review]:
        value = self.value()
        if value not in DocumentType.values:
            return queryset
        waiting = Document.objects.filter(review_id=OuterRef("pk"), type=value, state=DocumentState.PENDING)
        return queryset.filter(Exists(waiting))


class AssigneeFilter(admin.SimpleListFilter):
    title, parameter_name = "assignee", "assignee"
    ME, TEAM, NOBODY = "me", "team", "unassigned"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(self.ME, "Me"), (self.TEAM, "My teams"), (self.NOBODY, "Unassigned")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Review]) -> QuerySet[Review]:
        if self.value() == self.ME:
            return queryset.filter(assignee_id=request.user.pk)
        if self.value() == self.TEAM:
            return queryset.filter(team_id__in=reviews.team_ids(request.user))
        if self.value() == self.NOBODY:
            return queryset.filter(assignee__isnull=True, team__isnull=True)
        return queryset


class AgeFilter(admin.SimpleListFilter):
    title, parameter_name = "waiting for", "age"
    DAYS = {"1": 1, "3": 3, "7": 7}

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("1", "More than a day"), ("3", "More than 3 days"), ("7", "More than a week")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Review]) -> QuerySet[Review]:
        days = self.DAYS.get(self.value() or "")
        return queryset.filter(created_at__lt=timezone.now() - timedelta(days=days)) if days else queryset


# --- bulk assign ----------------------------------------------------------------------------------------------


def reviewers() -> QuerySet[StaffUser]:
    """Active members who may review documents (through a role): the assignee choices."""
    roles_with_it = Permission.objects.filter(content_type__app_label="kyc", codename="view_document").values("group")
    members = StaffUser.objects.filter(groups__in=roles_with_it).values("pk")  # IN (subquery): no duplicates
    return StaffUser.objects.filter(is_active=True, pk__in=members).order_by("username")


def teams() -> QuerySet[Group]:
    """Groups that are not roles: the teams a review may be assigned to."""
    return Group.objects.exclude(name__in=ROLES).order_by("name")


class AssignChoice(forms.Form):
    """Whom the selected reviews go to (read by the assign action; shown beside the action menu)."""

    assignee = forms.ModelChoiceField(
        queryset=StaffUser.objects.none(), required=False, label="Officer", empty_label="— officer —"
    )
    team = forms.ModelChoiceField(queryset=Group.objects.none(), required=False, label="Team", empty_label="— team —")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = reviewers()  # type: ignore[attr-defined]
        self.fields["team"].queryset = teams()  # type: ignore[attr-defined]


class AssignForm(ActionForm, AssignChoice):  # type: ignore[misc]
    """unfold's action form with the assignee choices beside the action menu, styled as the menu is."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        menu = self.fields["action"].widget.attrs.get("class", "")
        for name in ("assignee", "team"):
            self.fields[name].widget.attrs["class"] = menu.replace("lg:w-72", "lg:w-48")


_PK_MARK = "0000000000"


@functools.cache
def _checkbox_markup() -> str:
    return str(unfold_checkbox.render(ACTION_CHECKBOX_NAME, _PK_MARK))


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdminMixin, BigTableAdminMixin, ModelAdmin):  # type: ignore[misc]
    list_display = ("sla", "due", "player_link", "level", "jurisdiction", "waiting", "holder", "age")
    list_display_links = ("due",)
    list_filter = (
        StateFilter,
        SlaFilter,
        AssigneeFilter,
        LevelFilter,
        JurisdictionFilter,
        DocumentTypeFilter,
        AgeFilter,
    )
    list_select_related = ("player", "assignee", "team")
    ordering = ("due_at", "id")  # kyc_review_queue_idx (due_at, id) WHERE state = 'open'
    sortable_by = ()  # another order would sort 100,000 rows
    actions = ["assign", "unassign"]
    action_form = AssignForm
    list_before_template = "admin/kyc/review/queue_header.html"
    search_fields = ()

    def get_queryset(self, request: HttpRequest) -> QuerySet[Review]:
        # scoped to what the member may see, and the pending documents' types of each shown row as one array
        # subquery (served by the documents' review index): no query per row
        waiting = Document.objects.filter(review_id=OuterRef("pk"), state=DocumentState.PENDING).values("type")
        queryset = super().get_queryset(request).annotate(waiting_types=ArraySubquery(waiting))
        return reviews.reviews_visible_to(request.user, queryset)

    # --- permissions: viewing is role-wide (the queue), each review by scope; nothing is added, edited or deleted
    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("kyc.view_review"))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return bool(request.user.has_perm("kyc.view_review"))
        return reviews.review_visible(request.user, obj)

    def has_assign_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(reviews.ASSIGN))

    # --- columns ------------------------------------------------------------------------------------------
    @admin.display(description=ModelAdmin.action_checkbox.short_description)  # type: ignore[attr-defined]
    def action_checkbox(self, obj: Review) -> str:
        """unfold's own checkbox, its markup rendered once per process and the row's id put in (the widget's
        template cost about a third of a millisecond per row, 50 rows a page)."""
        # the markup is the widget's own output and the one value put in is an integer
        return mark_safe(_checkbox_markup().replace(f'value="{_PK_MARK}"', f'value="{int(obj.pk)}"'))  # noqa: S308

    @admin.display(description="SLA")
    def sla(self, obj: Review) -> str:
        return sla_badge(obj)

    @admin.display(description="due")
    def due(self, obj: Review) -> str:
        return format_html(
            '<span class="underline font-medium">{}</span> <span class="text-font-subtle-light">#{}</span>',
            timezone.localtime(obj.due_at).strftime("%Y-%m-%d %H:%M"),
            obj.pk,
        )

    @admin.display(description="player")
    def player_link(self, obj: Review) -> str:
        player = obj.player
        url = reverse("admin:players_player_change", args=[player.pk])
        return format_html(
            '<a class="underline" href="{}">{} {}</a> <span class="text-font-subtle-light">{}</span>',
            url,
            player.first_name,
            player.last_name,
            player.external_id,
        )

    @admin.display(description="level sought")
    def level(self, obj: Review) -> int:
        return obj.level_sought

    @admin.display(description="jurisdiction")
    def jurisdiction(self, obj: Review) -> str:
        return obj.player.region or obj.player.country

    @admin.display(description="documents waiting")
    def waiting(self, obj: Review) -> str:
        labels = dict(DocumentType.choices)
        types = getattr(obj, "waiting_types", None) or []
        if not types:
            return "—"
        return format_html_join(", ", "{}", ((labels.get(t, t),) for t in types))

    @admin.display(description="assignee")
    def holder(self, obj: Review) -> str:
        who = [str(obj.assignee)] if obj.assignee_id else []
        if obj.team_id:
            who.append(f"team {obj.team}")
        return " · ".join(who) or "unassigned"

    @admin.display(description="waiting for")
    def age(self, obj: Review) -> str:
        return timesince(obj.created_at, timezone.now()).split(",")[0]

    # --- actions ------------------------------------------------------------------------------------------
    def _assign_each(self, request: HttpRequest, queryset: QuerySet[Review], assignee: Any, team: Any) -> None:
        actor, done, refused = staff_of(request), 0, []
        for review in queryset.select_related(None).only("pk"):
            try:
                reviews.review_assign(actor=actor, review=review, assignee=assignee, team=team)  # type: ignore[arg-type]
                done += 1
            except ApplicationError as exc:
                refused.append(f"#{review.pk}: {exc.message}")
        if done:
            to = " and ".join(x for x in (str(assignee or ""), f"team {team}" if team else "") if x) or "the queue"
            messages.success(request, f"{done} review{'s' if done != 1 else ''} assigned to {to}.")
        for line in refused[:10]:
            messages.error(request, line)

    @action(description="Assign to the officer or team chosen", permissions=["assign"])
    def assign(self, request: HttpRequest, queryset: QuerySet[Review]) -> None:
        form = AssignChoice(request.POST)
        if not form.is_valid() or not (form.cleaned_data.get("assignee") or form.cleaned_data.get("team")):
            messages.error(request, "Choose an officer or a team to assign the selected reviews to.")
            return
        self._assign_each(request, queryset, form.cleaned_data.get("assignee"), form.cleaned_data.get("team"))

    @action(description="Return to the queue (unassign)", permissions=["assign"])
    def unassign(self, request: HttpRequest, queryset: QuerySet[Review]) -> None:
        self._assign_each(request, queryset, None, None)

    # --- the queue's header, the review page and its posts ---------------------------------------------------
    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        user = request.user
        extra = {
            "may_claim": user.has_perm(reviews.CLAIM),
            "is_lead": reviews.is_lead(user),
            "next_url": reverse("admin:kyc_review_next"),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra)

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("next/", view(review_page.next_view), name="kyc_review_next"),
            path("<int:pk>/documents/<int:document_pk>/decide/", view(self.decide_view), name="kyc_review_decide"),
            path("<int:pk>/second/<int:approval_pk>/", view(self.second_view), name="kyc_review_second"),
            path("documents/<int:document_pk>/file/", view(files.document_file_view), name="kyc_document_file"),
            path("players/<int:player_pk>/upload/", view(files.upload_view), name="kyc_document_upload"),
            *super().get_urls(),
        ]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        review = review_page.review_or_404(request, object_id)
        if request.method == "POST":  # nothing is edited through a form here: each decision has its own view
            raise PermissionDenied
        return review_page.render(self, request, review)

    def decide_view(self, request: HttpRequest, pk: int, document_pk: int) -> HttpResponse:
        return review_page.decide(self, request, pk, document_pk)

    def second_view(self, request: HttpRequest, pk: int, approval_pk: int) -> HttpResponse:
        return review_page.second(self, request, pk, approval_pk)
