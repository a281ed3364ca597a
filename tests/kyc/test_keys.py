"""Rotating KYC_FIELD_KEYS: ``manage.py kyc_rotate_keys`` re-encrypts every document number under the newest key,
once; the numbers read the same before, during and after, and the old key can then be dropped."""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from apps.audit.models import AuditEvent
from apps.audit.services import SystemActor
from apps.kyc import documents
from apps.kyc.models import Document
from tests.factories import PlayerFactory
from tests.kyc import documents as files

pytestmark = pytest.mark.django_db


def raw_number(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT number FROM kyc_document WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_rotation_re_encrypts_every_number_once_under_the_newest_key(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.KYC_FIELD_KEYS = [old]
    docs = [
        documents.document_upload(
            actor=SystemActor("platform"),
            player=PlayerFactory(),
            document_type="passport",
            data=files.jpeg(),
            source="api",
            issuing_country="GB",
            expires_on=date.today() + timedelta(days=300),
            number=f"N{n}",
        )
        for n in range(3)
    ]
    settings.KYC_FIELD_KEYS = [new, old]
    out = StringIO()
    call_command("kyc_rotate_keys", "--batch", "2", stdout=out)
    assert "kyc_document: 3 values re-encrypted" in out.getvalue()
    for n, doc in enumerate(docs):
        assert Fernet(new.encode()).decrypt(raw_number(doc.pk).encode()) == f"N{n}".encode()
    call_command("kyc_rotate_keys", stdout=(again := StringIO()))
    assert "kyc_document: 0 values re-encrypted" in again.getvalue()
    settings.KYC_FIELD_KEYS = [new]  # the old key dropped
    assert [Document.objects.get(pk=d.pk).number for d in docs] == ["N0", "N1", "N2"]
    assert AuditEvent.objects.filter(action="kyc.keys_rotated").count() == 2
