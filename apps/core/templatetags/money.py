"""Amounts as staff read them: the currency's own decimals (two for GBP and EUR, three for KWD, none for JPY or
ISK, from ``apps.core.money.MINOR_UNITS``), thousands grouped, the ISO code in front, and a real minus sign.

    {% load money %}
    {{ balance|money:player.currency }}           GBP 3,000.00
    {{ adjustment.amount|signed_money:"KWD" }}    (U+2212 minus)KWD 12.500 or +KWD 12.500
    {% transaction_amount t %}                    the ledger headline signed by its effect on the player

The ledger keeps four decimals so that every currency fits; showing them ("3000.0000 GBP") hides the amount.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import template
from django.core.exceptions import ObjectDoesNotExist

from apps.core.money import ROUNDING, minor_unit

register = template.Library()
MINUS = "\u2212"

# The effect of a ledger transaction's (positive) headline amount on the player's balance. Adjustments carry
# their own sign (a debit is negative) and are read from the adjustment row.
DEBITS = frozenset({"bet", "win_rollback", "withdrawal", "withdrawal_paid", "bonus_forfeit"})
CREDITS = frozenset({"deposit", "win", "rollback", "withdrawal_cancel", "bonus_award", "bonus_convert"})


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() else None


def format_money(value: Any, currency: str, *, signed: bool = False) -> str:
    """``GBP 1,234.50``; with ``signed`` a credit reads ``+GBP 1,234.50`` and a debit
    the same with a minus sign (U+2212).
    Anything that is not an amount comes back as text, unchanged (never an exception in a template)."""
    amount = _decimal(value)
    if amount is None:
        return "" if value is None else str(value)
    currency = (currency or "").upper()
    places = minor_unit(currency)
    shown = abs(amount).quantize(Decimal(1).scaleb(-places), rounding=ROUNDING)
    digits = f"{shown:,.{places}f}"
    sign = MINUS if amount < 0 and shown != 0 else ("+" if signed and shown != 0 else "")
    return f"{sign}{currency} {digits}".strip() if currency else f"{sign}{digits}"


@register.filter
def money(value: Any, currency: str = "") -> str:
    return format_money(value, currency)


@register.filter
def signed_money(value: Any, currency: str = "") -> str:
    return format_money(value, currency, signed=True)


def transaction_sign(transaction: Any) -> int:
    """+1 when the transaction credits the player, -1 when it debits them."""
    if transaction.type in DEBITS:
        return -1
    if transaction.type == "adjustment":
        try:
            adjustment = transaction.adjustment
        except ObjectDoesNotExist:  # no adjustment row: show the headline as posted
            return 1
        return -1 if adjustment.amount < 0 else 1
    return 1


@register.simple_tag
def transaction_amount(transaction: Any) -> str:
    amount = _decimal(transaction.amount) or Decimal(0)
    return format_money(abs(amount) * transaction_sign(transaction), transaction.currency, signed=True)
