"""The vendor webhook: an external verification vendor posts its decision on one of our documents, signed.

Protocol (docs/KYC.md, "Vendor webhook"): ``POST /api/v1/kyc/vendors/<slug>/events/`` with a JSON body
``{"event_id", "document", "decision", "reason_code"?, "message"?}`` and the header
``X-Pitboss-Signature: t=<unix seconds>,v1=<hex>``, where ``v1`` is HMAC-SHA256 under the vendor's secret of
``"<t>.<raw body>"`` (the bytes as sent, before any parsing). Several ``v1`` may be sent (a vendor rotating its
secret signs with both); one that matches is enough. Every comparison is constant-time.

Order of the checks, which is also the order of the answers: the body's size (413, before it is read), the vendor
(404 for an unknown or inactive slug: the same answer, so the URL tells a prober nothing), the signature (401),
the timestamp within the vendor's ``tolerance_seconds`` (401), the JSON (400), the replay (409: the
``(vendor, event_id)`` unique constraint), the document (404, nothing recorded), then the decision through
``documents.vendor_decide`` and the ``VendorEvent`` row, in one transaction. A document that is no longer pending
is not decided again: the event is recorded with the outcome ``not_pending`` (or ``needs_officers`` for a source of
funds, which only two officers approve) and answered 200 with ``"applied": false``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from apps.audit.services import AuditActor, audit_log
from apps.core.errors import ValidationFailed
from apps.kyc import documents
from apps.kyc.choices import FUNDS_DOCUMENTS, Decision, DocumentState
from apps.kyc.errors import (
    DocumentNotFound,
    SignatureInvalid,
    SignatureStale,
    VendorEventReplayed,
    VendorEventUnparsable,
    VendorNotFound,
)
from apps.kyc.models import Document, Vendor, VendorEvent
from apps.players.validation import has_control_characters

SIGNATURE_HEADER = "X-Pitboss-Signature"
MAX_BODY_BYTES = 64 * 1024  # a decision is a few hundred bytes
MAX_SIGNATURES = 8  # v1 entries looked at in one header
DECISIONS = (Decision.APPROVE, Decision.REJECT, Decision.REQUEST_REVISION)
MAX_DEPTH = 32
MIN_SECRET_LENGTH = 32
MAX_TOLERANCE_SECONDS = 3600


@transaction.atomic
def vendor_save(
    *,
    actor: AuditActor,
    vendor: Vendor | None = None,
    slug: str,
    name: str,
    secret: str | None = None,
    active: bool = True,
    tolerance_seconds: int = 300,
) -> Vendor:
    """Create a vendor (``secret`` required) or change one (``secret`` None or empty keeps the stored one).
    Audited without the secret: the trail says only that it was set or replaced."""
    fields: dict[str, list[str]] = {}
    secret = (secret or "").strip()
    if vendor is None and not secret:
        fields["secret"] = ["Required: the shared HMAC key the vendor signs with."]
    elif secret and (len(secret) < MIN_SECRET_LENGTH or not secret.isprintable() or not secret.isascii()):
        fields["secret"] = [f"At least {MIN_SECRET_LENGTH} printable ASCII characters."]
    if not 1 <= tolerance_seconds <= MAX_TOLERANCE_SECONDS:
        fields["tolerance_seconds"] = [f"Between 1 and {MAX_TOLERANCE_SECONDS} seconds."]
    others = Vendor.objects.filter(slug=slug)
    if (others.exclude(pk=vendor.pk) if vendor is not None else others).exists():
        fields["slug"] = ["Another vendor has this slug."]
    if fields:
        raise ValidationFailed("The vendor is not valid.", fields=fields)
    created = vendor is None
    row = Vendor() if vendor is None else Vendor.objects.select_for_update().get(pk=vendor.pk)
    before = {"slug": row.slug, "name": row.name, "active": row.active, "tolerance_seconds": row.tolerance_seconds}
    row.slug, row.name, row.active, row.tolerance_seconds = slug, name, active, tolerance_seconds
    if secret:
        row.secret = secret  # type: ignore[assignment]  # an encrypted text field
    row.save()
    after = {"slug": slug, "name": name, "active": active, "tolerance_seconds": tolerance_seconds}
    audit_log(
        actor=actor,
        action="kyc.vendor_created" if created else "kyc.vendor_changed",
        target=row,
        data={
            "changed": {k: [before[k], v] for k, v in after.items() if created or before[k] != v},
            "secret": "set" if created else ("replaced" if secret else "kept"),
        },
    )
    return row


def signature_of(secret: str, timestamp: int | str, body: bytes) -> str:
    """The ``v1`` value: hex HMAC-SHA256 of ``"<timestamp>.<body>"`` under the vendor's secret."""
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    """What a vendor sends (for tests, the demo and vendors' integration guides)."""
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={signature_of(secret, t, body)}"


def _parse_header(header: str | None) -> tuple[str, list[str]]:
    if not header:
        raise SignatureInvalid(f"Sign the body: send {SIGNATURE_HEADER}: t=<unix seconds>,v1=<hex>.")
    timestamp, signatures = "", []
    for item in header.split(",")[: MAX_SIGNATURES + 1]:
        name, _, value = item.strip().partition("=")
        if name == "t" and not timestamp:
            timestamp = value
        elif name == "v1":
            signatures.append(value)
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12) or not signatures:
        raise SignatureInvalid(f"{SIGNATURE_HEADER} must be t=<unix seconds>,v1=<hex>.")
    return timestamp, signatures[:MAX_SIGNATURES]


