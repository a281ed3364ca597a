"""Identity keys: find the same person across accounts without comparing raw personal data.

* fingerprint: HMAC of the normalised "first|last|date of birth" (accents, case, punctuation and spacing
  removed; "Zoë O'Brien-Smith" and "zoe obrien smith" agree);
* e-mail: HMAC of the lower-cased address with any "+tag" removed (and dots removed for Gmail);
* phone: HMAC of the E.164 number.

Keyed with ``IDENTITY_HASH_KEY`` so the hashes cannot be reversed by hashing a list of known addresses.
Changing that key orphans every stored key: it is set once per installation.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from datetime import date

from django.conf import settings

_NOT_LETTERS = re.compile(r"[^a-z]")
_GMAIL = {"gmail.com", "googlemail.com"}


def _keyed(value: str) -> str:
    key = settings.IDENTITY_HASH_KEY.encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def normalise_name(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    without_marks = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_LETTERS.sub("", without_marks.replace("ß", "ss"))


def fingerprint(first_name: str, last_name: str, date_of_birth: date) -> str:
    return _keyed(f"{normalise_name(first_name)}|{normalise_name(last_name)}|{date_of_birth.isoformat()}")


def normalise_email(email: str) -> str:
    local, _, domain = email.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in _GMAIL:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def email_hash(email: str) -> str:
    return _keyed(normalise_email(email))


def phone_hash(phone: str) -> str:
    return _keyed(phone) if phone else ""
