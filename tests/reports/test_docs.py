"""docs/REPORTS.md's "Report types" section is what ``manage.py reports_doc`` generates from the report types and
their definition modules: every shipped report is documented with its parameters, formats, permission, due date
and the definitions of its figures."""

from __future__ import annotations

from pathlib import Path

from apps.reports.management.commands.reports_doc import MARKER, render
from apps.reports.types import report_types

ROOT = Path(__file__).resolve().parents[2]


def test_the_report_types_section_is_the_generated_one() -> None:
    """Run ``manage.py reports_doc --write`` after adding or changing a report type or its definitions."""
    text = (ROOT / "docs/REPORTS.md").read_text()
    assert MARKER in text
    assert render(text) == text


def test_every_shipped_report_is_documented() -> None:
    text = (ROOT / "docs/REPORTS.md").read_text()
    shipped = [code for code, kind in report_types().items() if type(kind).__module__.startswith("apps.reports.defin")]
    assert len(shipped) >= 9
    for code in shipped:
        assert f"(`{code}`)" in text, code