def verify_signature(*, secret: str, header: str | None, body: bytes, tolerance_seconds: int, now: float) -> int:
    """The signed timestamp, once the header's ``v1`` matches the body (``signature_invalid``) and the timestamp
    is within ``tolerance_seconds`` of ``now`` either way (``signature_stale``)."""
    timestamp, signatures = _parse_header(header)
    expected = signature_of(secret, timestamp, body).encode()
    matched = False
    for candidate in signatures:  # every candidate compared, in constant time each
        matched |= hmac.compare_digest(expected, candidate.strip().lower().encode("ascii", "replace"))
    if not matched:
        raise SignatureInvalid("The signature does not match the body.")
    signed_at = int(timestamp)
    if abs(now - signed_at) > tolerance_seconds:
        raise SignatureStale(
            f"The signature's timestamp is more than {tolerance_seconds} s from now: sign each delivery afresh.",
            fields={"t": [str(signed_at)], "now": [str(int(now))]},
        )
    return signed_at


@dataclass(frozen=True)
class EventReceived:
    event: VendorEvent
    document: Document
    applied: bool


def _parse_event(body: bytes) -> dict[str, Any]:
    try:
        raw = json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
    except RecursionError:
        raise VendorEventUnparsable(f"JSON nested deeper than {MAX_DEPTH} levels.") from None
    except ValueError as exc:
        raise VendorEventUnparsable(f"JSON parse error - {exc}") from None
    if not isinstance(raw, dict):
        raise ValidationFailed("Send a JSON object.", fields={"non_field_errors": ["Expected an object."]})
    fields: dict[str, list[str]] = {}
    event_id = raw.get("event_id")
    if not isinstance(event_id, str) or not 1 <= len(event_id) <= 100 or not event_id.isprintable():
        fields["event_id"] = ["Required: the event's own id, 1 to 100 printable characters."]
    document = raw.get("document")
    if not isinstance(document, int) or isinstance(document, bool) or not 1 <= document < 2**63:
        fields["document"] = ["Required: our document's id (an integer)."]
    decision = raw.get("decision")
    if decision not in DECISIONS:
        fields["decision"] = [f"One of: {', '.join(DECISIONS)}."]
    texts = {}
    for name, limit in (("reason_code", 24), ("message", 1000)):
        value = raw.get(name, "")
        if value is None:
            value = ""
        if not isinstance(value, str) or len(value) > limit:
            fields[name] = [f"A text of at most {limit} characters."]
        elif has_control_characters(value, multiline=name == "message") or "\x00" in value:
            fields[name] = ["Control characters are not allowed."]
        else:
            texts[name] = value.strip()
    if fields:
        raise ValidationFailed("The event is not valid.", fields=fields)
    return {"event_id": event_id, "document": document, "decision": decision, **texts}


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def vendor_event_receive(*, slug: str, signature: str | None, body: bytes, now: float | None = None) -> EventReceived:
    """Verify, record and apply one vendor event (see the module docstring for the order and the answers).
    Side effects when applied: the document's decision, its audit event, the level it changes and the platform's
    webhook (``documents.vendor_decide``); always, the append-only ``VendorEvent`` row."""
    vendor = Vendor.objects.filter(slug=slug, active=True).first()
    if vendor is None:
        raise VendorNotFound("No active vendor has this slug.")
    verify_signature(
        secret=vendor.secret,
        header=signature,
        body=body,
        tolerance_seconds=vendor.tolerance_seconds,
        now=time.time() if now is None else now,
    )
    event = _parse_event(body)
    digest = hashlib.sha256(body).hexdigest()
    with transaction.atomic():
        if VendorEvent.objects.filter(vendor=vendor, event_id=event["event_id"]).exists():
            raise VendorEventReplayed(
                "This event was already received; it is not applied again.", fields={"event_id": [event["event_id"]]}
            )
        document = Document.objects.filter(pk=event["document"]).first()
        if document is None:
            raise DocumentNotFound("No document has this id.", fields={"document": [str(event["document"])]})
        document, applied = documents.vendor_decide(
            vendor=vendor.slug,
            document=document,
            decision=event["decision"],
            reason_code=event.get("reason_code", ""),
            message=event.get("message", ""),
        )
        if applied:
            outcome = f"applied:{document.state}"
        elif document.state == DocumentState.PENDING and document.type in FUNDS_DOCUMENTS:
            outcome = "needs_officers"
        else:
            outcome = "not_pending"
        try:
            with transaction.atomic():  # a concurrent delivery of the same event: the unique constraint decides
                row = VendorEvent.objects.create(
                    vendor=vendor, event_id=event["event_id"], document=document, outcome=outcome, payload_sha256=digest
                )
        except IntegrityError:
            raise VendorEventReplayed(
                "This event was already received; it is not applied again.", fields={"event_id": [event["event_id"]]}
            ) from None
    return EventReceived(event=row, document=document, applied=applied)
