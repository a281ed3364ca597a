"""Money at the edges: ``Decimal`` amounts with an explicit currency, quantised to the currency's minor unit.

Never floats. The ledger stores NUMERIC(20, 4) so that every ISO 4217 currency fits; amounts coming in are
checked against the currency's own minor unit (2 by default, 0 for JPY, 3 for BHD...) and refused if they
carry more decimals, rather than silently rounded.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from apps.core.errors import AmountInvalid

# ISO 4217 minor units that differ from 2 (pycountry does not carry them).
MINOR_UNITS: dict[str, int] = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0, "RWF": 0,
    "UGX": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}  # fmt: skip
# The one written form of an amount: digits, optionally a point and more digits ("12.50"). No exponents
# ("1e3"), no "NaN"/"Infinity", no thousands separators; a sign is the caller's business.
DECIMAL_TEXT = re.compile(r"[0-9]+(\.[0-9]+)?")
ROUNDING = ROUND_HALF_EVEN  # the one rounding mode, for computed amounts (e.g. splitting a win)


def minor_unit(currency: str) -> int:
    return MINOR_UNITS.get(currency, 2)


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_unit(currency))


def quantize(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(quantum(currency), rounding=ROUNDING)


def parse_amount(value: object, currency: str, *, field: str = "amount", allow_zero: bool = False) -> Decimal:
    """A positive amount in ``currency`` from a decimal string (or Decimal); 400 ``amount_invalid`` otherwise."""
    if isinstance(value, float | bool):
        raise AmountInvalid(
            "Amounts are decimal strings, e.g. '12.50'.",
            fields={field: ["Send a decimal string, not a number."]},
        )
    try:
        if not isinstance(value, Decimal) and DECIMAL_TEXT.fullmatch(str(value).strip()) is None:
            raise ValueError(value)
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise AmountInvalid("Not a decimal amount.", fields={field: ["Not a decimal."]}) from exc
    places = minor_unit(currency)
    if not amount.is_finite() or amount < 0 or (amount == 0 and not allow_zero):
        raise AmountInvalid("The amount must be positive.", fields={field: ["Must be positive."]})
    if amount.as_tuple().exponent < -places:  # type: ignore[operator]
        raise AmountInvalid(
            f"{currency} has {places} decimal places.",
            fields={field: [f"At most {places} decimal places for {currency}."]},
        )
    if amount >= Decimal("1e15"):
        raise AmountInvalid("The amount is too large.", fields={field: ["Too large."]})
    return quantize(amount, currency)
