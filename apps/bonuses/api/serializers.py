"""The bonus API's request bodies and response shapes (the outputs describe the plain dicts the views build, for
the OpenAPI schema only). The values are checked by the services (apps.bonuses.awards), with their own codes."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.api.commands import CommandInput, require_object
from apps.bonuses.choices import BonusState, BonusType, EndReason, Source
from apps.core.errors import ValidationFailed


class ContributionOutput(serializers.Serializer):
    game_category = serializers.CharField()
    percent = serializers.CharField(help_text="What a stake in this category counts toward wagering, 0 to 100")


class WageringOutput(serializers.Serializer):
    required = serializers.CharField(help_text="A decimal string in the bonus's currency")  # type: ignore[assignment]
    done = serializers.CharField()
    percent = serializers.CharField()
    contributions = ContributionOutput(many=True)
    excluded_games = serializers.ListField(child=serializers.CharField())
    max_bet = serializers.CharField(allow_null=True)


class BonusOutput(serializers.Serializer):
    id = serializers.IntegerField()
    template = serializers.CharField(help_text="The template's code")
    name = serializers.CharField()
    type = serializers.ChoiceField(choices=BonusType.choices)
    state = serializers.ChoiceField(choices=BonusState.choices)
    source = serializers.ChoiceField(choices=Source.choices)  # type: ignore[assignment]
    amount = serializers.CharField()
    currency = serializers.CharField()
    wagering = WageringOutput()
    offered_at = serializers.DateTimeField()
    claim_by = serializers.DateTimeField(allow_null=True)
    activated_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(
        allow_null=True, help_text="The time to wager (active) or to claim (offered)"
    )
    ended_at = serializers.DateTimeField(allow_null=True)
    end_reason = serializers.ChoiceField(choices=EndReason.choices, allow_blank=True)
    converted_amount = serializers.CharField(allow_null=True)
    spins_left = serializers.IntegerField(allow_null=True)


class BonusListOutput(serializers.Serializer):
    bonuses = BonusOutput(many=True)


class BonusEnvelope(serializers.Serializer):
    bonus = BonusOutput()


class AvailableOutput(serializers.Serializer):
    offer_id = serializers.IntegerField(allow_null=True, help_text="An offer waiting for the player (claim by id)")
    template = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    type = serializers.ChoiceField(choices=BonusType.choices)
    currency = serializers.CharField()
    percent = serializers.CharField(allow_null=True)
    amount = serializers.CharField(allow_null=True, help_text="The amount, or the cap of a match or cashback")
    min_deposit = serializers.CharField(allow_null=True)
    wagering_multiplier = serializers.CharField()
    days_to_wager = serializers.IntegerField()
    claim_by = serializers.DateTimeField(allow_null=True)
    needs_code = serializers.BooleanField()


class AvailableListOutput(serializers.Serializer):
    available = AvailableOutput(many=True)


class ClaimInput(CommandInput):
    code = serializers.CharField(required=False, max_length=32, help_text="A bonus code; or give offer_id")
    offer_id = serializers.IntegerField(required=False, min_value=1, help_text="An offer from .../bonuses/available/")
    deposit_amount = serializers.CharField(
        required=False, max_length=32, help_text="A deposit match: the deposit it is paid on (a decimal string)"
    )

    @classmethod
    def parse(cls, raw: Any) -> dict[str, Any]:
        body = require_object(raw)
        code, offer = body.get("code"), body.get("offer_id")
        fields: dict[str, list[str]] = {}
        if code is not None and (not isinstance(code, str) or len(code) > 32 or "\x00" in code):
            fields["code"] = ["A bonus code: text, at most 32 characters."]
        if offer is not None and (not isinstance(offer, int) or isinstance(offer, bool) or not 0 < offer < 2**63):
            fields["offer_id"] = ["An offer's id (a positive integer)."]
        if not code and offer is None and not fields:
            fields["code"] = ["Give a code or an offer_id."]
        deposit = body.get("deposit_amount")
        if deposit is not None and not isinstance(deposit, str):
            fields["deposit_amount"] = ["A decimal string, never a JSON number."]
        if fields:
            raise ValidationFailed("The claim is not valid.", fields=fields)
        return {"code": code or "", "offer_id": offer, "deposit_amount": deposit}


class CancelInput(CommandInput):
    reason = serializers.CharField(required=False, max_length=500, help_text="Optional: the player's words")

    @classmethod
    def parse(cls, raw: Any) -> dict[str, Any]:
        body = require_object(raw)
        reason = body.get("reason", "")
        if not isinstance(reason, str) or len(reason) > 500 or "\x00" in reason:
            raise ValidationFailed("The reason is text of at most 500 characters.", fields={"reason": ["Text."]})
        return {"reason": reason}


class WithdrawalPreviewOutput(serializers.Serializer):
    bonus = serializers.IntegerField(allow_null=True)
    template = serializers.CharField(allow_null=True)
    consequence = serializers.ChoiceField(
        choices=[("none", "none"), ("forfeit", "forfeit")],
        help_text="What a withdrawal request now does to the active bonus",
    )
    bonus_balance = serializers.CharField()
    forfeited_amount = serializers.CharField()
    currency = serializers.CharField()
    wagering_percent = serializers.CharField(allow_null=True)
