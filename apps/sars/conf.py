"""The operator's goAML identity and the schema its FIU uses, read from settings (data, not code: every operator
and FIU differs). Each is read when used, with ``getattr(settings, NAME, default)``, so a test or an operator may
change one without a restart of anything but the worker.

``GOAML_SCHEMA_PATH``  the FIU's XSD (UNODC goAML 5.x); empty: no export is marked ready.
``GOAML_RENTITY_ID``  the reporting entity's id at the FIU (an integer ≥ 1).
``GOAML_RENTITY_BRANCH``  the branch the FIU registered (``rentity_branch``).
``GOAML_SUBMISSION_CODE``  ``E`` (electronic, the default) or ``M`` (manual).
``GOAML_CURRENCY_LOCAL``  the local currency (ISO 4217) of ``amount_local``; a report of transactions in another
    currency is refused by the business rules (goAML amounts are local; no conversion is guessed).
``GOAML_REPORTING_PERSON``  the MLRO as the FIU registered them: a dict with ``first_name``, ``last_name`` and
    optionally ``title``, ``email``, ``occupation``, ``phone`` (``{"prefix": "44", "number": "2079460000"}``).
``GOAML_LOCATION``  the reporting entity's address: ``address``, ``city``, ``country_code`` and optionally
    ``zip``, ``town``, ``state``.
``GOAML_INSTITUTION_NAME`` / ``GOAML_INSTITUTION_CODE``  the operator as the institution holding the players'
    accounts (``institution_name``, ``institution_code``); default: the branch and the entity id.
``GOAML_LOOKUPS``  the FIU's lookup codes, which the generic schema leaves as ``-`` (unknown): a dict of
    ``funds_deposit``, ``funds_withdrawal``, ``funds_other``, ``transmode``, ``account_type``,
    ``account_status``, ``address_type``, ``phone_contact_type``, ``phone_communication_type``,
    ``identification_<document type>`` (e.g. ``identification_passport``), ``gender``; anything not given is ``-``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

UNKNOWN = "-"  # goAML's "unknown" entry, in every lookup of every FIU's schema


def schema_path() -> str:
    return str(getattr(settings, "GOAML_SCHEMA_PATH", "") or "")


def rentity_id() -> Any:
    return getattr(settings, "GOAML_RENTITY_ID", None)


def rentity_branch() -> str:
    return str(getattr(settings, "GOAML_RENTITY_BRANCH", "") or "")


def submission_code() -> str:
    return str(getattr(settings, "GOAML_SUBMISSION_CODE", "E") or "E")


def currency_local() -> str:
    return str(getattr(settings, "GOAML_CURRENCY_LOCAL", "") or "")


def reporting_person() -> dict[str, Any]:
    return dict(getattr(settings, "GOAML_REPORTING_PERSON", None) or {})


def location() -> dict[str, Any]:
    return dict(getattr(settings, "GOAML_LOCATION", None) or {})


def institution_name() -> str:
    return str(getattr(settings, "GOAML_INSTITUTION_NAME", "") or rentity_branch())


def institution_code() -> str:
    return str(getattr(settings, "GOAML_INSTITUTION_CODE", "") or (rentity_id() or ""))


def lookup(name: str) -> str:
    """One of the FIU's lookup codes (``-``, unknown, unless the operator mapped it)."""
    codes = getattr(settings, "GOAML_LOOKUPS", None) or {}
    return str(codes.get(name) or UNKNOWN)


# the settings the lead documents (docs/SARS.md, the settings reference)
SETTINGS = (
    "GOAML_SCHEMA_PATH",
    "GOAML_RENTITY_ID",
    "GOAML_RENTITY_BRANCH",
    "GOAML_SUBMISSION_CODE",
    "GOAML_CURRENCY_LOCAL",
    "GOAML_REPORTING_PERSON",
    "GOAML_LOCATION",
    "GOAML_INSTITUTION_NAME",
    "GOAML_INSTITUTION_CODE",
    "GOAML_LOOKUPS",
)
