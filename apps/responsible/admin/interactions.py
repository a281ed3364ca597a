"""Interactions with the player (calls, e-mails and their outcome), append-only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from unfold.admin import ModelAdmin

from apps.core.admin_tools import ServiceRefusalAdminMixin
from apps.players.admin_filters import brand_filter
from apps.players.forms import PlayerField, PlayerPrefillMixin
from apps.players.models import Player
from apps.responsible import services
from apps.responsible.choices import InteractionChannel
from apps.responsible.models import Interaction
from apps.staff.models import staff_of


class InteractionForm(forms.ModelForm):
    player_external_id = PlayerField()
    channel = forms.ChoiceField(choices=InteractionChannel.choices)

    class Meta:
        model = Interaction
        fields = ("channel", "summary", "outcome")


@admin.register(Interaction)
class InteractionAdmin(PlayerPrefillMixin, ServiceRefusalAdminMixin, ModelAdmin):  # type: ignore[misc]
    """Calls, e-mails and their outcome; append-only."""

    list_display = ("id", "player", "channel", "outcome", "staff", "at")
    list_filter = ("channel", brand_filter("player__brand"))
    search_fields = ("=player__external_id",)
    list_select_related = ("player", "staff")
    show_full_result_count = False
    form = InteractionForm

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
