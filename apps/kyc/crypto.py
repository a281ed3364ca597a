"""Identity data read off documents, encrypted at rest, and the keyed hash that finds it again.

``apps.kyc.models.EncryptedText`` is django-fernet-encrypted-fields' text field keyed by ``KYC_FIELD_KEYS``
(Fernet keys, newest first: the first encrypts, every one decrypts) instead of the package's SECRET_KEY
derivation, so the
installation's secret key and the documents' key rotate independently. A value no key opens is never shown as
if it were the number: it reads as ``UNREADABLE`` and is logged. ``number_hash`` is an HMAC (``KYC_HASH_KEY``) of
the document type, issuing country and normalised number: equal on two accounts means the same document.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings

log = logging.getLogger(__name__)

UNREADABLE = "[unreadable: no KYC_FIELD_KEYS key opens it]"


def field_keys() -> list[bytes]:
    """The configured keys, or (development and tests only: production.py requires them) one derived from
    SECRET_KEY."""
    configured = [k.strip().encode() for k in settings.KYC_FIELD_KEYS if k.strip()]
    if configured:
        return configured
    return [base64.urlsafe_b64encode(hashlib.sha256(f"kyc-fields:{settings.SECRET_KEY}".encode()).digest())]


def fernet() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in field_keys()])


_NOT_ALNUM = re.compile(r"[^0-9A-Z]")


def normalised_number(number: str) -> str:
    """Upper case, letters and digits only: 'ab 12-345' and 'AB12345' are the same document number."""
    return _NOT_ALNUM.sub("", (number or "").upper())


def number_hash(document_type: str, issuing_country: str, number: str) -> str:
    """The keyed hash stored beside the encrypted number; '' for a document without a number."""
    normal = normalised_number(number)
    if not normal:
        return ""
    message = f"{document_type}:{(issuing_country or '').upper()}:{normal}".encode()
    return hmac.new(settings.KYC_HASH_KEY.encode(), message, hashlib.sha256).hexdigest()


def reencrypt(token: str) -> str:
    """The same value encrypted with the newest key (MultiFernet.rotate), for ``manage.py kyc_rotate_keys``."""
    return fernet().rotate(token.encode()).decode()
