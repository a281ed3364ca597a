"""The compliance reports' files: each report writes every format it offers from its own tests' data, and the same
data writes the same bytes (a re-run of a closed period has the same SHA-256)."""

from __future__ import annotations

import inspect
import os
from datetime import date

import pytest

from apps.reports import runs
from apps.reports.context import RunContext
from apps.reports.types import report_type
from tests.reports import test_aml_activity, test_bonus_cost, test_kyc_status, test_rg_activity, test_uk_quarterly

pytestmark = pytest.mark.django_db

MARCH = {"start": "2026-03-01", "end": "2026-03-31"}
CASES = [
    ("uk_quarterly", test_uk_quarterly.build_quarter, {"quarter": "2026-Q2"}),
    ("rg_activity", test_rg_activity.build_march, MARCH),
    ("kyc_status", test_kyc_status.build_march, MARCH),
    ("aml_activity", test_aml_activity.build_march, {**MARCH, "include_sars": "yes"}),
    ("bonus_cost", test_bonus_cost.build_bonuses, MARCH),
]


@pytest.fixture(autouse=True)
def kyc_files(settings, tmp_path, monkeypatch):
    settings.KYC_STORAGE = "filesystem"
    settings.KYC_FILES_ROOT = str(tmp_path / "kyc-files")
    # Importing WeasyPrint (the PDF writer) turns Pillow's LOAD_TRUNCATED_IMAGES on for the whole process, and KYC
    # intake refuses to run with it: put it back after the test so later tests in this process can upload.
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", ImageFile.LOAD_TRUNCATED_IMAGES)


@pytest.mark.parametrize(("code", "build", "params"), CASES, ids=[case[0] for case in CASES])
def test_every_format_is_written_and_the_same_data_gives_the_same_bytes(request, code, build, params):
    build(**{name: request.getfixturevalue(name) for name in inspect.signature(build).parameters})
    kind = report_type(code)
    assert kind is not None
    values, texts, errors = kind.clean(params, today=date(2026, 12, 7))
    assert errors == {} and kind.check(values, None) == {}
    for fmt in kind.formats:
        first = runs.produce(kind, values, texts, fmt, RunContext())
        second = runs.produce(kind, values, texts, fmt, RunContext())
        request.addfinalizer(lambda paths=(first.path, second.path): [os.unlink(path) for path in paths])
        assert first.size > 0 and first.rows > 0
        assert (first.sha256, first.size, first.rows) == (second.sha256, second.size, second.rows), fmt
        if fmt == "csv":
            with open(first.path, encoding="utf-8", newline="") as handle:
                assert handle.read().startswith(f"# {kind.title}\r\n")
