"""The vendor webhook through the test client with really signed requests: applied once, and every refusal with
its code (apps/kyc/vendors.py; the protocol is in docs/KYC.md, "Vendor webhook")."""

from __future__ import annotations

import json
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from apps.audit.models import AuditEvent
from apps.audit.services import SystemActor
from apps.core.errors import ApplicationError, ValidationFailed
from apps.kyc import documents, vendors
from apps.kyc.choices import Source
from apps.kyc.models import Document, DocumentDecision, KycProfile, Vendor, VendorEvent
from tests.factories import PlayerFactory
from tests.kyc import documents as files

pytestmark = pytest.mark.django_db
SECRET = "whsec_" + "k" * 40
URL = "/api/v1/kyc/vendors/acme/events/"
ERROR_KEYS = {"code", "message", "fields", "request_id"}


@pytest.fixture
def vendor() -> Vendor:
    return vendors.vendor_save(actor=SystemActor("tests"), slug="acme", name="Acme ID", secret=SECRET)


@pytest.fixture
def document() -> Document:
    player = PlayerFactory(kyc_level=0)
    return documents.document_upload(
        actor=SystemActor("platform"),
        player=player,
        document_type="passport",
        data=files.jpeg(),
        source=Source.API,
        expires_on=date.today() + timedelta(days=365),
    )


def event(document: Any, event_id: str = "evt_1", decision: str = "approve", **extra: Any) -> bytes:
    pk = document.pk if isinstance(document, Document) else document
    return json.dumps({"event_id": event_id, "document": pk, "decision": decision, **extra}).encode()


def send(body: bytes, *, signature: str | None = None, secret: str = SECRET, url: str = URL, at: int | None = None):
    if signature is None:
        signature = vendors.signature_header(secret, body, timestamp=at)
    headers = {} if signature == "" else {"HTTP_X_PITBOSS_SIGNATURE": signature}
    return Client().post(url, data=body, content_type="application/json", **headers)


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == ERROR_KEYS and body["code"] == code, body
    return body


def test_a_signed_approval_is_applied_and_recorded(vendor, document):
    body = event(document)
    response = send(body)

    assert response.status_code == 200, response.content
    assert response.json() == {
        "event_id": "evt_1",
        "document": document.pk,
        "applied": True,
        "outcome": "applied:approved",
        "state": "approved",
    }
    document.refresh_from_db()
    assert document.state == "approved"
    assert KycProfile.objects.get(player=document.player).level == 1
    decision = DocumentDecision.objects.get(document=document)
    assert decision.vendor == "acme" and decision.level_after == 1
    row = VendorEvent.objects.get(vendor=vendor, event_id="evt_1")
    assert row.document == document and row.outcome == "applied:approved"
    assert row.payload_sha256 == __import__("hashlib").sha256(body).hexdigest()
    assert AuditEvent.objects.get(action="kyc.document_approved").actor_name == "vendor:acme"


def test_a_rejection_carries_its_reason_and_message(vendor, document):
    response = send(event(document, decision="reject", reason_code="unreadable", message="The photo is blurred."))
    assert response.json()["state"] == "rejected"
    document.refresh_from_db()
    assert (document.rejection_reason, document.message) == ("unreadable", "The photo is blurred.")


def test_a_bad_or_missing_signature_is_401_and_nothing_happens(vendor, document):
    body = event(document)
    assert_error(send(body, secret="whsec_" + "x" * 40), 401, "signature_invalid")
    assert_error(send(body, signature=""), 401, "signature_invalid")
    for header in ("v1=abc", f"t={int(time.time())}", "t=soon,v1=abc", "garbage", "t=1,v1=" + "0" * 64):
        assert_error(send(body, signature=header), 401, "signature_invalid")
    assert not VendorEvent.objects.exists()
    document.refresh_from_db()
    assert document.state == "pending"


def test_a_tampered_body_is_401(vendor, document):
    signed = event(document, decision="reject", reason_code="unreadable")
    header = vendors.signature_header(SECRET, signed)
    tampered = event(document, decision="approve")
    assert_error(send(tampered, signature=header), 401, "signature_invalid")
    # the same bytes with one space added: the signature covers the raw body, not its parsed value
    assert_error(send(signed.replace(b",", b", ", 1), signature=header), 401, "signature_invalid")
    assert not VendorEvent.objects.exists()
    assert Document.objects.get(pk=document.pk).state == "pending"


def test_a_stale_or_future_timestamp_is_401(vendor, document):
    now = int(time.time())
    assert_error(send(event(document), at=now - 3600), 401, "signature_stale")
    assert_error(send(event(document), at=now + 3600), 401, "signature_stale")
    assert not VendorEvent.objects.exists()
    vendors.vendor_save(actor=SystemActor("tests"), vendor=vendor, slug="acme", name="Acme ID", tolerance_seconds=3600)
    assert send(event(document), at=now - 1800).status_code == 200  # within the vendor's own tolerance


def test_a_replayed_event_id_is_409_and_not_applied_again(vendor, document):
    body = event(document)
    assert send(body).status_code == 200
    decisions = DocumentDecision.objects.count()

    assert_error(send(body), 409, "event_replayed")  # the same delivery again, freshly signed
    assert_error(send(event(document, decision="reject", reason_code="unreadable")), 409, "event_replayed")
    assert VendorEvent.objects.count() == 1 and DocumentDecision.objects.count() == decisions
    assert Document.objects.get(pk=document.pk).state == "approved"


def test_an_unknown_document_is_404_and_nothing_is_recorded(vendor, document):
    assert_error(send(event(document.pk + 1000)), 404, "document_not_found")
    assert not VendorEvent.objects.exists()


