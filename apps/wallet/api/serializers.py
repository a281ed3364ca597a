"""The wallet API's response shapes, for the OpenAPI schema only.

Responses are built as plain dicts (``transaction_dict``, ``withdrawal_dict``, ``posting.format_balances``): on
the posting path a serializer would cost as much as the SQL. These classes describe those dicts and never run.
"""

from __future__ import annotations

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


class PostedOutput(serializers.Serializer):
    transaction = TransactionOutput()
    balances = BalancesOutput()


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
