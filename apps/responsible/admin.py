"""Staff screens for player protection: the player page's section, exclusions with the lift queue
(maker-checker), limits and their changes, flags, interactions, register checks. Every write calls a service."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from unfold.admin import ModelAdmin

from apps.core.admin_tools import ReadOnlyAdmin
from apps.core.errors import ApplicationError
from apps.players.choices import Action
from apps.players.models import Player
from apps.responsible import services
from apps.responsible.choices import ChangeStatus, InteractionChannel
from apps.responsible.limits import limits_from_facts, money_usage
from apps.responsible.models import (
    Exclusion,
    ExclusionCorrection,
    Flag,
    Interaction,
    Limit,
    LimitChange,
    RegisterCheck,
)
from apps.staff.models import staff_of


def limits_with_usage(player: Player) -> list[dict[str, Any]]:
    """Every limit that applies to the player (own, operator, jurisdiction) with used / remaining / percent."""
    from apps.geo import config as geo_config
    from apps.players.eligibility import facts_for

    facts = facts_for(player_id=player.pk) or {}
    now = timezone.now()
    rules = services.rules_for(player, now)
    limits = limits_from_facts(facts, rules, geo_config.age_on(player.date_of_birth, now.date()))
    rows = [u.as_dict() for u in money_usage(player.pk, limits, player.currency, now)]
    rows += [
        {"kind": lim.kind, "period": lim.period, "source": lim.source, "limit": f"{lim.minutes} min"}
        for lim in limits
        if lim.minutes
    ]
    return rows


def player_rg_section(request: HttpRequest, player: Player) -> dict[str, Any] | None:
    if not request.user.has_perm("responsible.view_exclusion"):
        return None
    now = timezone.now()
    return {
        "limits": limits_with_usage(player),
        "pending": list(LimitChange.objects.filter(player=player, status=ChangeStatus.PENDING)),
        "exclusions": [
            (e, e.in_force(now))
            for e in Exclusion.objects.filter(services.models_q_person(player)).order_by("-id")[:20]
        ],
        "flags": list(Flag.objects.filter(player=player).order_by("-id")[:10]),
        "interactions": list(Interaction.objects.filter(player=player).select_related("staff").order_by("-id")[:10]),
        "register_checks": list(RegisterCheck.objects.filter(player=player).order_by("-id")[:10]),
        "can_exclude": request.user.has_perm("responsible.exclude_player"),
        "can_record": request.user.has_perm("responsible.add_interaction"),
    }


class OperatorExclusionForm(forms.ModelForm):
    player_external_id = forms.CharField(label="Player (external id)")
    capabilities = forms.MultipleChoiceField(
        choices=Action.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Block only these actions; none ticked closes the account (withdrawals stay possible).",
    )

    class Meta:
        model = Exclusion
        fields = ("reason", "ends_at")

    def clean_player_external_id(self) -> Player:
        player = Player.objects.filter(external_id=self.cleaned_data["player_external_id"].strip()).first()
        if player is None:
            raise forms.ValidationError("No player with this external id.")
        return player


@admin.register(Exclusion)
class ExclusionAdmin(ModelAdmin):  # type: ignore[misc]
    """History of every exclusion (nothing is ever deleted). New entries here are operator exclusions."""

    list_display = ("id", "player", "kind", "term", "starts_at", "ends_at", "released_at", "lift_state")
    list_filter = ("kind",)
    search_fields = ("=player__external_id",)
    list_select_related = ("player",)
    show_full_result_count = False
    actions = ["request_lift", "approve_lift", "refuse_lift"]
    form = OperatorExclusionForm

    def lift_state(self, obj: Exclusion) -> str:
        if obj.lift_approved_by_id:
            return "lifted"
        return "lift requested" if obj.lift_requested_by_id else ""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("responsible.exclude_player")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_initial(self, request: HttpRequest) -> dict[str, Any]:  # type: ignore[override]
        return {"player_external_id": request.GET.get("player", "")}

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

    def _each(self, request: HttpRequest, queryset: QuerySet[Exclusion], perm: str, fn: Any, done: str) -> None:
        if not request.user.has_perm(perm):
            raise PermissionDenied
        for exclusion in queryset:
            try:
                fn(exclusion)
                self.message_user(request, f"#{exclusion.pk}: {done}.")
            except ApplicationError as exc:
                self.message_user(request, f"#{exclusion.pk}: {exc.message}", level=messages.ERROR)

    @admin.action(description="Ask to lift (a second staff member decides)")
    def request_lift(self, request: HttpRequest, queryset: QuerySet[Exclusion]) -> None:
        reason = request.POST.get("reason", "").strip() or "Lift requested from the exclusion list"
        self._each(
            request,
            queryset,
            "responsible.request_lift",
            lambda e: services.operator_lift_request(actor=staff_of(request), exclusion=e, reason=reason),
            "lift requested",
        )

    @admin.action(description="Approve the requested lift")
    def approve_lift(self, request: HttpRequest, queryset: QuerySet[Exclusion]) -> None:
        self._each(
            request,
            queryset,
            "responsible.decide_lift",
            lambda e: services.operator_lift_decide(actor=staff_of(request), exclusion=e, approve=True),
            "lifted",
        )

    @admin.action(description="Refuse the requested lift")
    def refuse_lift(self, request: HttpRequest, queryset: QuerySet[Exclusion]) -> None:
        self._each(
            request,
            queryset,
            "responsible.decide_lift",
            lambda e: services.operator_lift_decide(actor=staff_of(request), exclusion=e, approve=False),
            "lift refused",
        )


@admin.register(ExclusionCorrection)
class ExclusionCorrectionAdmin(ReadOnlyAdmin):
    list_display = ("id", "exclusion", "term", "ends_at", "requested_by", "decided_by", "approved")


@admin.register(Limit)
class LimitAdmin(ReadOnlyAdmin):
    list_display = ("id", "player", "kind", "period", "source", "amount", "currency", "minutes", "removed_at")
    list_filter = ("kind", "source")
    search_fields = ("=player__external_id",)
    list_select_related = ("player",)


@admin.register(LimitChange)
class LimitChangeAdmin(ReadOnlyAdmin):
    list_display = ("id", "player", "kind", "period", "old_value", "new_value", "status", "effective_at", "confirm_by")
    list_filter = ("status", "kind")
    search_fields = ("=player__external_id",)
    list_select_related = ("player",)


@admin.register(Flag)
class FlagAdmin(ReadOnlyAdmin):
    list_display = ("id", "player", "kind", "period_key", "created_at")
    list_filter = ("kind",)
    search_fields = ("=player__external_id",)
    list_select_related = ("player",)


@admin.register(RegisterCheck)
class RegisterCheckAdmin(ReadOnlyAdmin):
    list_display = ("id", "at", "register", "point", "subject", "outcome", "duration_ms", "detail")
    list_filter = ("register", "outcome")
    search_fields = ("=subject",)


class InteractionForm(forms.ModelForm):
    player_external_id = forms.CharField(label="Player (external id)")
    channel = forms.ChoiceField(choices=InteractionChannel.choices)

    class Meta:
        model = Interaction
        fields = ("channel", "summary", "outcome")

    def clean_player_external_id(self) -> Player:
        player = Player.objects.filter(external_id=self.cleaned_data["player_external_id"].strip()).first()
        if player is None:
            raise forms.ValidationError("No player with this external id.")
        return player


@admin.register(Interaction)
class InteractionAdmin(ModelAdmin):  # type: ignore[misc]
    """Calls, e-mails and their outcome; append-only."""

    list_display = ("id", "player", "channel", "outcome", "staff", "at")
    list_filter = ("channel",)
    search_fields = ("=player__external_id",)
    list_select_related = ("player", "staff")
    show_full_result_count = False
    form = InteractionForm

    def get_initial(self, request: HttpRequest) -> dict[str, Any]:  # type: ignore[override]
        return {"player_external_id": request.GET.get("player", "")}

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Interaction, form: forms.ModelForm, change: bool) -> None:
        data = form.cleaned_data
        created = services.interaction_record(
            actor=staff_of(request),
            player=data["player_external_id"],
            channel=data["channel"],
            summary=data["summary"],
            outcome=data["outcome"],
        )
        obj.pk = created.pk

    def response_add(self, request: HttpRequest, obj: Interaction, post_url_continue: str | None = None) -> Any:
        player = get_object_or_404(Player, pk=Interaction.objects.get(pk=obj.pk).player_id)
        messages.success(request, "Interaction recorded.")
        return HttpResponseRedirect(reverse("admin:players_player_change", args=[player.pk]) + "#responsible")
