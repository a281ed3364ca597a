from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.authentication import ClientIdentity, client_of
from apps.api.schema import IDEMPOTENCY_KEY, error_responses
from apps.api.scopes import Scope
from apps.core.errors import NotFound, ValidationFailed
from apps.core.money import parse_amount, quantize
from apps.geo.choices import GameCategory
from apps.players.api.serializers import TextField
from apps.players.selectors import player_get
from apps.players.validation import CONTROL_MESSAGE, has_control_characters
from apps.wallet import posting, services
from apps.wallet.api import serializers as ws
from apps.wallet.choices import TransactionType
from apps.wallet.idempotency import check_key, run_idempotent
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


def require_scope(client: ClientIdentity, *choices: str) -> None:
    """403 ``missing_scope`` unless the client holds one of ``choices`` (views whose scope depends on the body)."""
    if not any(scope in client.scopes for scope in choices):
        raise exceptions.PermissionDenied(
            f"This API client lacks the scope(s): {' or '.join(choices)}.", code="missing_scope"
        )


class TransactionInput(serializers.Serializer):
    """Documents the request (OpenAPI); ``parse_transaction`` checks it. Amounts are parsed against the
    currency's minor unit by ``parse_amount``."""

    type = serializers.ChoiceField(choices=POSTABLE)
    player = serializers.CharField(max_length=64, help_text="The player's external_id")
    amount = serializers.CharField(max_length=32, required=False, help_text='A decimal string, e.g. "12.50"')
    currency = serializers.CharField(min_length=3, max_length=3, required=False)
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    round_id = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    game_id = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    game_category = serializers.ChoiceField(
        choices=GameCategory.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="Required for a bet (stake caps are per category); optional on a win",
    )
    provider = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    payment_method = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    instrument_fingerprint = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
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


_TEXT_LIMITS = {
    "player": 64,
    "amount": 32,
    "currency": 3,
    "reference": 100,
    "round_id": 100,
    "game_id": 100,
    "provider": 50,
    "payment_method": 30,
    "instrument_fingerprint": 64,
    "rollback_of": 100,
}
_GAME_CATEGORIES = frozenset(GameCategory.values)


def parse_transaction(raw: dict[str, Any]) -> dict[str, str]:
    """The rules of ``TransactionInput`` (which documents the schema), checked by hand: this is the hottest
    write path and a DRF serializer costs more per request than the posting's SQL. Every field is a string."""
    data: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    for name, limit in _TEXT_LIMITS.items():
        value = raw.get(name, "")
        if not isinstance(value, str):
            errors[name] = ["Not a valid string."]
            continue
        value = value.strip()
        if len(value) > limit:
            errors[name] = [f"Ensure this field has no more than {limit} characters."]
        data[name] = value
    if has_control_characters("".join(data.values())):  # one scan of every field; which ones, only if any
        for name, value in data.items():
            if has_control_characters(value):
                errors.setdefault(name, [CONTROL_MESSAGE])
    kind, category = raw.get("type"), raw.get("game_category", "")
    if kind not in POSTABLE:
        errors["type"] = [f"Must be one of: {', '.join(POSTABLE)}."]
    if category != "" and (not isinstance(category, str) or category not in _GAME_CATEGORIES):  # {} is unhashable
        errors["game_category"] = [f"Must be one of: {', '.join(sorted(_GAME_CATEGORIES))}."]
    elif kind == "bet" and category == "":  # stake caps are per category: an unnamed one could not be capped
        errors["game_category"] = [f"Required for a bet, one of: {', '.join(sorted(_GAME_CATEGORIES))}."]
    rollback_type = raw.get("rollback_type", "bet")
    if rollback_type not in ROLLBACK_TYPES:
        errors["rollback_type"] = [f"Must be one of: {', '.join(ROLLBACK_TYPES)}."]
    if data.get("currency") and len(data["currency"]) != 3:
        errors["currency"] = ["A three-letter ISO 4217 code."]
    if not errors:
        required = ["player"]
        if kind != "rollback":
            required += ["amount", "currency"]
        if kind in ("bet", "win"):
            required.append("round_id")
        if kind == "rollback":
            required.append("rollback_of")
        errors = {name: ["Required for this type."] for name in required if not data[name]}
    if errors:
        raise ValidationFailed("The input is not valid.", fields=errors)
    data["type"], data["game_category"], data["rollback_type"] = str(kind), str(category), str(rollback_type)
    return data


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
        amount = parse_amount(data["amount"], currency)
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
    return 201, {
        "transaction": transaction_dict(txn),
        "balances": posting.format_balances(posted.balances, txn.currency),
    }


