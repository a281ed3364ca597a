from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.commands import AmountField, CommandInput, CommandView, client_player
from apps.api.schema import error_responses
from apps.api.scopes import Scope
from apps.core.money import parse_amount, quantize
from apps.geo.choices import GameCategory
from apps.players.api.serializers import TextField
from apps.wallet import free_spins, posting, services
from apps.wallet.api import serializers as ws
from apps.wallet.choices import TransactionType
from apps.wallet.errors import WithdrawalNotFound
from apps.wallet.models import LedgerTransaction, Withdrawal

POSTABLE = ("deposit", "bet", "win", "rollback")
ROLLBACK_TYPES = ("bet", "win")
# Least privilege: a payment page moves deposits, a game server bets; neither key can do the other's postings.
SCOPE_FOR_TYPE = {
    "deposit": Scope.WALLET_PAYMENTS,
    "bet": Scope.WALLET_GAME,
    "win": Scope.WALLET_GAME,
    "rollback": Scope.WALLET_GAME,
}


def _choices(values: tuple[str, ...] | list[str]) -> str:
    return ", ".join(values)


class TransactionInput(CommandInput):
    """The request (OpenAPI) and its validation (``CommandInput``). Amounts are parsed against the
    currency's minor unit by ``parse_amount``."""

    type = serializers.ChoiceField(choices=POSTABLE)
    player = serializers.CharField(max_length=64, help_text="The player's external_id")
    amount = AmountField(
        max_length=32,
        required=False,
        help_text='A decimal string, e.g. "12.50"',
        number_message="Amounts are decimal strings, e.g. '12.50', never JSON numbers.",
    )
    currency = serializers.CharField(
        min_length=3, max_length=3, required=False, error_messages={"length": "A three-letter ISO 4217 code."}
    )
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    round_id = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    game_id = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    game_category = serializers.ChoiceField(
        choices=GameCategory.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="Required for a bet (stake caps are per category); optional on a win",
        error_messages={"invalid_choice": f"Must be one of: {_choices(sorted(GameCategory.values))}."},
    )
    provider = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    payment_method = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    instrument_fingerprint = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    bonus_id = serializers.IntegerField(
        min_value=1,
        max_value=2**63 - 1,
        required=False,
        help_text="A win only: the player bonus (free spins) whose spins this win settles. The win, 0 or more, is "
        "credited wholly to the bonus balance and grows the bonus's wagering; the round has no bet (the spins cost "
        "the player nothing). Without it a win is settled against the round's bets, as always",
    )
    spins = serializers.IntegerField(
        min_value=1,
        max_value=10000,
        required=False,
        help_text="With bonus_id: how many of the bonus's spins this result covers (default 1); more than are left "
        "is refused (bonus_spins_exhausted)",
    )
    rollback_of = serializers.CharField(
        max_length=100,
        required=False,
        help_text="Reference of the bet (or, with rollback_type=win, the win) to reverse",
    )
    rollback_type = serializers.ChoiceField(
        choices=ROLLBACK_TYPES,
        required=False,
        default="bet",
        help_text="What rollback_of names; a bet whose round has a win is refused (round_settled): roll the win "
        "back first",
    )

    @classmethod
    def check(cls, data: dict[str, Any], errors: dict[str, list[str]]) -> None:
        kind = data["type"]
        if kind == "bet" and data["game_category"] == "" and "game_category" not in errors:
            # stake caps are per category: an unnamed one could not be capped
            errors["game_category"] = [f"Required for a bet, one of: {_choices(sorted(GameCategory.values))}."]
        if data["bonus_id"] is not None and kind != "win" and "bonus_id" not in errors:
            errors["bonus_id"] = ["Only a win names a bonus (a free-spin result)."]
        if data["spins"] is not None and data["bonus_id"] is None and "spins" not in errors:
            errors["spins"] = ["Only with bonus_id (a free-spin result)."]
        if errors:
            return
        required = ["player"]
        if kind != "rollback":
            required += ["amount", "currency"]
        if kind in ("bet", "win"):
            required.append("round_id")
        if data["bonus_id"] is not None:
            required.append("game_id")  # a free-spins bonus is for its template's games
        if kind == "rollback":
            required.append("rollback_of")
        errors.update({name: ["Required for this type."] for name in required if not data[name]})


def transaction_dict(txn: LedgerTransaction) -> dict[str, Any]:
    return {
        "id": txn.pk,
        "type": txn.type,
        "amount": str(quantize(txn.amount, txn.currency)),
        "currency": txn.currency,
        "created_at": txn.created_at.isoformat(),
        "reference": txn.reference,
        "round_id": txn.round_id,
        "game_id": txn.game_id,
        "game_category": txn.game_category,
        "reverses": txn.reverses_id,
    }


