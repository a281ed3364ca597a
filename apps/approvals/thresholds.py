"""Thresholds per currency: configured once in EUR, converted by each currency's operator-maintained rate.

``CURRENCY_RATES_PER_EUR`` (settings) gives how many units of a currency one EUR buys. A second person is needed
from ``threshold_eur * rate`` in that currency, so 2,000 EUR is about 1,700 GBP and 616 KWD, not "2,000 in any
currency". A currency with no rate has no safe threshold: it always needs a second person (fail closed).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings

from apps.core.money import ROUNDING, quantize

EUR_PLACES = Decimal("0.0001")


def rate_for(currency: str) -> Decimal | None:
    rate = settings.CURRENCY_RATES_PER_EUR.get((currency or "").upper())
    return Decimal(rate) if rate is not None and Decimal(rate) > 0 else None


def to_eur(amount: Decimal, currency: str) -> Decimal | None:
    """``abs(amount)`` in EUR at today's configured rate; None when the currency has no rate."""
    rate = rate_for(currency)
    if rate is None:
        return None
    return (abs(amount) / rate).quantize(EUR_PLACES, rounding=ROUNDING)


def threshold_eur(setting: str) -> Decimal:
    return Decimal(getattr(settings, setting))


def threshold_in(setting: str, currency: str) -> Decimal | None:
    """The threshold in ``currency`` (for the screens and the docs); None when the currency has no rate."""
    rate = rate_for(currency)
    return quantize(threshold_eur(setting) * rate, currency) if rate is not None else None
