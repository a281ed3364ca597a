"""The thresholds' settings: rates given per currency (a bad one fails at start-up, naming the variable), and
the threshold shown in each currency."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured

from apps.approvals.thresholds import rate_for, threshold_in, to_eur
from backoffice.settings.base import _rates
from backoffice.settings.env import read


def test_rates_are_read_from_code_equals_rate_pairs():
    assert _rates("gbp=0.85, KWD=0.34,") == {"GBP": Decimal("0.85"), "KWD": Decimal("0.34")}


@pytest.mark.parametrize("bad", ["GBP", "GBP=-1", "GBP=0", "POUND=1", "GBP=NaN", "GBP=x"])
def test_a_malformed_rate_fails_at_start_up_naming_the_variable(monkeypatch, bad):
    monkeypatch.setenv("CURRENCY_RATES_PER_EUR", bad)
    with pytest.raises(ImproperlyConfigured, match="CURRENCY_RATES_PER_EUR"):
        read("CURRENCY_RATES_PER_EUR", _rates, default={})


def test_the_threshold_in_each_currency(settings):
    settings.WITHDRAWAL_SECOND_APPROVAL_THRESHOLD = Decimal("2000")
    settings.CURRENCY_RATES_PER_EUR = {"EUR": Decimal("1"), "GBP": Decimal("0.85"), "KWD": Decimal("0.34")}
    assert threshold_in("WITHDRAWAL_SECOND_APPROVAL_THRESHOLD", "GBP") == Decimal("1700.00")
    assert threshold_in("WITHDRAWAL_SECOND_APPROVAL_THRESHOLD", "KWD") == Decimal("680.000")
    assert threshold_in("WITHDRAWAL_SECOND_APPROVAL_THRESHOLD", "XYZ") is None
    assert rate_for("XYZ") is None and to_eur(Decimal("1"), "XYZ") is None
    assert to_eur(Decimal("-17.00"), "GBP") == Decimal("20.0000")