def _post(client: str, brand_ids: frozenset[int], data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """The posting itself; the player is found by the lock statement (one round trip, no ORM fetch), among
    the client's brands only."""
    player, kind = data["player"], data["type"]
    if kind == "rollback":
        posted = posting.rollback(
            player=player,
            bet_reference=data["rollback_of"],
            of_type=data["rollback_type"],
            api_client=client,
            reference=data["reference"],
            brand_ids=brand_ids,
        )
    else:
        currency = data["currency"].upper()
        # a free spin may win nothing: its result is still posted (it uses the spin up)
        amount = parse_amount(data["amount"], currency, allow_zero=data["bonus_id"] is not None)
        if kind == TransactionType.DEPOSIT:
            posted = posting.deposit(
                player=player,
                amount=amount,
                currency=currency,
                api_client=client,
                reference=data["reference"],
                payment_method=data["payment_method"],
                instrument_fingerprint=data["instrument_fingerprint"],
                brand_ids=brand_ids,
            )
        elif data["bonus_id"] is not None:
            posted = free_spins.free_spin_win(
                player=player,
                amount=amount,
                currency=currency,
                api_client=client,
                reference=data["reference"],
                round_id=data["round_id"],
                game_id=data["game_id"],
                game_category=data["game_category"],
                provider=data["provider"],
                bonus_id=data["bonus_id"],
                spins=data["spins"] or 1,
                brand_ids=brand_ids,
            )
        else:
            posted = (posting.bet if kind == TransactionType.BET else posting.win)(
                player=player,
                amount=amount,
                currency=currency,
                api_client=client,
                reference=data["reference"],
                round_id=data["round_id"],
                game_id=data["game_id"],
                game_category=data["game_category"],
                provider=data["provider"],
                brand_ids=brand_ids,
            )
    txn = posted.transaction
    body = {
        "transaction": transaction_dict(txn),
        "balances": posting.format_balances(posted.balances, txn.currency),
    }
    if isinstance(posted, free_spins.FreeSpinPosted):
        body["bonus"] = posted.bonus
    return 201, body


class TransactionView(CommandView):
    # deposit: wallet:payments; bet, win, rollback: wallet:game (scope_by_field, once the body is read)
    required_scopes = frozenset()
    scope_by_field = ("type", SCOPE_FOR_TYPE)
    idempotent, savepoint = True, False  # postings refuse before they write
    request_serializer = TransactionInput
    responses = {201: ws.PostedOutput}
    errors = {
        400: ("invalid", "amount_invalid", "currency_mismatch", "idempotency_key_required"),
        403: ("not_allowed", "account_blocked", "blocked_for_bet", "stake_limit_exceeded", "..."),
        404: ("player_not_found", "unknown_round", "unknown_bet", "unknown_win", "bonus_not_found"),
        409: (
            "insufficient_funds",
            "idempotency_conflict",
            "already_rolled_back",
            "duplicate_reference",
            "round_settled",
            "balance_limit",
            "bonus_not_active",
            "bonus_not_free_spins",
            "bonus_spins_exhausted",
            "bonus_game_not_included",
            "free_spins_unavailable",
        ),
    }
    openapi = {
        "operation_id": "wallet_post_transaction",
        "summary": "Post a deposit, bet, win or rollback (idempotent)",
        "examples": ws.TRANSACTION_EXAMPLES,
        "description": "A refusal's code is the first eligibility reason; `fields.reasons` lists them all. "
        "Replaying an Idempotency-Key returns the original status and body without a second effect.\n\n"
        "**Free spins.** A win with `bonus_id` is the result of that player bonus's free spins (`spins` of them, "
        "default 1): its amount (`0.00` allowed) goes wholly to the bonus balance, from the house; the bonus's "
        "amount and wagering requirement grow by it and its spins left go down, in the same transaction; the "
        "answer's `bonus` says where the bonus stands. Refused: `bonus_not_found` (no such bonus of this player), "
        "`bonus_not_free_spins`, `bonus_not_active` (ended, not yet claimed, or past its time to wager), "
        "`bonus_spins_exhausted` (more spins than are left), `bonus_game_not_included` (a game the bonus is not "
        "for), `currency_mismatch`; `free_spins_unavailable` when no bonus engine takes the result (never "
        "posted as cash).",
    }

    def perform(self, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return _post(self.client.prefix, self.brand_ids, data)


class BalanceView(APIView):
    required_scopes = frozenset({Scope.WALLET_READ})

    @extend_schema(
        operation_id="wallet_balance",
        summary="A player's balances",
        responses={200: ws.BalancesOutput, **error_responses({404: ("player_not_found",)})},
    )
    def get(self, request: Request, external_id: str) -> Response:
        player = client_player(request, external_id)
        return Response(posting.balances(player.pk, player.currency))


class WithdrawalInput(serializers.Serializer):
    amount = AmountField(max_length=32, help_text='A decimal string, e.g. "50.00"')
    currency = serializers.CharField(min_length=3, max_length=3)
    reference = TextField(max_length=100, required=False, allow_blank=True, default="")
    payment_method = TextField(max_length=30, required=False, allow_blank=True, default="")


def withdrawal_dict(w: Withdrawal) -> dict[str, Any]:
    return {
        "id": w.pk,
        "status": w.status,
        "amount": str(quantize(w.amount, w.currency)),
        "currency": w.currency,
        "requested_at": w.requested_at.isoformat(),
        "reference": w.reference,
    }


class WithdrawalListView(CommandView):
    required_scopes = frozenset({Scope.WALLET_PAYMENTS})
    idempotent = True
    request_serializer = WithdrawalInput
    responses = {201: ws.WithdrawalPostedOutput}
    errors = {
        400: ("invalid", "amount_invalid", "currency_mismatch", "idempotency_key_required"),
        403: ("not_allowed", "blocked_for_withdrawal"),
        404: ("player_not_found",),
        409: ("insufficient_funds",),
    }
    openapi = {
        "operation_id": "wallet_withdrawal_request",
        "summary": "Request a withdrawal (cash moves to pending at once; Finance approves)",
        "examples": [ws.WITHDRAWAL_EXAMPLE],
    }

    def perform(self, data: dict[str, Any]) -> dict[str, Any]:
        currency = data["currency"].upper()
        w = services.withdrawal_request(
            actor=self.client,
            player=self.player,
            amount=parse_amount(data["amount"], currency),
            currency=currency,
            api_client=self.client.prefix,
            reference=data["reference"],
            payment_method=data["payment_method"],
        )
        return {"withdrawal": withdrawal_dict(w), "balances": posting.balances(self.player.pk, currency)}

    def answered(self, status: int, body: Any) -> None:
        if status == 403 and isinstance(body, dict):
            reasons = (body.get("fields") or {}).get("reasons") or []
            if reasons:
                services.withdrawal_refused(player=self.player, reasons=list(reasons))


class WithdrawalCancelView(CommandView):
    required_scopes = frozenset({Scope.WALLET_PAYMENTS})
    idempotent = True
    responses = {200: ws.WithdrawalPostedOutput}
    errors = {
        400: ("idempotency_key_required", "invalid"),
        404: ("player_not_found", "withdrawal_not_found"),
        409: ("withdrawal_not_open", "idempotency_conflict"),
    }
    openapi = {
        "operation_id": "wallet_withdrawal_cancel",
        "summary": "Cancel a pending withdrawal: the funds go back to cash",
    }

    def perform(self, data: dict[str, Any]) -> dict[str, Any]:
        w = Withdrawal.objects.filter(pk=self.kwargs["withdrawal_id"], player=self.player).first()
        if w is None:
            raise WithdrawalNotFound("No such withdrawal for this player.")
        w = services.withdrawal_cancel(actor=self.client, withdrawal=w, api_client=self.client.prefix)
        return {"withdrawal": withdrawal_dict(w), "balances": posting.balances(self.player.pk, w.currency)}


class TransactionListQuery(serializers.Serializer):
    type = serializers.ChoiceField(choices=TransactionType.choices, required=False)
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)
    cursor = serializers.IntegerField(min_value=1, required=False, help_text="next_cursor of the previous page")
    limit = serializers.IntegerField(min_value=1, max_value=200, required=False, default=50)


class PlayerTransactionsView(APIView):
    """Keyset pagination (newest first): a page costs the same on the millionth row as on the first."""

    required_scopes = frozenset({Scope.WALLET_READ})

    @extend_schema(
        operation_id="wallet_transactions",
        summary="A player's transactions, newest first",
        parameters=[TransactionListQuery],
        responses={200: ws.TransactionPageOutput, **error_responses({400: ("invalid",), 404: ("player_not_found",)})},
    )
    def get(self, request: Request, external_id: str) -> Response:
        query = TransactionListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        player = client_player(request, external_id)
        rows = LedgerTransaction.objects.filter(player=player).order_by("-id")
        if q.get("type"):
            rows = rows.filter(type=q["type"])
        if q.get("since"):
            rows = rows.filter(created_at__gte=q["since"])
        if q.get("until"):
            rows = rows.filter(created_at__lt=q["until"])
        if q.get("cursor"):
            rows = rows.filter(id__lt=q["cursor"])
        page = list(rows[: q["limit"] + 1])
        more = len(page) > q["limit"]
        page = page[: q["limit"]]
        return Response({"results": [transaction_dict(t) for t in page], "next_cursor": page[-1].pk if more else None})
