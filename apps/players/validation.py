"""Validation of player input shared by the API serializers and the services (codes, not messages)."""

from __future__ import annotations

import ipaddress
import re

import phonenumbers

from apps.core.errors import ReasonRequired
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


# Control characters (Unicode category Cc: NUL, BEL, BS, ESC, CR, LF, tab, DEL, the C1 range) and the Unicode line
# and paragraph separators. Names, references and one-line free text refuse all of them: they corrupt logs,
# CSV exports, screens and terminals, and PostgreSQL cannot store a NUL. A field that is meant to hold several
# lines (``multiline``: only ``address_line`` in the API) keeps its line breaks, normalised to "\n".
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_BUT_LF = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")
CONTROL_MESSAGE = "Control characters (such as NUL, ESC, BEL, tab or a line break) are not allowed here."


def normalise_line_breaks(value: str) -> str:
    return value.replace("\r\n", "\n").replace("\r", "\n")


def has_control_characters(value: str, *, multiline: bool = False) -> bool:
    """True if ``value`` holds a character a one-line text (or, ``multiline``, a text after
    ``normalise_line_breaks``) must not hold."""
    return (_CONTROL_BUT_LF if multiline else _CONTROL).search(value) is not None


def clean_staff_text(name: str, value: str, *, multiline: bool = False) -> str:
    """Staff text (admin forms, services) follows the API's rule: no control characters; a multi-line text (an
    address, a note, a reason) keeps its line breaks, as "\n". ValidationFailed naming the field otherwise."""
    from apps.core.errors import ValidationFailed

    if multiline:
        value = normalise_line_breaks(value)
    if has_control_characters(value, multiline=multiline):
        raise ValidationFailed(CONTROL_MESSAGE, fields={name: [CONTROL_MESSAGE]})
    return value


def require_reason(reason: str) -> str:
    """A staff decision's reason: required, multi-line allowed, no other control characters."""

    reason = clean_staff_text("reason", reason or "", multiline=True).strip()
    if not reason:
        raise ReasonRequired("A reason is required.", fields={"reason": ["Required."]})
    return reason
