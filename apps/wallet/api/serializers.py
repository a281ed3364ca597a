"""The wallet API's response shapes, for the OpenAPI schema only.

Responses are built as plain dicts (``transaction_dict``, ``withdrawal_dict``, ``posting.format_balances``): on
the posting path a serializer would cost as much as the SQL. These classes describe those dicts and never run.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample
from rest_framework import serializers

from apps.wallet.choices import TransactionType, WithdrawalStatus

AMOUNT = 'A decimal string in the currency\'s minor unit, e.g. "12.50"'


class BalancesOutput(serializers.Serializer):
    currency = serializers.CharField()
    cash = serializers.CharField(help_text=AMOUNT)
    bonus = serializers.CharField(help_text=AMOUNT)
    pending_withdrawal = serializers.CharField(help_text=AMOUNT)
    playable = serializers.CharField(help_text="cash + bonus")


class TransactionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    type = serializers.ChoiceField(choices=TransactionType.choices)
    amount = serializers.CharField(help_text=AMOUNT)
    currency = serializers.CharField()
    created_at = serializers.DateTimeField()
    reference = serializers.CharField(allow_blank=True)
    round_id = serializers.CharField(allow_blank=True)
    game_id = serializers.CharField(allow_blank=True)
    game_category = serializers.CharField(allow_blank=True)
    reverses = serializers.IntegerField(allow_null=True, help_text="The transaction a rollback reverses")


class FreeSpinBonusOutput(serializers.Serializer):
    id = serializers.IntegerField()
    state = serializers.CharField(help_text="active, or completed when the last spin left nothing to wager")
    spins_left = serializers.IntegerField()
    amount = serializers.CharField(help_text="The bonus money so far: the spins' wins (" + AMOUNT + ")")
    currency = serializers.CharField()
    wagering_required = serializers.CharField(help_text="A decimal string with four places")
    wagered = serializers.CharField(help_text="A decimal string with four places")


class PostedOutput(serializers.Serializer):
    transaction = TransactionOutput()
    balances = BalancesOutput()
    bonus = FreeSpinBonusOutput(required=False, help_text="A free-spin result (a win with bonus_id) only")


class TransactionPageOutput(serializers.Serializer):
    results = TransactionOutput(many=True)
    next_cursor = serializers.IntegerField(allow_null=True, help_text="Pass as cursor for the next page")


class WithdrawalOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=WithdrawalStatus.choices)
    amount = serializers.CharField(help_text=AMOUNT)
    currency = serializers.CharField()
    requested_at = serializers.DateTimeField()
    reference = serializers.CharField(allow_blank=True)


class WithdrawalPostedOutput(serializers.Serializer):
    withdrawal = WithdrawalOutput()
    balances = BalancesOutput()


_PLAYER = {"player": "demo-0000001", "currency": "GBP"}
TRANSACTION_EXAMPLES = [
    OpenApiExample(
        "A deposit",
        request_only=True,
        value={**_PLAYER, "type": "deposit", "amount": "25.00", "reference": "dep-1", "payment_method": "card"},
    ),
    OpenApiExample(
        "A bet",
        request_only=True,
        value={
            **_PLAYER,
            "type": "bet",
            "amount": "2.50",
            "round_id": "R-1",
            "reference": "bet-1",
            "game_id": "starburst",
            "game_category": "slots",
        },
    ),
    OpenApiExample(
        "A win",
        request_only=True,
        value={**_PLAYER, "type": "win", "amount": "5.00", "round_id": "R-1", "reference": "win-1"},
    ),
    OpenApiExample(
        "A free-spin win (the result of a player bonus's spins)",
        request_only=True,
        value={
            **_PLAYER,
            "type": "win",
            "amount": "1.20",
            "round_id": "FS-1",
            "reference": "fs-win-1",
            "game_id": "starburst",
            "bonus_id": 1,
            "spins": 1,
        },
    ),
    OpenApiExample(
        "A rollback of a bet",
        request_only=True,
        value={"player": "demo-0000001", "type": "rollback", "rollback_of": "bet-1", "reference": "rb-1"},
    ),
]
WITHDRAWAL_EXAMPLE = OpenApiExample(
    "A withdrawal", request_only=True, value={"amount": "10.00", "currency": "GBP", "reference": "wd-1"}
)
