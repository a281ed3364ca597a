"""The platform's bonus API: thin callers of apps.bonuses.awards and apps.bonuses.wagering (docs/BONUSES.md)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.commands import CommandView, client_player
from apps.api.schema import error_responses
from apps.api.scopes import Scope
from apps.bonuses import awards, wagering
from apps.bonuses.api import serializers as bs
from apps.bonuses.choices import BonusState, TemplateState
from apps.bonuses.errors import BonusNotFound
from apps.bonuses.models import BonusTemplate, PlayerBonus
from apps.core.money import parse_amount

NOT_FOUND = {404: ("player_not_found",)}


def bonus_dict(b: PlayerBonus) -> dict[str, Any]:
    expires = b.wager_by if b.state == BonusState.ACTIVE else b.claim_by if b.state == BonusState.OFFERED else None
    return {
        "id": b.pk,
        "template": b.template.code,
        "name": b.template.name,
        "type": b.template.type,
        "state": b.state,
        "source": b.source,
        "amount": str(b.amount),
        "currency": b.currency,
        "wagering": {
            "required": str(b.wagering_required),
            "done": str(b.wagered),
            "percent": str(b.percent),
            "contributions": [{"game_category": k, "percent": str(v)} for k, v in sorted(b.contributions.items())],
            "excluded_games": list(b.excluded_games),
            "max_bet": None if b.max_bet is None else str(b.max_bet),
        },
        "offered_at": b.offered_at.isoformat(),
        "claim_by": b.claim_by.isoformat() if b.claim_by else None,
        "activated_at": b.activated_at.isoformat() if b.activated_at else None,
        "expires_at": expires.isoformat() if expires else None,
        "ended_at": b.ended_at.isoformat() if b.ended_at else None,
        "end_reason": b.end_reason,
        "converted_amount": None if b.converted_amount is None else str(b.converted_amount),
        "spins_left": b.spins_left,
    }


def available_dict(t: BonusTemplate, offer: PlayerBonus | None) -> dict[str, Any]:
    return {
        "offer_id": offer.pk if offer else None,
        "template": t.code,
        "name": t.name,
        "description": t.description,
        "type": t.type,
        "currency": t.currency,
        "percent": None if t.percent is None else str(t.percent),
        "amount": None if t.amount is None else str(t.amount),
        "min_deposit": None if t.min_deposit is None else str(t.min_deposit),
        "wagering_multiplier": str(t.wagering_multiplier),
        "days_to_wager": t.days_to_wager,
        "claim_by": offer.claim_by.isoformat() if offer and offer.claim_by else None,
        "needs_code": offer is None and bool(t.bonus_code),
    }


class BonusListView(APIView):
    required_scopes = frozenset({Scope.PLAYERS_READ})

    @extend_schema(
        operation_id="bonuses_list",
        summary="The player's bonuses, active and past, with wagering progress and the contribution table",
        responses={200: bs.BonusListOutput, **error_responses(NOT_FOUND)},
    )
    def get(self, request: Request, external_id: str) -> Response:
        player = client_player(request, external_id)
        rows = PlayerBonus.objects.filter(player=player).select_related("template").order_by("-offered_at", "-id")[:100]
        return Response({"bonuses": [bonus_dict(b) for b in rows]})


class AvailableView(APIView):
    required_scopes = frozenset({Scope.PLAYERS_READ})

    @extend_schema(
        operation_id="bonuses_available",
        summary="What the player may claim now: offers waiting for them, then published bonuses with a code",
        description="Only while can(player, 'bonus') allows: an excluded, timed-out or blocked player gets an "
        "empty list.",
        responses={200: bs.AvailableListOutput, **error_responses(NOT_FOUND)},
    )
    def get(self, request: Request, external_id: str) -> Response:
        from apps.players.eligibility import can

        player = client_player(request, external_id)
        if not can(player.pk, "bonus").allowed:
            return Response({"available": []})
        now = timezone.now()
        offers = list(
            PlayerBonus.objects.filter(player=player, state=BonusState.OFFERED, claim_by__gt=now).select_related(
                "template"
            )
        )
        out = [available_dict(o.template, o) for o in offers]
        offered = {o.template_id for o in offers}
        coded = (
            BonusTemplate.objects.filter(state=TemplateState.PUBLISHED, currency=player.currency, valid_from__lte=now)
            .exclude(bonus_code="")
            .exclude(pk__in=offered)
        )
        for t in coded.order_by("-priority", "code")[:50]:
            if t.valid_until is None or t.valid_until > now:
                out.append(available_dict(t, None))
        return Response({"available": out})


class ClaimView(CommandView):
    required_scopes = frozenset({Scope.BONUSES_WRITE})
    idempotent = True
    request_serializer = bs.ClaimInput
    responses = {201: bs.BonusEnvelope}
    errors = {
        400: ("invalid", "amount_invalid", "idempotency_key_required"),
        403: ("bonus_not_eligible",),
        404: ("player_not_found", "bonus_code_invalid", "bonus_not_found"),
        409: (
            "bonus_expired",
            "bonus_budget_exhausted",
            "bonus_already_claimed",
            "bonus_template_state",
            "idempotency_conflict",
        ),
        422: ("bonus_rule_violation",),
    }
    openapi = {
        "operation_id": "bonuses_claim",
        "summary": "Claim a bonus by its code or an offer by its id (a deposit match names its deposit)",
        "examples": [
            OpenApiExample("A code", {"code": "WELCOME100", "deposit_amount": "50.00"}),
            OpenApiExample("An offer", {"offer_id": 42}),
        ],
    }

    def perform(self, data: dict[str, Any]) -> dict[str, Any]:
        deposit = data["deposit_amount"]
        amount = parse_amount(deposit, self.player.currency, field="deposit_amount") if deposit is not None else None
        bonus = awards.bonus_claim(
            actor=self.client,
            player=self.player,
            code=data["code"],
            offer_id=data["offer_id"],
            deposit_amount=amount,
            key=f"api-{self.request.headers.get('Idempotency-Key', '')}"[:100],
        )
        return {"bonus": bonus_dict(bonus)}


class CancelView(CommandView):
    required_scopes = frozenset({Scope.BONUSES_WRITE})
    idempotent = True
    request_serializer = bs.CancelInput
    responses = {200: bs.BonusEnvelope}
    errors = {
        400: ("invalid", "idempotency_key_required"),
        404: ("player_not_found", "bonus_not_found"),
        409: ("bonus_not_active", "idempotency_conflict"),
    }
    openapi = {
        "operation_id": "bonuses_cancel",
        "summary": "The player cancels a bonus: an active one's bonus balance is forfeited, an offer simply ends",
    }

    def perform(self, data: dict[str, Any]) -> dict[str, Any]:
        bonus = PlayerBonus.objects.filter(pk=self.kwargs["bonus_id"], player=self.player).first()
        if bonus is None:
            raise BonusNotFound("No such bonus for this player.")
        bonus = awards.bonus_cancel(actor=self.client, bonus=bonus, reason=data["reason"], by_player=True)
        return {"bonus": bonus_dict(bonus)}


class WithdrawalPreviewView(APIView):
    required_scopes = frozenset({Scope.PLAYERS_READ})

    @extend_schema(
        operation_id="wallet_withdrawal_preview",
        summary="What a withdrawal request would do now to the player's active bonus (forfeit it, or nothing)",
        responses={200: bs.WithdrawalPreviewOutput, **error_responses(NOT_FOUND)},
    )
    def get(self, request: Request, external_id: str) -> Response:
        player = client_player(request, external_id)
        preview = wagering.withdrawal_preview(player.pk, player.currency)
        if preview is None:
            preview = {
                "bonus": None,
                "template": None,
                "consequence": "none",
                "bonus_balance": "0",
                "forfeited_amount": "0",
                "currency": player.currency,
                "wagering_percent": None,
            }
        return Response(preview)
