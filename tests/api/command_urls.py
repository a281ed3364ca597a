"""The real URLs plus two commands that exist only to test ``apps.api.commands`` (a claim, idempotent, and a
note, not), written as a new endpoint would be."""

from __future__ import annotations

from typing import Any

from django.urls import path
from rest_framework import serializers

from apps.api.commands import AmountField, CommandInput, CommandView
from apps.api.scopes import Scope
from apps.core.errors import Conflict
from apps.players.api.serializers import TextField
from backoffice.urls import urlpatterns as real_urlpatterns

PERFORMED: list[dict[str, Any]] = []  # what the service was called with, in order


class ClaimRefused(Conflict):
    code = "claim_refused"
    when = "a test-only refusal"


class ClaimInput(CommandInput):
    code = serializers.CharField(max_length=20)
    amount = AmountField(max_length=32, required=False, allow_blank=True)
    channel = serializers.ChoiceField(choices=("web", "app"), default="web")
    currency = serializers.CharField(
        min_length=3, max_length=3, required=False, allow_blank=True, error_messages={"length": "Three letters."}
    )
    stake = serializers.IntegerField(min_value=1, max_value=100, required=False)
    consent = serializers.BooleanField(required=False)
    note = TextField(max_length=20, required=False, allow_blank=True, multiline=True)


class ClaimOutput(serializers.Serializer):
    player = serializers.CharField()
    code = serializers.CharField()


class ClaimView(CommandView):
    required_scopes = frozenset({Scope.BONUSES_WRITE})
    idempotent = True
    request_serializer = ClaimInput
    responses = {201: ClaimOutput}
    errors = {404: ("player_not_found",), 409: ("claim_refused",)}
    openapi = {"operation_id": "test_claim", "summary": "Claim (tests only)"}

    def perform(self, data: dict[str, Any]) -> dict[str, Any]:
        PERFORMED.append({"player": self.player.external_id, **data})
        if data["code"] == "refuse":
            raise ClaimRefused("Not this one.")
        return {"player": self.player.external_id, "code": data["code"]}


class NoteView(ClaimView):
    idempotent = False

    def perform(self, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return 202, super().perform(data)


urlpatterns = [
    path("api/v1/players/<str:external_id>/claims/", ClaimView.as_view()),
    path("api/v1/players/<str:external_id>/notes/", NoteView.as_view()),
    *real_urlpatterns,
]
