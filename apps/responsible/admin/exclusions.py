"""Exclusions with the lift queue (maker-checker) and the data-entry corrections' queue; every write calls a
service."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from unfold.admin import ModelAdmin

from apps.approvals.admin_tools import reason_or_page
from apps.core.admin_tools import ReadOnlyAdmin, ServiceRefusalAdminMixin
from apps.core.errors import ApplicationError
from apps.geo.terms import is_valid_term
from apps.players.admin_filters import brand_filter
from apps.players.choices import Action
from apps.players.forms import PlayerField, PlayerPrefillMixin
from apps.responsible import services
from apps.responsible.choices import ExclusionKind
from apps.responsible.coverage import coverage_summary
from apps.responsible.models import (
    Exclusion,
    ExclusionCorrection,
)
from apps.staff.models import staff_of

KIND_NAMES = {
    ExclusionKind.TIME_OUT: "Time-out",
    ExclusionKind.SELF_EXCLUSION: "Self-exclusion",
    ExclusionKind.OPERATOR: "Operator exclusion",
}


def exclusion_name(exclusion: Exclusion) -> str:
    """How a message names an exclusion: ``Self-exclusion #12 of Ada Byron (P-1001)``."""
    player = exclusion.player
    kind = KIND_NAMES.get(exclusion.kind, exclusion.kind)  # type: ignore[call-overload]
    if exclusion.kind == ExclusionKind.OPERATOR and exclusion.capabilities:
        kind = f"Operator block of {', '.join(exclusion.capabilities)}"
    return f"{kind} #{exclusion.pk} of {player.first_name} {player.last_name} ({player.external_id})"


class OperatorExclusionForm(forms.ModelForm):
    player_external_id = PlayerField()
    capabilities = forms.MultipleChoiceField(
        choices=Action.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Block only these actions; none ticked closes the account (withdrawals stay possible).",
    )

    class Meta:
        model = Exclusion
        fields = ("reason", "ends_at")


class PendingLiftFilter(admin.SimpleListFilter):
    """The checker's queue: operator exclusions with a lift requested and not yet decided."""

    title, parameter_name = "lift", "lift"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("requested", "Lift requested (to decide)")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Exclusion]) -> QuerySet[Exclusion]:
        if self.value() == "requested":
            return queryset.filter(lift_requested_by__isnull=False, lift_approved_by__isnull=True)
        return queryset


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=500, strip=True)


