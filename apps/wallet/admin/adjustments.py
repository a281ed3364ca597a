"""Manual adjustments (maker-checker): the add form, the adjustment's page and the list's decisions."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from unfold.admin import ModelAdmin
from unfold.decorators import action
from unfold.widgets import UnfoldAdminTextInputWidget

from apps.approvals.admin_tools import reason_or_page
from apps.core.admin_tools import ServiceRefusalAdminMixin
from apps.core.errors import ApplicationError
from apps.core.templatetags.money import format_money
from apps.players.admin_filters import brand_filter
from apps.players.forms import PlayerField, PlayerPrefillMixin
from apps.staff.models import staff_of
from apps.wallet import services
from apps.wallet.choices import AdjustmentStatus
from apps.wallet.models import Adjustment


class AdjustmentForm(forms.ModelForm):
    player_external_id = PlayerField()
    amount_text = forms.CharField(
        label="Amount",
        help_text="In the player's currency: positive credits their cash, negative debits it (e.g. -10.00).",
        widget=UnfoldAdminTextInputWidget(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )

    class Meta:
        model = Adjustment
        fields = ("reason",)

    def clean(self) -> dict[str, Any]:
        """What the request would refuse is a form error here, on its field (a debit beyond the cash, an amount
        the player's currency does not have): the service's own check, read without a lock. The request
        checks again under the lock (cash may move in between)."""
        data = super().clean() or {}
        player, amount = data.get("player_external_id"), data.get("amount_text")
        if player is not None and amount:
            try:
                data["amount_value"] = services.adjustment_check(player=player, amount=amount)
            except ApplicationError as exc:
                for name, problems in (exc.fields or {"amount": [exc.message]}).items():
                    field = "amount_text" if name == "amount" else name if name in self.fields else None
                    for problem in problems:
                        self.add_error(field, problem)
        return data


def _adjustment_named(adjustment: Adjustment) -> str:
    """How a message names an adjustment: "Adjustment #1 of Ada Byron, -GBP 50.00"."""
    player = adjustment.player
    money = format_money(adjustment.amount, adjustment.currency, signed=True)
    return f"Adjustment #{adjustment.pk} of {player.first_name} {player.last_name}, {money}"


ADJUSTMENT_OUTCOME: dict[str, str] = {
    AdjustmentStatus.PENDING: "waiting for a second approver",
    AdjustmentStatus.POSTED: "posted",
    AdjustmentStatus.REJECTED: "rejected",
}


@admin.register(Adjustment)
class AdjustmentAdmin(PlayerPrefillMixin, ServiceRefusalAdminMixin, ModelAdmin):  # type: ignore[misc]
    """Manual adjustments: the requester posts small ones at once; above the threshold another person approves."""

    list_display = ("id", "requested_at", "player", "money", "status", "requested_by", "approved_by")
    list_select_related = ("player", "requested_by", "approved_by")
    list_filter = (brand_filter("player__brand"),)
    actions = ["approve", "reject"]
    change_form_template = "admin/wallet/adjustment_change.html"

    @admin.display(description="amount", ordering="amount")
    def money(self, obj: Adjustment) -> str:
        return format_money(obj.amount, obj.currency, signed=True)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = AdjustmentForm
        return super().get_form(request, obj, change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ()
        return (
            "player",
            "money",
            "reason",
            "status",
            "requested_by",
            "requested_at",
            "approved_by",
            "decided_at",
            "posted",
        )

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return (
            ("player_external_id", "amount_text", "reason") if obj is None else self.get_readonly_fields(request, obj)
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Adjustment, form: forms.ModelForm, change: bool) -> None:
        created = services.adjustment_request(
            actor=staff_of(request),
            player=form.cleaned_data["player_external_id"],
            amount=form.cleaned_data["amount_text"],
            reason=form.cleaned_data["reason"],
        )
        # the admin's message names this object: it is the one the service made ("adjustment #7 500.0000 GBP")
        obj.pk, obj.player, obj.amount, obj.currency, obj.status = (
            created.pk,
            created.player,
            created.amount,
            created.currency,
            created.status,
        )
        obj._state.adding = False
        said = f"{_adjustment_named(created)}: {ADJUSTMENT_OUTCOME[created.status]}"
        if created.status == AdjustmentStatus.PENDING:
            messages.warning(request, f"{said} (above the threshold, another staff member approves it).")
        else:
            messages.success(request, f"{said}.")

    def response_add(self, request: HttpRequest, obj: Adjustment, post_url_continue: str | None = None) -> Any:
        # save_model said what happened, naming the adjustment: one message, not Django's second "was added"
        return HttpResponseRedirect(reverse("admin:wallet_adjustment_change", args=[obj.pk]))

    def _decide(self, request: HttpRequest, queryset: QuerySet[Adjustment], approve: bool, reason: str = "") -> None:
        for adjustment in queryset:
            try:
                decided = services.adjustment_decide(
                    actor=staff_of(request), adjustment=adjustment, approve=approve, reason=reason
                )
            except ApplicationError as exc:
                messages.error(request, f"{_adjustment_named(adjustment)}: nothing changed. {exc.message}")
            else:
                messages.success(request, f"{_adjustment_named(decided)}: {ADJUSTMENT_OUTCOME[decided.status]}.")

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/decide/", view(self.decide_view), name="wallet_adjustment_decide"),
            *super().get_urls(),
        ]

    def decide_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Approve or reject (with a reason) from the adjustment's own page: the same service as the list's
        actions and the Approvals inbox, which refuses the requester and an empty reason to reject."""
        adjustment = get_object_or_404(Adjustment.objects.select_related("player"), pk=pk)
        if request.method == "POST":
            if not request.user.has_perm("wallet.approve_adjustment"):
                raise PermissionDenied
            what = request.POST.get("what", "")
            if what in ("approve", "reject"):
                reason = request.POST.get("reason", "").replace("\x00", "")
                self._decide(request, Adjustment.objects.filter(pk=pk), approve=what == "approve", reason=reason)
            else:
                messages.error(request, "Unknown decision.")
        return HttpResponseRedirect(reverse("admin:wallet_adjustment_change", args=[adjustment.pk]))

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        found = self.get_object(request, object_id)
        if found is None:
            raise Http404("No such adjustment.")
        if not self.has_view_or_change_permission(request, found):  # object grants included
            raise PermissionDenied
        adjustment = Adjustment.objects.select_related("player").filter(pk=object_id).first()
        pending = adjustment is not None and adjustment.status == AdjustmentStatus.PENDING
        extra = {
            "adjustment": adjustment,
            "adjustment_name": _adjustment_named(adjustment) if adjustment is not None else "",
            "may_decide": pending
            and request.user.has_perm("wallet.approve_adjustment")
            and adjustment is not None
            and adjustment.requested_by_id != request.user.pk,
            "is_requester": pending and adjustment is not None and adjustment.requested_by_id == request.user.pk,
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra)

    @action(description="Approve (not your own)")
    def approve(self, request: HttpRequest, queryset: QuerySet[Adjustment]) -> None:
        if not request.user.has_perm("wallet.approve_adjustment"):
            raise PermissionDenied
        self._decide(request, queryset, approve=True)

    @action(description="Reject (with a reason)")
    def reject(self, request: HttpRequest, queryset: QuerySet[Adjustment]) -> HttpResponse | None:
        if not request.user.has_perm("wallet.approve_adjustment"):
            raise PermissionDenied
        reason, page = reason_or_page(self, request, queryset, title="Reject the selected adjustments")
        if page is not None:
            return page
        self._decide(request, queryset, approve=False, reason=reason or "")
        return None
