"""The Approvals inbox: every request that waits for (or went without) a second person, of every kind, filtered
by kind, state and age. Approving or rejecting here calls the same service as the owning screens; a maker is
never offered a decision on their own request, and the service refuses it anyway."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import CharField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Concat
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince
from unfold.admin import ModelAdmin

from apps.approvals import selectors, services
from apps.approvals.admin_tools import reason_or_page
from apps.approvals.choices import ApprovalState
from apps.approvals.models import Approval
from apps.approvals.registry import kinds
from apps.core.admin_tools import DefaultChoiceFilter, EstimatedCountPaginator
from apps.core.errors import ApplicationError
from apps.core.templatetags.money import format_money
from apps.players.models import Player
from apps.staff.models import staff_of

ALL = "all"


class KindFilter(admin.SimpleListFilter):
    """The registered kinds (fixed choices from the registry: no DISTINCT over the table)."""

    title, parameter_name = "kind", "kind"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        # only the kinds the member asks for or decides: a kind's name alone may say too much (a report to the FIU)
        visible = set(selectors.kinds_visible_to(request.user))
        return [(k.code, k.label) for k in kinds() if k.code in visible]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Approval]) -> QuerySet[Approval]:
        return queryset.filter(kind=self.value()) if self.value() else queryset


class StateFilter(DefaultChoiceFilter):
    """What needs work by default: the pending requests. "All" shows the decided ones too."""

    title, parameter_name = "state", "state"
    default = ApprovalState.PENDING

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(ALL, "All"), *ApprovalState.choices]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Approval]) -> QuerySet[Approval]:
        return queryset if self.value() == ALL else queryset.filter(state=self.value())


class AgeFilter(admin.SimpleListFilter):
    title, parameter_name = "waiting", "age"
    AGES = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "3d": timedelta(days=3), "7d": timedelta(days=7)}

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(key, f"asked over {key} ago") for key in self.AGES]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Approval]) -> QuerySet[Approval]:
        age = self.AGES.get(self.value() or "")
        return queryset.filter(requested_at__lte=timezone.now() - age) if age else queryset


def _target_url(approval: Approval) -> str | None:
    kind = next((k for k in kinds() if k.code == approval.kind), None)
    if kind is not None and kind.target_url is not None:
        return kind.target_url(approval)
    ct = approval.target_ct
    try:
        return reverse(f"admin:{ct.app_label}_{ct.model}_change", args=[approval.target_id])
    except NoReverseMatch:
        return None


def target_words(approval: Approval) -> str:
    """ "Exclusion #5", "Withdrawal #12": the target's kind in words and its number (not "responsible.exclusion:5")."""
    model = approval.target_ct.model_class() if approval.target_ct_id else None
    what = str(model._meta.verbose_name).capitalize() if model is not None else approval.target_label
    return f"{what} #{approval.target_id}"


def player_name(player_id: int | None) -> str:
    """The player's name for a message (one indexed lookup; this app stores only the id)."""
    if player_id is None:
        return ""
    names = Player.objects.filter(pk=player_id).values_list("first_name", "last_name").first()
    return " ".join(names) if names else f"player #{player_id}"


@admin.register(Approval)
class ApprovalAdmin(ModelAdmin):  # type: ignore[misc]
    list_display = ("id", "waiting", "kind_label", "state", "maker", "money", "target_link", "player_link", "why")
    list_filter = (KindFilter, StateFilter, AgeFilter)
    list_select_related = ("maker", "checker", "target_ct")
    ordering = ("requested_at", "id")  # oldest first: the queue
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    actions = ["approve_selected", "reject_selected"]
    change_form_template = "admin/approvals/approval/change_form.html"
    fields = readonly_fields = (
        "kind",
        "state",
        "maker",
        "requested_at",
        "reason",
        "amount",
        "currency",
        "amount_eur",
        "target_ct",
        "target_id",
        "player_id",
        "payload",
        "checker",
        "decided_at",
        "decision_reason",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Approval]:
        # each member sees the kinds they ask for or decide, and their own requests
        players = Player.objects.filter(pk=OuterRef("player_id"))
        return selectors.inbox_for(request.user, super().get_queryset(request)).annotate(
            # the player's name and external id in the same query (this app keeps only the id)
            player_display=Concat(
                Subquery(players.values("first_name")[:1]),
                Value(" "),
                Subquery(players.values("last_name")[:1]),
                Value(" ("),
                Subquery(players.values("external_id")[:1]),
                Value(")"),
                output_field=CharField(),
            )
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_decide_permission(self, request: HttpRequest) -> bool:
        return bool(selectors.kinds_decidable_by(request.user))

    @admin.display(description="waiting", ordering="requested_at")
    def waiting(self, obj: Approval) -> str:
        return timesince(obj.requested_at)

    @admin.display(description="kind", ordering="kind")
    def kind_label(self, obj: Approval) -> str:
        return next((k.label for k in kinds() if k.code == obj.kind), obj.kind)

    @admin.display(description="amount")
    def money(self, obj: Approval) -> str:
        return format_money(obj.amount, obj.currency) if obj.amount is not None else ""

    @admin.display(description="target")
    def target_link(self, obj: Approval) -> str:
        url = _target_url(obj)
        label = target_words(obj)
        return format_html('<a href="{}">{}</a>', url, label) if url else label

    @admin.display(description="player")
    def player_link(self, obj: Approval) -> str:
        if obj.player_id is None:
            return ""
        name = getattr(obj, "player_display", None) or f"#{obj.player_id}"
        return format_html('<a href="{}">{}</a>', reverse("admin:players_player_change", args=[obj.player_id]), name)

    @admin.display(description="reason")
    def why(self, obj: Approval) -> str:
        return obj.reason if len(obj.reason) <= 80 else f"{obj.reason[:79]}…"

    def _decide(self, request: HttpRequest, approval: Approval, approve: bool, reason: str) -> bool:
        """One decision, its message naming the request's target and player ("Adjustment #1 of Ada Byron,
        -GBP 50.00: approved and applied")."""
        name = player_name(approval.player_id)
        try:
            services.approval_decide(actor=staff_of(request), approval=approval, approve=approve, reason=reason)
        except ApplicationError as exc:
            messages.error(request, f"{approval.describe(name)}. Nothing changed: {exc.message}")
            return False
        messages.success(request, f"{Approval.objects.get(pk=approval.pk).describe(name)}.")
        return True

    @admin.action(description="Approve and apply (not your own)", permissions=["decide"])
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[Approval]) -> None:
        for approval in queryset:
            self._decide(request, approval, True, "")

    @admin.action(description="Reject (with a reason)", permissions=["decide"])
    def reject_selected(self, request: HttpRequest, queryset: QuerySet[Approval]) -> HttpResponse | None:
        reason, page = reason_or_page(self, request, queryset, title="Reject the selected requests")
        if page is not None:
            return page
        for approval in queryset:
            self._decide(request, approval, False, reason or "")
        return None

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        approval = get_object_or_404(self.get_queryset(request), pk=object_id)  # not in their inbox: 404
        if request.method == "POST" and request.POST.get("_decision") in ("approve", "reject"):
            if not self.has_decide_permission(request):
                raise PermissionDenied
            approve = request.POST["_decision"] == "approve"
            self._decide(request, approval, approve, request.POST.get("reason", ""))
            return HttpResponseRedirect(reverse("admin:approvals_approval_change", args=[approval.pk]))
        extra = {
            "approval": approval,
            "target_url": _target_url(approval),
            "can_decide": selectors.may_decide(request.user, approval),
            "is_maker": approval.maker_id == request.user.pk,
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra)