class CorrectionForm(forms.Form):
    """A data-entry correction: the term that should have been keyed in; the end follows from the start."""

    term = forms.CharField(max_length=12, help_text="e.g. 6m, 1y, 5y, permanent, 72h; the end follows from the start")
    reason = forms.CharField(max_length=500)

    def __init__(self, *args: Any, exclusion: Exclusion, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.exclusion = exclusion

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        term = (data.get("term") or "").strip()
        if term and not is_valid_term(term):
            self.add_error("term", "Not a term (use e.g. 6m, 1y, permanent).")
        data["term"] = term
        return data


def correction_terms(exclusion: Exclusion) -> tuple[list[str], str]:
    """What a correction may key in (the service refuses anything else): the self-exclusion terms the
    jurisdiction offered when the exclusion started, or a time-out's range in hours."""
    rules = services.rules_for(exclusion.player, exclusion.starts_at)
    if exclusion.kind == ExclusionKind.SELF_EXCLUSION:
        return list(services.offered_terms(rules)), ""
    low, high = services.timeout_range(rules)
    return [], f"{low}h to {high}h, e.g. {low}h"


@admin.register(Exclusion)
class ExclusionAdmin(PlayerPrefillMixin, ServiceRefusalAdminMixin, ModelAdmin):  # type: ignore[misc]
    """History of every exclusion (nothing is ever deleted). New entries here are operator exclusions; an
    exclusion's page carries the decisions, each with a reason: ask to lift, decide a lift, ask for a
    correction."""

    list_display = ("id", "player", "kind", "term", "starts_at", "ends_at", "released_at", "lift_state")
    list_filter = ("kind", PendingLiftFilter, brand_filter("player__brand"))
    search_fields = ("=player__external_id",)
    list_select_related = ("player",)
    show_full_result_count = False
    actions = ["approve_lift", "refuse_lift"]
    form = OperatorExclusionForm
    change_form_template = "admin/responsible/exclusion_change.html"
    readonly_fields = (
        "player",
        "kind",
        "term",
        "capabilities",
        "starts_at",
        "ends_at",
        "released_at",
        "return_requested_at",
        "reason",
        "created_by",
        "api_client",
        "lift_requested_by",
        "lift_requested_at",
        "lift_reason",
        "lift_approved_by",
        "superseded_by",
    )

    def lift_state(self, obj: Exclusion) -> str:
        if obj.lift_approved_by_id:
            return "lifted"
        return "lift requested" if obj.lift_requested_by_id else ""

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.readonly_fields if obj is not None else ("player_external_id", "reason", "capabilities", "ends_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.readonly_fields if obj is not None else ()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("responsible.exclude_player")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Exclusion, form: forms.ModelForm, change: bool) -> None:
        data = form.cleaned_data
        created = services.operator_exclude(
            actor=staff_of(request),
            player=data["player_external_id"],
            reason=data["reason"],
            capabilities=list(data["capabilities"]),
            ends_at=data.get("ends_at"),
        )
        obj.pk = created.pk

    def response_add(self, request: HttpRequest, obj: Exclusion, post_url_continue: str | None = None) -> Any:
        """Back to the player's page, where the block now shows in what the player may do."""
        created = Exclusion.objects.select_related("player").get(pk=obj.pk)
        messages.success(request, f"{exclusion_name(created)}: in force now.")
        return HttpResponseRedirect(reverse("admin:players_player_change", args=[created.player_id]) + "#capabilities")

    def _each(self, request: HttpRequest, queryset: QuerySet[Exclusion], perm: str, fn: Any, done: str) -> None:
        if not request.user.has_perm(perm):
            raise PermissionDenied
        for exclusion in queryset.select_related("player"):
            try:
                fn(exclusion)
                self.message_user(request, f"{exclusion_name(exclusion)}: {done}.")
            except ApplicationError as exc:
                self.message_user(request, f"{exclusion_name(exclusion)}: {exc.message}", level=messages.ERROR)

    @admin.action(description="Approve the requested lift")
    def approve_lift(self, request: HttpRequest, queryset: QuerySet[Exclusion]) -> None:
        self._each(
            request,
            queryset,
            "responsible.decide_lift",
            lambda e: services.operator_lift_decide(actor=staff_of(request), exclusion=e, approve=True),
            "lifted",
        )

    @admin.action(description="Refuse the requested lift (with a reason)")
    def refuse_lift(self, request: HttpRequest, queryset: QuerySet[Exclusion]) -> HttpResponse | None:
        if not request.user.has_perm("responsible.decide_lift"):
            raise PermissionDenied
        reason, page = reason_or_page(self, request, queryset, title="Refuse the requested lifts")
        if page is not None:
            return page
        self._each(
            request,
            queryset,
            "responsible.decide_lift",
            lambda e: services.operator_lift_decide(
                actor=staff_of(request), exclusion=e, approve=False, reason=reason or ""
            ),
            "lift request refused",
        )
        return None

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/decide/", view(self.decide_view), name="responsible_exclusion_decide"),
            *super().get_urls(),
        ]

    def decide_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The exclusion page's forms: ask to lift (reason), approve or refuse a lift, ask for a correction."""
        exclusion = get_object_or_404(Exclusion.objects.select_related("player"), pk=pk)
        back = HttpResponseRedirect(reverse("admin:responsible_exclusion_change", args=[pk]))
        name = exclusion_name(exclusion)
        if request.method != "POST":
            return back
        what, actor = request.POST.get("what", ""), staff_of(request)
        perms = {
            "request_lift": "responsible.request_lift",
            "approve_lift": "responsible.decide_lift",
            "refuse_lift": "responsible.decide_lift",
            "correct": "responsible.correct_exclusion",
        }
        if what not in perms:
            messages.error(request, f"{name}: unknown decision.")
            return back
        if not request.user.has_perm(perms[what]):
            raise PermissionDenied
        try:
            if what == "request_lift":
                reason_form = ReasonForm(request.POST)
                if not reason_form.is_valid():
                    messages.error(request, f"{name}: a reason is required to ask for a lift.")
                    return back
                services.operator_lift_request(
                    actor=actor, exclusion=exclusion, reason=reason_form.cleaned_data["reason"]
                )
                done = "lift requested; a second staff member decides."
            elif what == "correct":
                form = CorrectionForm(request.POST, exclusion=exclusion)
                if not form.is_valid():
                    errors = "; ".join(" ".join(str(e) for e in v) for v in form.errors.values())
                    messages.error(request, f"{name}: the correction was not recorded. {errors}")
                    return back
                services.exclusion_correction_request(actor=actor, exclusion=exclusion, **form.cleaned_data)
                done = "correction requested; a second staff member applies it."
            elif what == "refuse_lift" and not request.POST.get("reason", "").strip():
                # the service refuses it too (approvals: a rejection has a reason); said here in the page's words
                messages.error(request, f"{name}: a reason is required to refuse a lift request.")
                return back
            else:
                services.operator_lift_decide(
                    actor=actor,
                    exclusion=exclusion,
                    approve=what == "approve_lift",
                    reason=request.POST.get("reason", ""),
                )
                done = "lifted (ends now)." if what == "approve_lift" else "lift request refused."
        except ApplicationError as exc:
            messages.error(request, f"{name}: {exc.message}")
        else:
            messages.success(request, f"{name}: {done}")
        return back

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        exclusion = get_object_or_404(Exclusion.objects.select_related("player"), pk=object_id)
        user, operator = request.user, exclusion.kind == ExclusionKind.OPERATOR
        in_force, lift_pending = exclusion.in_force(), bool(exclusion.lift_requested_by_id)
        extra = {
            "exclusion": exclusion,
            "in_force": in_force,
            "can_request_lift": operator
            and in_force
            and not lift_pending
            and user.has_perm("responsible.request_lift"),
            "can_decide_lift": lift_pending
            and not exclusion.lift_approved_by_id
            and exclusion.lift_requested_by_id != user.pk  # never one's own request (the service refuses it too)
            and user.has_perm("responsible.decide_lift"),
            "can_correct": not operator
            and not exclusion.superseded_by_id
            and user.has_perm("responsible.correct_exclusion"),
            "correction_terms": correction_terms(exclusion),
            "corrections": list(exclusion.corrections.select_related("requested_by", "decided_by").order_by("-id")),
            "coverage": coverage_summary(exclusion),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra)


class PendingCorrectionFilter(admin.SimpleListFilter):
    title, parameter_name = "decision", "decision"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("pending", "To decide")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(approved__isnull=True) if self.value() == "pending" else queryset


@admin.register(ExclusionCorrection)
class ExclusionCorrectionAdmin(ReadOnlyAdmin):
    """The checker's queue for data-entry corrections: a different staff member applies or refuses."""

    list_display = ("id", "exclusion", "term", "ends_at", "reason", "requested_by", "decided_by", "approved")
    list_filter = (PendingCorrectionFilter, brand_filter("exclusion__player__brand"))
    list_select_related = ("exclusion", "requested_by", "decided_by")
    actions = ["apply", "refuse"]

    def _each(
        self, request: HttpRequest, queryset: QuerySet[ExclusionCorrection], approve: bool, reason: str = ""
    ) -> None:
        if not request.user.has_perm("responsible.correct_exclusion"):
            raise PermissionDenied
        for correction in queryset.select_related("exclusion__player"):
            name = f"Correction #{correction.pk} of {exclusion_name(correction.exclusion)} to {correction.term}"
            try:
                services.exclusion_correction_decide(
                    actor=staff_of(request), correction=correction, approve=approve, reason=reason
                )
            except ApplicationError as exc:
                self.message_user(request, f"{name}: {exc.message}", level=messages.ERROR)
            else:
                self.message_user(request, f"{name}: {'applied' if approve else 'refused'}.")

    @admin.action(description="Apply the correction (second staff member)")
    def apply(self, request: HttpRequest, queryset: QuerySet[ExclusionCorrection]) -> None:
        self._each(request, queryset, approve=True)

    @admin.action(description="Refuse the correction (with a reason)")
    def refuse(self, request: HttpRequest, queryset: QuerySet[ExclusionCorrection]) -> HttpResponse | None:
        if not request.user.has_perm("responsible.correct_exclusion"):
            raise PermissionDenied
        reason, page = reason_or_page(self, request, queryset, title="Refuse the selected corrections")
        if page is not None:
            return page
        self._each(request, queryset, approve=False, reason=reason or "")
        return None