class TransactionView(APIView):
    # deposit: wallet:payments; bet, win, rollback: wallet:game (require_scope, once the type is known)
    required_scopes: frozenset[str] = frozenset()

    @extend_schema(
        operation_id="wallet_post_transaction",
        summary="Post a deposit, bet, win or rollback (idempotent)",
        request=TransactionInput,
        parameters=[IDEMPOTENCY_KEY],
        examples=ws.TRANSACTION_EXAMPLES,
        responses={
            201: ws.PostedOutput,
            **error_responses(
                {
                    400: ("invalid", "amount_invalid", "currency_mismatch", "idempotency_key_required"),
                    403: ("not_allowed", "account_blocked", "blocked_for_bet", "stake_limit_exceeded", "..."),
                    404: ("player_not_found", "unknown_round", "unknown_bet", "unknown_win"),
                    409: (
                        "insufficient_funds",
                        "idempotency_conflict",
                        "already_rolled_back",
                        "duplicate_reference",
                        "round_settled",
                        "balance_limit",
                    ),
                }
            ),
        },
        description="A refusal's code is the first eligibility reason; `fields.reasons` lists them all. Replaying "
        "an Idempotency-Key returns the original status and body without a second effect.",
    )
    def post(self, request: Request) -> Response:
        client = client_of(request)
        kind = request.data.get("type") if isinstance(request.data, dict) else None
        if isinstance(kind, str) and kind in SCOPE_FOR_TYPE:
            require_scope(client, SCOPE_FOR_TYPE[kind])
        else:  # the type is refused below; a client with no wallet posting scope learns only that
            require_scope(client, Scope.WALLET_PAYMENTS, Scope.WALLET_GAME)
        key = check_key(request.headers.get("Idempotency-Key"))
        if not isinstance(request.data, dict):
            raise ValidationFailed("Send a JSON object.", fields={"non_field_errors": ["Expected an object."]})
        if "amount" in request.data and not isinstance(request.data["amount"], str):
            raise ValidationFailed(
                "Amounts are decimal strings, e.g. '12.50', never JSON numbers.",
                code="amount_invalid",
                fields={"amount": ["Send a decimal string."]},
            )
        validated = parse_transaction(request.data)
        status, body, replayed = run_idempotent(
            client=client.prefix,
            key=key,
            payload=request.data,
            write=lambda: _post(client.prefix, client.brand_ids, validated),
            savepoint=False,  # postings refuse before they write
        )
        return Response(body, status=status, headers={"Idempotent-Replayed": "true"} if replayed else None)


class BalanceView(APIView):
    required_scopes = frozenset({Scope.WALLET_READ})

    @extend_schema(
        operation_id="wallet_balance",
        summary="A player's balances",
        responses={200: ws.BalancesOutput, **error_responses({404: ("player_not_found",)})},
    )
    def get(self, request: Request, external_id: str) -> Response:
        player = player_get(external_id=external_id, brand_ids=client_of(request).brand_ids)
        return Response(posting.balances(player.pk, player.currency))


class WithdrawalInput(serializers.Serializer):
    amount = serializers.CharField(max_length=32, help_text='A decimal string, e.g. "50.00"')
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


class WithdrawalListView(APIView):
    required_scopes = frozenset({Scope.WALLET_PAYMENTS})

    @extend_schema(
        operation_id="wallet_withdrawal_request",
        summary="Request a withdrawal (cash moves to pending at once; Finance approves)",
        request=WithdrawalInput,
        parameters=[IDEMPOTENCY_KEY],
        examples=[ws.WITHDRAWAL_EXAMPLE],
        responses={
            201: ws.WithdrawalPostedOutput,
            **error_responses(
                {
                    400: ("invalid", "amount_invalid", "currency_mismatch", "idempotency_key_required"),
                    403: ("not_allowed", "blocked_for_withdrawal"),
                    404: ("player_not_found",),
                    409: ("insufficient_funds",),
                }
            ),
        },
    )
    def post(self, request: Request, external_id: str) -> Response:
        client = client_of(request)
        key = check_key(request.headers.get("Idempotency-Key"))
        if isinstance(request.data, dict) and "amount" in request.data and not isinstance(request.data["amount"], str):
            raise ValidationFailed(
                "Amounts are decimal strings.", code="amount_invalid", fields={"amount": ["Send a decimal string."]}
            )
        data = WithdrawalInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = dict(data.validated_data)

        def write() -> tuple[int, dict[str, Any]]:
            player = player_get(external_id=external_id, brand_ids=client_of(request).brand_ids)
            currency = v["currency"].upper()
            w = services.withdrawal_request(
                actor=client,
                player=player,
                amount=parse_amount(v["amount"], currency),
                currency=currency,
                api_client=client.prefix,
                reference=v["reference"],
                payment_method=v["payment_method"],
            )
            return 201, {"withdrawal": withdrawal_dict(w), "balances": posting.balances(player.pk, currency)}

        payload = {"path": request.path, "body": request.data}
        status, body, replayed = run_idempotent(client=client.prefix, key=key, payload=payload, write=write)
        return Response(body, status=status, headers={"Idempotent-Replayed": "true"} if replayed else None)


class WithdrawalCancelView(APIView):
    required_scopes = frozenset({Scope.WALLET_PAYMENTS})

    @extend_schema(
        operation_id="wallet_withdrawal_cancel",
        summary="Cancel a pending withdrawal: the funds go back to cash",
        request=None,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            200: ws.WithdrawalPostedOutput,
            **error_responses(
                {
                    400: ("idempotency_key_required", "invalid"),
                    404: ("player_not_found", "withdrawal_not_found"),
                    409: ("withdrawal_not_open", "idempotency_conflict"),
                }
            ),
        },
    )
    def post(self, request: Request, external_id: str, withdrawal_id: int) -> Response:
        client = client_of(request)
        key = check_key(request.headers.get("Idempotency-Key"))

        def write() -> tuple[int, dict[str, Any]]:
            player = player_get(external_id=external_id, brand_ids=client_of(request).brand_ids)
            w = Withdrawal.objects.filter(pk=withdrawal_id, player=player).first()
            if w is None:
                raise NotFound("No such withdrawal for this player.", code="withdrawal_not_found")
            w = services.withdrawal_cancel(actor=client, withdrawal=w, api_client=client.prefix)
            return 200, {"withdrawal": withdrawal_dict(w), "balances": posting.balances(player.pk, w.currency)}

        status, body, replayed = run_idempotent(
            client=client.prefix, key=key, payload={"path": request.path}, write=write
        )
        return Response(body, status=status, headers={"Idempotent-Replayed": "true"} if replayed else None)


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
        player = player_get(external_id=external_id, brand_ids=client_of(request).brand_ids)
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
