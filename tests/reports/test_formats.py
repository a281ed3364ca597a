"""The file writers' details: money at its currency's scale and never rounded away, and a PDF that leaves Pillow's
LOAD_TRUNCATED_IMAGES as it found it (WeasyPrint's import turns it on; KYC intake refuses to run with it)."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

from PIL import ImageFile

from apps.reports.formats import Meta, _Counter, money_text, write_pdf
from apps.reports.types import Column, Table


def test_money_is_written_at_its_currencys_scale_without_losing_digits() -> None:
    assert money_text(Decimal("12.5"), "GBP") == "12.50"
    assert money_text(Decimal("1.2345"), "KWD") == "1.2345"  # the ledger's fourth decimal is kept, not rounded
    assert money_text(Decimal("1.234"), "KWD") == "1.234"
    assert money_text(Decimal("100"), "JPY") == "100"
    assert money_text(Decimal("-0.10"), "EUR") == "-0.10"


def test_a_pdf_leaves_pillows_truncated_images_switch_off() -> None:
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    out = io.BytesIO()
    write_pdf(out, Meta("T", "t", {}, date(2026, 1, 1)), [Table("a", "A", [Column("x", "X")], [("1",)])], _Counter())
    assert out.getvalue().startswith(b"%PDF") and ImageFile.LOAD_TRUNCATED_IMAGES is False
