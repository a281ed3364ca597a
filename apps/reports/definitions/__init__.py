"""The report types Pitboss ships. Each module defines one or more ``ReportType`` subclasses and lists them in
``TYPES``; ``register_all`` (the app's ``ready``) registers every one."""

from __future__ import annotations

import importlib

MODULES: tuple[str, ...] = (
    "aml_activity",
    "bonus_cost",
    "ggr_daily",
    "kyc_status",
    "large_transactions",
    "mga_monthly",
    "player_statement",
    "rg_activity",
    "uk_quarterly",
)  # e.g. "ggr_daily": apps/reports/definitions/ggr_daily.py


def register_all() -> None:
    from apps.reports.types import register

    for name in MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        for report_type in module.TYPES:
            register(report_type())
