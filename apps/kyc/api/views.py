"""The platform's KYC API and the vendors' webhook: every view parses its input, calls one service, and answers.

- ``GET players/{external_id}/kyc/`` (``players:read``): the level, the open requirements, the latest documents.
- ``POST players/{external_id}/kyc/documents/`` (``kyc:write``, multipart, ``Idempotency-Key``): a document upload.
  The file is received in memory and stopped at the limit (apps/kyc/uploads.py); the key stands for the path, the
  form's fields and the file's SHA-256 (the bytes themselves are not hashed into the stored record twice).
- ``POST kyc/vendors/{slug}/events/``: no API key; authenticated by the vendor's signature (apps/kyc/vendors.py).
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.commands import Body, CommandView, client_player
from apps.api.schema import error_responses
from apps.api.scopes import Scope
from apps.core.errors import ValidationFailed
from apps.kyc import documents, vendors
from apps.kyc.api import serializers as ks
from apps.kyc.choices import DocumentState, RequirementState, Source, platform_trigger
from apps.kyc.models import Document, KycProfile, Requirement
from apps.kyc.uploads import uploaded_file, use_kyc_upload_handler

DOCUMENTS_SHOWN = 100
# A message on these states is meant for the player; on an approval it may be an officer's note (a level 3
# approval carries the first officer's reason), which the platform is not shown.
PLAYER_MESSAGES = frozenset({DocumentState.REJECTED, DocumentState.REVISION_REQUESTED, DocumentState.EXPIRED})
UPLOAD_FIELDS = ("type", "issuing_country", "expires_on", "number")


def document_dict(document: Document) -> dict[str, Any]:
    """What the platform may know of a document: never its number, its file or its stored name."""
    return {
        "id": document.pk,
        "type": document.type,
        "state": document.state,
        "issuing_country": document.issuing_country,
        "expires_on": document.expires_on.isoformat() if document.expires_on else None,
        "uploaded_at": document.uploaded_at.isoformat(),
        "decided_at": document.decided_at.isoformat() if document.decided_at else None,
        "rejection_reason": document.rejection_reason or None,
        "message": (document.message or None) if document.state in PLAYER_MESSAGES else None,
    }


def requirement_dict(requirement: Requirement, now: Any) -> dict[str, Any]:
    return {
        "id": requirement.pk,
        "level": requirement.level,
        "trigger": platform_trigger(requirement.trigger),  # never "compliance" or a screening match
        "due_at": requirement.due_at.isoformat(),
        "overdue": requirement.due_at <= now,
        "restricts": list(requirement.restricts),
        "restricts_when_overdue": list(requirement.restricts_when_overdue),
    }


class KycView(APIView):
    required_scopes = frozenset({Scope.PLAYERS_READ})

    @extend_schema(
        operation_id="kyc_overview",
        summary="The player's KYC level, open requirements (due dates, what they restrict) and documents",
        responses={200: ks.KycOutput, **error_responses({404: ("player_not_found",)})},
    )
    def get(self, request: Request, external_id: str) -> Response:
        player = client_player(request, external_id)
        now = timezone.now()
        level = KycProfile.objects.filter(player=player).values_list("level", flat=True).first() or 0
        requirements = Requirement.objects.filter(player=player, state=RequirementState.OPEN).order_by("due_at", "pk")
        shown = Document.objects.filter(player=player).order_by("-uploaded_at", "-pk")[:DOCUMENTS_SHOWN]
        return Response(
            {
                "level": level,
                "requirements": [requirement_dict(r, now) for r in requirements],
                "documents": [document_dict(d) for d in shown],
            }
        )


class DocumentUploadView(CommandView):
    required_scopes = frozenset({Scope.KYC_WRITE})
    idempotent = True
    parser_classes = [MultiPartParser]
    request_serializer = ks.DocumentUploadInput
    responses = {201: ks.DocumentEnvelope}
    errors = {
        400: ("invalid", "idempotency_key_required", "document_invalid", "document_expired", "file_corrupt"),
        404: ("player_not_found",),
        409: ("idempotency_conflict",),
        413: ("file_too_large",),
        415: ("file_type_not_allowed",),
    }
    openapi = {
        "operation_id": "kyc_document_upload",
        "summary": "Upload a KYC document (multipart); it waits in the player's review",
        "description": "Validated before anything is kept (size, content sniffed, images re-encoded, PDFs "
        "checked): a refusal keeps no row and no file. Needs an Idempotency-Key: a retry with the same key, "
        "fields and file answers the first answer (a refusal included); another file under the key is 409.",
    }

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        use_kyc_upload_handler(request)  # before anything reads the body: in memory, stopped at the limit
        super().initial(request, *args, **kwargs)

    def _parse(self, request: Request) -> Body:
        upload = uploaded_file(request, "file")  # 413 file_too_large if the handler stopped the upload
        if upload is None:
            raise ValidationFailed("Send the document as the file part.", fields={"file": ["No file was submitted."]})
        data = super()._parse(request)
        digest = hashlib.sha256()
        for chunk in upload.chunks():
            digest.update(chunk)
        upload.seek(0)
        self._file_sha256 = digest.hexdigest()
        return data

    def idempotency_payload(self, request: Request) -> Any:
        form: Any = request.data  # a QueryDict of the form's parts (the parser is multipart only)
        fields = {name: form.get(name) for name in UPLOAD_FIELDS if name in form}
        return {"path": request.path, "fields": fields, "file_sha256": self._file_sha256}

    def perform(self, data: Body) -> dict[str, Any]:
        upload = data["file"]
        document = documents.document_upload(
            actor=self.client,
            player=self.player,
            document_type=data["type"],
            data=upload,
            source=Source.API,
            declared_name=upload.name,
            declared_type=upload.content_type,
            issuing_country=data.get("issuing_country") or "",
            expires_on=data.get("expires_on"),
            number=data.get("number") or "",
            api_client=self.client.prefix,
        )
        return {"document": document_dict(document)}


SIGNATURE = OpenApiParameter(
    vendors.SIGNATURE_HEADER,
    {"type": "string", "maxLength": 1000},
    OpenApiParameter.HEADER,
    required=True,
    description="t=<unix seconds>,v1=<hex HMAC-SHA256 of '<t>.<raw body>' under the vendor's secret>",
)


class VendorEventView(APIView):
    # Signed by the vendor, not an API key: no authentication class, no scope (tests/api/test_route_declarations
    # lists the route). The body is read raw, because the signature covers the bytes as sent.
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []
    throttle_classes: list[Any] = []
    parser_classes: list[Any] = []

    @extend_schema(
        operation_id="kyc_vendor_event",
        summary="A verification vendor's decision on a document (signed webhook; no API key)",
        description="See docs/KYC.md, 'Vendor webhook'. 200 also when the document was already decided: the "
        "event is recorded and `applied` is false. Retry on 5xx, 429 and network errors with the same event_id "
        "and a fresh signature; 409 event_replayed means it was received.",
        request={"application/json": ks.VendorEventInput},
        parameters=[SIGNATURE],
        responses={
            200: ks.VendorEventOutput,
            **error_responses(
                {
                    400: ("invalid", "parse_error"),
                    401: ("signature_invalid", "signature_stale"),
                    404: ("vendor_not_found", "document_not_found"),
                    409: ("event_replayed",),
                    413: ("request_too_large",),
                }
            ),
        },
        auth=[],
        examples=[
            OpenApiExample(
                "A rejection",
                {"event_id": "evt_1", "document": 1, "decision": "reject", "reason_code": "unreadable"},
                request_only=True,
            )
        ],
    )
    def post(self, request: Request, slug: str) -> Response:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > vendors.MAX_BODY_BYTES:  # refused before it is read
            raise RequestDataTooBig(f"A vendor event is at most {vendors.MAX_BODY_BYTES} bytes.")
        received = vendors.vendor_event_receive(
            slug=slug, signature=request.headers.get(vendors.SIGNATURE_HEADER), body=request.body
        )
        return Response(
            {
                "event_id": received.event.event_id,
                "document": received.document.pk,
                "applied": received.applied,
                "outcome": received.event.outcome,
                "state": received.document.state,
            }
        )
