"""Validation of player input shared by the API serializers and the services (codes, not messages)."""

from __future__ import annotations

import ipaddress

import phonenumbers

from apps.core.iso import COUNTRIES, CURRENCIES, REGIONS


def country_ok(code: str) -> bool:
    return code in COUNTRIES


def region_ok(code: str, country: str) -> bool:
    return code in REGIONS and code.split("-", 1)[0] == country


def currency_ok(code: str) -> bool:
    return code in CURRENCIES


def ip_ok(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def e164(phone: str) -> str | None:
    """The number in E.164 form, or None if it is not a valid international number."""
    try:
        parsed = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
