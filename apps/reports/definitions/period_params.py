"""The parameters of the compliance reports that cover a period of local days (``rg_activity``, ``kyc_status``,
``aml_activity``, ``bonus_cost``): a first and a last day, the previous month when left empty (what a monthly
schedule wants), and an optional jurisdiction."""

from __future__ import annotations

from datetime import date, timedelta

from apps.reports.types import Param


def first_of_previous_month(today: date) -> str:
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1).isoformat()


def last_of_previous_month(today: date) -> str:
    return (today.replace(day=1) - timedelta(days=1)).isoformat()


START = Param("start", "day", label="From", default=first_of_previous_month, help="The first local day")
END = Param("end", "day", label="To", default=last_of_previous_month, help="The last local day (included)")
JURISDICTION = Param("jurisdiction", "jurisdiction", label="Jurisdiction", required=False, help="Empty: all")
PERIOD_PARAMS = (START, END, JURISDICTION)