def test_a_second_event_for_a_decided_document_is_recorded_but_not_applied(vendor, document):
    assert send(event(document, "evt_1", "reject", reason_code="unreadable")).json()["applied"] is True

    response = send(event(document, "evt_2", "approve"))

    assert response.status_code == 200, response.content
    assert response.json() == {
        "event_id": "evt_2",
        "document": document.pk,
        "applied": False,
        "outcome": "not_pending",
        "state": "rejected",
    }
    assert list(VendorEvent.objects.order_by("pk").values_list("event_id", "outcome")) == [
        ("evt_1", "applied:rejected"),
        ("evt_2", "not_pending"),
    ]
    assert DocumentDecision.objects.filter(document=document).count() == 1
    assert KycProfile.objects.get(player=document.player).level == 0


def test_a_source_of_funds_stays_with_two_officers(vendor, document):
    funds = documents.document_upload(
        actor=SystemActor("platform"),
        player=document.player,
        document_type="source_of_funds",
        data=files.pdf(),
        source=Source.API,
    )
    body = send(event(funds, "evt_funds")).json()
    assert (body["applied"], body["outcome"], body["state"]) == (False, "needs_officers", "pending")


def test_an_unknown_or_inactive_vendor_is_404(vendor, document):
    assert_error(send(event(document), url="/api/v1/kyc/vendors/nobody/events/"), 404, "vendor_not_found")
    vendors.vendor_save(actor=SystemActor("tests"), vendor=vendor, slug="acme", name="Acme ID", active=False)
    assert_error(send(event(document)), 404, "vendor_not_found")
    assert not VendorEvent.objects.exists()


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        (b"{not json", "parse_error", None),
        (b"[" * 5000 + b"]" * 5000, "parse_error", None),
        (b'{"event_id": NaN}', "parse_error", None),
        (b"[]", "invalid", "non_field_errors"),
        (b'{"document": 1, "decision": "approve"}', "invalid", "event_id"),
        (b'{"event_id": "e", "document": "1", "decision": "approve"}', "invalid", "document"),
        (b'{"event_id": "e", "document": true, "decision": "approve"}', "invalid", "document"),
        (b'{"event_id": "e", "document": 1, "decision": "maybe"}', "invalid", "decision"),
        (b'{"event_id": "e\\u0000", "document": 1, "decision": "approve"}', "invalid", "event_id"),
        (b'{"event_id": "e", "document": 1, "decision": "reject", "message": "a\\u001bb"}', "invalid", "message"),
        (b"\xff\xfe", "parse_error", None),
    ],
)
def test_a_signed_but_malformed_body_is_400(vendor, body, code, field):
    answer = assert_error(send(body), 400, code)
    if field:
        assert field in answer["fields"]
    assert not VendorEvent.objects.exists()


def test_a_body_over_the_cap_is_refused_before_it_is_read(vendor, document):
    body = event(document, message="x" * (vendors.MAX_BODY_BYTES + 1))
    assert_error(send(body), 413, "request_too_large")


def test_a_vendor_rotating_its_secret_may_send_two_signatures(vendor, document):
    body, now = event(document), int(time.time())
    old = vendors.signature_of("whsec_" + "o" * 40, now, body)
    new = vendors.signature_of(SECRET, now, body)
    assert send(body, signature=f"t={now},v1={old},v1={new}").status_code == 200


def test_the_secret_is_required_long_and_never_audited(db):
    actor = SystemActor("tests")
    with pytest.raises(ValidationFailed) as caught:
        vendors.vendor_save(actor=actor, slug="v", name="V")
    assert "secret" in caught.value.fields
    with pytest.raises(ValidationFailed):
        vendors.vendor_save(actor=actor, slug="v", name="V", secret="short")
    vendor = vendors.vendor_save(actor=actor, slug="v", name="V", secret=SECRET)
    vendors.vendor_save(actor=actor, vendor=vendor, slug="v", name="V2")  # the secret kept
    vendor.refresh_from_db()
    assert vendor.secret == SECRET and vendor.name == "V2"
    trail = AuditEvent.objects.filter(action__startswith="kyc.vendor_").order_by("id")
    assert [e.data["secret"] for e in trail] == ["set", "kept"]
    assert all(SECRET not in json.dumps(e.data) for e in trail)


def test_the_documented_example_verifies():
    body = (
        b'{"event_id": "evt_0001", "document": 31, "decision": "reject", "reason_code": "unreadable", '
        b'"message": "Blurred."}'
    )
    header = "t=1764756000,v1=95dbc1e50cf58e458e125de592a89c5c771fb90ad8d3542de1acde050135359f"
    secret = "whsec_example_0123456789abcdef0123456789"
    assert vendors.verify_signature(secret=secret, header=header, body=body, tolerance_seconds=300, now=1764756100)
    assert header in (Path(settings.BASE_DIR) / "docs" / "KYC.md").read_text()


@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_of_one_event_apply_it_once(vendor, document):
    """Six deliveries of one event at once: one applied, the others 409 (the first commits, the rest find its
    row or fail the unique constraint after waiting on the document's lock); one decision."""
    body, n = event(document, "evt_race", "reject", reason_code="unreadable"), 6
    barrier = threading.Barrier(n)
    outcomes: list[str] = []

    def deliver() -> None:
        try:
            barrier.wait()
            received = vendors.vendor_event_receive(
                slug="acme", signature=vendors.signature_header(SECRET, body), body=body
            )
            outcomes.append("applied" if received.applied else "not applied")
        except ApplicationError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["applied"] + ["event_replayed"] * (n - 1)
    assert VendorEvent.objects.filter(event_id="evt_race").count() == 1
    assert DocumentDecision.objects.filter(document=document).count() == 1
